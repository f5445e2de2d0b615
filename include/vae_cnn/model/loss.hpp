// The VAE's loss terms, as pure functions of tensors.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

#include "vae_cnn/model/conv_vae.hpp"

namespace vae_cnn {

enum class LossKind { kMse, kBce };

/// The largest KL weight β: one this large already makes the code carry nothing; beyond it the
/// loss overflows.
constexpr double kMaxBeta = 1e6;

/// "mse" or "bce", as files and logs spell it.
std::string to_string(LossKind kind);
/// Parses "mse"/"bce"; throws std::invalid_argument otherwise.
LossKind parse_loss_kind(const std::string& text);

/// Batch means of the loss terms (scalars); total = reconstruction + beta·kl.
struct VaeLoss {
  torch::Tensor total;
  torch::Tensor reconstruction;
  torch::Tensor kl;
};

/// Per-image reconstruction loss summed over pixels: logits, x [N,1,28,28] -> [N].
/// MSE compares sigmoid(logits) with x; BCE is computed from the logits, finite even where the
/// sigmoid rounds to exactly 0 or 1.
torch::Tensor reconstruction_loss(const torch::Tensor& logits, const torch::Tensor& x, LossKind kind);

/// Per-image KL(q(z|x) || N(0, I)) = -0.5·Σ(1 + log σ² − μ² − σ²): [N,latent] -> [N].
torch::Tensor kl_divergence(const torch::Tensor& z_mean, const torch::Tensor& z_log_var);

/// The VAE loss of one batch: per-image means of reconstruction, KL and their weighted sum.
VaeLoss vae_loss(const VaeOutput& output, const torch::Tensor& x, LossKind kind, double beta);

}  // namespace vae_cnn
