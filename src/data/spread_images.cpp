#include "vae_cnn/data/spread_images.hpp"

namespace vae_cnn {

Dataset spread_images(const Dataset& data, std::int64_t count) {
  if (count >= data.size()) return data;
  const auto rows =
      torch::arange(count, torch::kInt64).mul_(data.size()).div_(count, "floor").to(data.pixels.device());
  return {data.pixels.index_select(0, rows), data.labels.index_select(0, rows)};
}

}  // namespace vae_cnn
