#include "vae_cnn/train/train_config.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

void require(bool ok, const std::string& message) {
  if (!ok) throw UsageError(message);
}

}  // namespace

std::string to_string(OptimizerKind kind) { return kind == OptimizerKind::kRmsprop ? "rmsprop" : "adam"; }

OptimizerKind parse_optimizer_kind(const std::string& text) {
  if (text == "adam") return OptimizerKind::kAdam;
  if (text == "rmsprop") return OptimizerKind::kRmsprop;
  throw std::invalid_argument("'" + text + "', expected adam or rmsprop");
}

void validate_train_config(const TrainConfig& config) {
  require(config.epochs >= 1 && config.epochs <= kMaxEpochs,
          "--epochs must be between 1 and " + std::to_string(kMaxEpochs) + ", got " + std::to_string(config.epochs));
  require(config.batch_size >= 1 && config.batch_size <= 1000000,
          "--batch-size must be between 1 and 1000000, got " + std::to_string(config.batch_size));
  try {
    check_latent_dim(config.latent_dim);
  } catch (const std::invalid_argument& error) {
    throw UsageError(std::string("--latent-dim: ") + error.what());
  }
  require(std::isfinite(config.learning_rate) && config.learning_rate > 0,
          "--lr must be a positive number, got " + number_text(config.learning_rate));
  require(std::isfinite(config.beta) && config.beta >= 0 && config.beta <= kMaxBeta,
          "--beta must be between 0 and 1000000, got " + number_text(config.beta));
  require(config.kl_warmup >= 0 && config.kl_warmup <= 1000000,
          "--kl-warmup must be 0 or more epochs, got " + std::to_string(config.kl_warmup));
  require(config.lr_warmup >= 0 && config.lr_warmup <= 1000000000,
          "--lr-warmup must be between 0 and 1000000000 steps, got " + std::to_string(config.lr_warmup));
  require(config.revive_epochs >= 0 && config.revive_epochs <= kMaxEpochs,
          "--revive must be between 0 (never) and 1000000 epochs, got " + std::to_string(config.revive_epochs));
  require(config.threads >= 0 && config.threads <= 1024, "--threads must be between 0 (all cores) and 1024, got " + std::to_string(config.threads));
  require(config.limit >= 0, "--limit must be 0 (all images) or more, got " + std::to_string(config.limit));
  require(!config.out_dir.empty(), "--out: the folder name is empty, expected an output folder");
  require(!config.data_dir.empty(), "--data: the folder name is empty, expected a data folder");
}

}  // namespace vae_cnn
