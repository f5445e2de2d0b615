#include "vae_cnn/train/unit_revival.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "vae_cnn/train/optimizer_state.hpp"

namespace vae_cnn {
namespace {

// A fresh row rarely misses every probe image (the features are non-negative and the draw is
// symmetric), but one that does would be dead on arrival; a few redraws settle it.
constexpr int kDrawsPerUnit = 8;

// Not const: a module's forward pass is not a const member in LibTorch.
// cppcheck-suppress constParameter
torch::Tensor probe_features(ConvVae& model, const torch::Tensor& probe, std::int64_t batch_size) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t start = 0; start < probe.size(0); start += batch_size) {
    parts.push_back(model->encoder->features(probe.slice(0, start, std::min(probe.size(0), start + batch_size))));
  }
  return torch::cat(parts);  // [N,3136]
}

}  // namespace

std::int64_t revive_dead_hidden_units(ConvVae& model, torch::optim::Optimizer& optimizer, const torch::Tensor& probe,
                                      std::int64_t batch_size) {
  TORCH_CHECK(probe.size(0) >= 1, "revive_dead_hidden_units: needs at least one probe image");
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  auto& encoder = *model->encoder;
  const auto features = probe_features(model, probe, batch_size);
  model->train(was_training);
  auto& weight = encoder.fc->weight;  // [16,3136]
  auto& bias = encoder.fc->bias;
  const auto peaks = std::get<0>(torch::addmm(bias, features, weight.t()).max(0));
  const auto dead_units = peaks.le(0).nonzero().view(-1).cpu();  // one read-back for all units
  const std::vector<std::int64_t> dead(dead_units.data_ptr<std::int64_t>(),
                                       dead_units.data_ptr<std::int64_t>() + dead_units.numel());
  if (dead.empty()) return 0;
  const double fan_in = static_cast<double>(weight.size(1)), fan_out = static_cast<double>(weight.size(0));
  const double bound = std::sqrt(6.0 / (fan_in + fan_out));  // Keras' glorot_uniform for this layer
  for (const std::int64_t unit : dead) {
    torch::Tensor row;
    for (int draw = 0; draw < kDrawsPerUnit; ++draw) {
      row = torch::empty({weight.size(1)}, torch::kFloat32).uniform_(-bound, bound).to(weight.device());
      if (features.matmul(row).max().item<float>() > 0) break;
    }
    weight[unit].copy_(row);
  }
  const auto index = torch::tensor(dead, torch::kLong).to(weight.device());
  bias.index_fill_(0, index, 0);
  clear_state_slices(optimizer, weight, 0, index);
  clear_state_slices(optimizer, bias, 0, index);
  for (auto* head : {&encoder.z_mean, &encoder.z_log_var}) {
    (*head)->weight.index_fill_(1, index, 0);
    clear_state_slices(optimizer, (*head)->weight, 1, index);
  }
  return static_cast<std::int64_t>(dead.size());
}

}  // namespace vae_cnn
