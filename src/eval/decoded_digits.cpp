// Every picture of digits goes through image_bytes, so `decode` and the pictures quantise alike.
#include "vae_cnn/eval/decoded_digits.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include "vae_cnn/eval/latent_grid.hpp"

namespace vae_cnn {

int manifold_rows(int grid, std::int64_t latent_dim) { return latent_dim > 1 ? grid : 1; }

torch::Tensor manifold_latents(int grid, double range, std::int64_t latent_dim) {
  const auto axis = manifold_axis(grid, range);
  const int rows = manifold_rows(grid, latent_dim);
  auto z = torch::zeros({static_cast<std::int64_t>(rows) * grid, latent_dim}, torch::kFloat32);
  auto access = z.accessor<float, 2>();
  for (int row = 0; row < rows; ++row) {
    for (int column = 0; column < grid; ++column) {
      const std::int64_t i = static_cast<std::int64_t>(row) * grid + column;
      access[i][0] = static_cast<float>(axis[static_cast<std::size_t>(column)]);
      if (latent_dim > 1) access[i][1] = static_cast<float>(axis[static_cast<std::size_t>(grid - 1 - row)]);
    }
  }
  return z;
}

torch::Tensor standard_normal_latents(std::int64_t n, std::int64_t latent_dim, std::uint64_t seed) {
  // A generator of our own: the pictures must not depend on, or disturb, the global one.
  at::Generator generator = at::detail::createCPUGenerator(seed);
  return at::randn({n, latent_dim}, generator, torch::kFloat32);
}

std::vector<std::uint8_t> image_bytes(const torch::Tensor& images) {
  const auto bytes = images.detach().mul(255.0).round().clamp(0, 255).to(torch::kCPU, torch::kUInt8).contiguous();
  return {bytes.data_ptr<std::uint8_t>(), bytes.data_ptr<std::uint8_t>() + bytes.numel()};
}

std::vector<std::uint8_t> decode_to_bytes(ConvVae& model, const torch::Tensor& z, std::int64_t batch_size) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->parameters().front().device();
  std::vector<std::uint8_t> out;
  out.reserve(static_cast<std::size_t>(z.size(0) * model->image_shape().numel()));
  for (std::int64_t start = 0; start < z.size(0); start += batch_size) {
    const auto batch = z.slice(0, start, std::min(z.size(0), start + batch_size)).to(device);
    const auto digits = image_bytes(model->decode(batch));
    out.insert(out.end(), digits.begin(), digits.end());
  }
  return out;
}

torch::Tensor latent_line(const torch::Tensor& from, const torch::Tensor& to, std::int64_t steps) {
  TORCH_CHECK(steps >= 2, "latent_line needs at least 2 steps, got ", steps);
  const auto t = torch::linspace(0.0, 1.0, steps, from.options()).unsqueeze(1);  // [steps,1]
  // (1 - t)·from + t·to rather than from + t·(to - from): the last point is `to` exactly.
  return (1 - t) * from.unsqueeze(0) + t * to.unsqueeze(0);
}

std::vector<std::uint8_t> interpolation_digits(ConvVae& model, const torch::Tensor& first, const torch::Tensor& second,
                                               std::int64_t steps) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->parameters().front().device();
  const auto pair = torch::stack({first, second}).to(device);
  const auto z_mean = model->encoder->forward(pair).first;
  std::vector<std::uint8_t> digits = image_bytes(first.unsqueeze(0));
  const auto between = decode_to_bytes(model, latent_line(z_mean[0], z_mean[1], steps));
  digits.insert(digits.end(), between.begin(), between.end());
  const auto last = image_bytes(second.unsqueeze(0));
  digits.insert(digits.end(), last.begin(), last.end());
  return digits;
}

torch::Tensor reconstruct_from_mean(ConvVae& model, const torch::Tensor& images) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto device = model->parameters().front().device();
  auto [z_mean, z_log_var] = model->encoder->forward(images.to(device));
  return model->decode(z_mean);
}

}  // namespace vae_cnn
