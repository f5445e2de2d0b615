// Loss terms of the seed: reconstruction summed over the 784 pixels, KL of a diagonal Gaussian.
#include "vae_cnn/model/loss.hpp"

#include <stdexcept>

namespace vae_cnn {

std::string to_string(LossKind kind) { return kind == LossKind::kBce ? "bce" : "mse"; }

LossKind parse_loss_kind(const std::string& text) {
  if (text == "mse") return LossKind::kMse;
  if (text == "bce") return LossKind::kBce;
  throw std::invalid_argument("unknown loss kind '" + text + "', expected mse or bce");
}

torch::Tensor reconstruction_loss(const torch::Tensor& logits, const torch::Tensor& x, LossKind kind) {
  const auto per_pixel =
      kind == LossKind::kBce
          ? torch::binary_cross_entropy_with_logits(logits, x, /*weight=*/{}, /*pos_weight=*/{},
                                                    at::Reduction::None)
          : (torch::sigmoid(logits) - x).square();
  return per_pixel.flatten(1).sum(1);
}

torch::Tensor kl_divergence(const torch::Tensor& z_mean, const torch::Tensor& z_log_var) {
  return -0.5 * (1 + z_log_var - z_mean.square() - z_log_var.exp()).sum(1);
}

VaeLoss vae_loss(const VaeOutput& output, const torch::Tensor& x, LossKind kind, double beta) {
  auto reconstruction = reconstruction_loss(output.logits, x, kind).mean();
  auto kl = kl_divergence(output.z_mean, output.z_log_var).mean();
  return {reconstruction + beta * kl, reconstruction, kl};
}

}  // namespace vae_cnn
