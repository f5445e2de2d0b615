// How likely the model finds the data: the likelihood each loss stands for, the importance-weighted
// (IWAE) estimate of log p(x), and the active units of the latent space.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <functional>
#include <string>

#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/encoder_health.hpp"
#include "vae_cnn/model/loss.hpp"

namespace vae_cnn {

/// The pixel model a loss implies: log p(x|z) = -reconstruction - constant_nats.
struct PixelLikelihood {
  std::string description;  ///< e.g. "Bernoulli per pixel"
  double constant_nats = 0;
};

/// --bce: Bernoulli pixels, constant 0. MSE: the summed squared error is, up to the constant
/// (pixels/2)·ln(π), minus the log-density of a Gaussian with variance 1/2 per pixel.
PixelLikelihood pixel_likelihood(LossKind loss, std::int64_t pixels);

/// For each image of `images` (on the model's device) the IWAE bound
/// log (1/K) Σ_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x), computed with log-sum-exp over the K
/// samples; K = 1 is a one-sample ELBO. ε comes from a CPU generator seeded `seed`; at most
/// `max_decodes` images are decoded at once. Returns [N] float64 on the CPU, in nats.
/// `progress`, when given, hears (samples drawn so far, samples in all) after every decode pass:
/// K = 100,000 on the test split runs for hours.
using SampleProgress = std::function<void(std::int64_t done, std::int64_t total)>;
torch::Tensor importance_weighted_bound(ConvVae& model, const ImageSource& images, LossKind loss,
                                        std::int64_t samples, std::uint64_t seed, std::int64_t max_decodes = 1024,
                                        const SampleProgress& progress = {});

/// Latent dimensions whose posterior mean varies across images, Var_x(z_mean) > threshold (the
/// usual "active units" of Burda et al.). z_mean: [N,latent].
std::int64_t active_units(const torch::Tensor& z_mean, double threshold = kActiveLatentVariance);

}  // namespace vae_cnn
