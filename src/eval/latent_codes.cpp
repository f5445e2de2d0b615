// The encoder alone: no sampling, so `encode` is deterministic and comparable across tools.
#include "vae_cnn/eval/latent_codes.hpp"

#include <cstdio>

namespace vae_cnn {

LatentCodes encode_dataset(ConvVae& model, const Dataset& data, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->parameters().front().device();
  std::vector<torch::Tensor> means, log_vars;
  for (std::int64_t start = 0; start < data.size(); start += batch_size) {
    const auto images = data.images(start, std::min(data.size(), start + batch_size)).to(device);
    auto [z_mean, z_log_var] = model->encoder->forward(images);
    means.push_back(z_mean.to(torch::kCPU));
    log_vars.push_back(z_log_var.to(torch::kCPU));
  }
  const auto latent = model->options().latent_dim();
  LatentCodes codes;
  codes.z_mean = means.empty() ? torch::zeros({0, latent}) : torch::cat(means);
  codes.z_log_var = log_vars.empty() ? torch::zeros({0, latent}) : torch::cat(log_vars);
  codes.labels = data.labels.to(torch::kCPU);
  return codes;
}

std::string latent_codes_csv(const LatentCodes& codes) {
  const std::int64_t n = codes.z_mean.size(0);
  const std::int64_t latent = codes.z_mean.size(1);
  std::string text = "index,label";
  for (std::int64_t d = 0; d < latent; ++d) text += ",z_mean_" + std::to_string(d);
  for (std::int64_t d = 0; d < latent; ++d) text += ",z_log_var_" + std::to_string(d);
  text += '\n';
  const auto mean = codes.z_mean.to(torch::kFloat64).contiguous();
  const auto log_var = codes.z_log_var.to(torch::kFloat64).contiguous();
  const auto labels = codes.labels.contiguous();
  const auto m = mean.accessor<double, 2>();
  const auto v = log_var.accessor<double, 2>();
  const auto l = labels.accessor<std::int64_t, 1>();
  char number[32];
  for (std::int64_t i = 0; i < n; ++i) {
    text += std::to_string(i) + "," + std::to_string(l[i]);
    for (std::int64_t d = 0; d < latent; ++d) {
      std::snprintf(number, sizeof number, ",%.9g", m[i][d]);
      text += number;
    }
    for (std::int64_t d = 0; d < latent; ++d) {
      std::snprintf(number, sizeof number, ",%.9g", v[i][d]);
      text += number;
    }
    text += '\n';
  }
  return text;
}

}  // namespace vae_cnn
