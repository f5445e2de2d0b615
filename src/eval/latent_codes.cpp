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

namespace {

// A field as RFC 4180 writes it: quoted, its quotes doubled, when it holds a comma, a quote or a
// line break (class folders may be named anything).
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\r\n") == std::string::npos) return text;
  std::string quoted = "\"";
  for (const char c : text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  return quoted + "\"";
}

}  // namespace

std::string latent_codes_csv(const LatentCodes& codes, const std::vector<std::string>& class_names) {
  const std::int64_t n = codes.z_mean.size(0);
  const std::int64_t latent = codes.z_mean.size(1);
  std::vector<std::string> class_fields;
  for (const std::string& name : class_names) class_fields.push_back(csv_field(name));
  std::string text = "index,label,class";
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
    const bool named = l[i] >= 0 && static_cast<std::size_t>(l[i]) < class_fields.size();
    text += std::to_string(i) + "," + std::to_string(l[i]) + "," + (named ? class_fields[l[i]] : std::string());
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
