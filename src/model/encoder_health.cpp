#include "vae_cnn/model/encoder_health.hpp"

#include <algorithm>
#include <cmath>

namespace vae_cnn {

bool EncoderHealth::uses_input() const {
  return hidden_alive > 0 && z_mean_spread >= kDeadEncoderSpread;
}

EncoderHealth encoder_health(ConvVae& model, const ImageSource& images, std::int64_t batch_size) {
  TORCH_CHECK(images.size() >= 2, "encoder_health: needs at least 2 images, got ", images.size());
  TORCH_CHECK(batch_size >= 1, "encoder_health: batch_size must be at least 1, got ", batch_size);
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const std::int64_t n = images.size();
  torch::Tensor peak;  // per hidden unit, its largest output over the images
  std::vector<torch::Tensor> means;
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const auto batch = images.between(start, std::min(n, start + batch_size));
    const auto units = model->encoder->hidden(batch);
    const auto batch_peak = std::get<0>(units.max(0));
    peak = peak.defined() ? torch::maximum(peak, batch_peak) : batch_peak;
    means.push_back(model->encoder->z_mean->forward(units));
  }
  model->train(was_training);
  EncoderHealth health;
  health.hidden_units = peak.size(0);
  health.hidden_alive = peak.gt(0).sum().item<std::int64_t>();
  const auto z_mean = torch::cat(means).to(torch::kFloat64);
  const auto variance = (z_mean - z_mean.mean(0, /*keepdim=*/true)).pow(2).sum(0) / static_cast<double>(n - 1);
  health.z_mean_spread = std::sqrt(variance.max().item<double>());
  return health;
}

}  // namespace vae_cnn
