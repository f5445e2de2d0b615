#include "vae_cnn/train/train_config.hpp"

#include <stdexcept>

namespace vae_cnn {

std::string to_string(OptimizerKind kind) { return kind == OptimizerKind::kRmsprop ? "rmsprop" : "adam"; }

OptimizerKind parse_optimizer_kind(const std::string& text) {
  if (text == "adam") return OptimizerKind::kAdam;
  if (text == "rmsprop") return OptimizerKind::kRmsprop;
  throw std::invalid_argument("'" + text + "', expected adam or rmsprop");
}

}  // namespace vae_cnn
