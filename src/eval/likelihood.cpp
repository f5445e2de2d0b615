// log w_k = log p(x|z_k) + log N(z_k; 0, I) - log N(z_k; μ, σ²), with z_k = μ + σ ε_k; summed in
// float64 so that K = 1000 weights of a few hundred nats each lose nothing in the log-sum-exp.
#include "vae_cnn/eval/likelihood.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace vae_cnn {
namespace {

const double kLogTwoPi = std::log(2.0 * M_PI);

// Σ over the latent dimensions of log N(value; 0, 1).
torch::Tensor standard_normal_log_density(const torch::Tensor& value) {
  return -0.5 * (value.square() + kLogTwoPi).sum(-1);
}

}  // namespace

PixelLikelihood pixel_likelihood(LossKind loss, std::int64_t pixels) {
  if (loss == LossKind::kBce) return {"Bernoulli per pixel: log p(x|z) = -binary cross-entropy", 0.0};
  return {"Gaussian per pixel with variance 1/2: log p(x|z) = -squared error - (pixels/2)*ln(pi)",
          0.5 * static_cast<double>(pixels) * std::log(M_PI)};
}

torch::Tensor importance_weighted_bound(ConvVae& model, const ImageSource& images, LossKind loss,
                                        std::int64_t samples, std::uint64_t seed, std::int64_t max_decodes,
                                        const SampleProgress& progress) {
  TORCH_CHECK(samples >= 1, "importance_weighted_bound: samples must be at least 1");
  torch::NoGradGuard no_grad;
  model->eval();
  at::Generator noise = at::detail::createCPUGenerator(seed);
  const std::int64_t n = images.size();
  const std::int64_t pixels = images.image_numel();
  const double constant = pixel_likelihood(loss, pixels).constant_nats;
  const std::int64_t per_pass = std::max<std::int64_t>(1, std::min(samples, max_decodes));
  const std::int64_t images_per_chunk = std::max<std::int64_t>(1, max_decodes / per_pass);
  std::vector<torch::Tensor> bounds;
  for (std::int64_t first = 0; first < n; first += images_per_chunk) {
    const auto x = images.between(first, std::min(n, first + images_per_chunk));
    const std::int64_t count = x.size(0);
    const auto [z_mean, z_log_var] = model->encoder->forward(x);
    const auto sigma = torch::exp(0.5 * z_log_var);
    std::vector<torch::Tensor> log_weights;
    for (std::int64_t done = 0; done < samples; done += per_pass) {
      const std::int64_t k = std::min(per_pass, samples - done);
      const auto epsilon = standard_normal_like({k, count, z_mean.size(1)}, noise, z_mean);
      const auto z = z_mean.unsqueeze(0) + sigma.unsqueeze(0) * epsilon;  // [k,count,latent]
      const auto logits = model->decoder->forward(z.reshape({k * count, -1}));
      const auto targets = x.unsqueeze(0).expand({k, count, x.size(1), x.size(2), x.size(3)}).reshape(logits.sizes());
      const auto log_p_x = -reconstruction_loss(logits, targets, loss).view({k, count}) - constant;
      const auto log_q = standard_normal_log_density(epsilon) - 0.5 * z_log_var.sum(-1).unsqueeze(0);
      log_weights.push_back((log_p_x + standard_normal_log_density(z) - log_q).to(torch::kCPU, torch::kFloat64));
      if (progress) progress(first * samples + count * (done + k), n * samples);
    }
    bounds.push_back(torch::logsumexp(torch::cat(log_weights, 0), 0) - std::log(static_cast<double>(samples)));
  }
  return torch::cat(bounds, 0);
}

std::int64_t active_units(const torch::Tensor& z_mean, double threshold) {
  if (z_mean.size(0) < 2) return 0;
  return z_mean.to(torch::kCPU, torch::kFloat64).var(0).gt(threshold).sum().item<std::int64_t>();
}

}  // namespace vae_cnn
