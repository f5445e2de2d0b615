// The sums stay on the device until the split is done: one host read per evaluation.
#include "vae_cnn/eval/evaluation.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <utility>

namespace vae_cnn {

RowShard shard_rows(std::int64_t rows, int rank, int world_size) {
  return {rows * rank / world_size, rows * (rank + 1) / world_size};
}

VaeOutput in_fp32(VaeOutput output) {
  for (auto* tensor : {&output.logits, &output.reconstruction, &output.z_mean, &output.z_log_var, &output.z}) {
    *tensor = tensor->to(torch::kFloat);
  }
  return output;
}

VaeLoss loss_with_epsilon(ConvVae& model, const torch::Tensor& images, const torch::Tensor& epsilon, LossKind loss,
                          double beta, Precision precision) {
  if (precision == Precision::kFp32) return vae_loss(model->forward_with_epsilon(images, epsilon), images, loss, beta);
  VaeOutput output;
  {
    const AutocastScope autocast(precision, images.device());
    output = model->forward_with_epsilon(images, epsilon);
  }
  return vae_loss(in_fp32(std::move(output)), images, loss, beta);
}

EvalMetrics evaluate(ConvVae& model, const Dataset& data, LossKind loss, double beta, std::int64_t batch_size,
                     std::uint64_t noise_seed, const EvalRanks& ranks) {
  torch::NoGradGuard no_grad;
  model->eval();
  at::Generator noise = at::detail::createCPUGenerator(noise_seed);
  const std::int64_t n = data.size();
  const std::int64_t latent_dim = model->options().latent_dim();
  auto sums = torch::zeros({3}, data.image_options());
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const auto images = data.images(start, std::min(n, start + batch_size));
    // Every rank draws the whole batch's ε, so the generator stays in step with one process's.
    const auto epsilon = standard_normal_like({images.size(0), latent_dim}, noise, images);
    const RowShard rows = shard_rows(images.size(0), ranks.rank, ranks.world_size);
    if (rows.size() == 0) continue;
    const VaeLoss terms = loss_with_epsilon(model, images.slice(0, rows.begin, rows.end),
                                            epsilon.slice(0, rows.begin, rows.end), loss, beta);
    sums += torch::stack({terms.total, terms.reconstruction, terms.kl}) * rows.size();
  }
  if (ranks.sum) ranks.sum(sums);
  EvalMetrics metrics;
  metrics.images = n;
  if (n == 0) return metrics;
  const auto means = (sums / static_cast<double>(n)).to(torch::kCPU, torch::kFloat64);
  metrics.loss = means[0].item<double>();
  metrics.reconstruction = means[1].item<double>();
  metrics.kl = means[2].item<double>();
  return metrics;
}

}  // namespace vae_cnn
