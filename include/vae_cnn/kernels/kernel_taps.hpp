// What the two hand-written single-channel 3×3 layers (single_channel_conv, single_channel_deconv)
// share: the weights as nine channel-contiguous taps, the channel blocking of their vectorised
// loops, and the in-order sum of per-image weight gradients.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <vector>

#include "vae_cnn/kernels/float_lanes.hpp"

namespace vae_cnn {

/// Channels go 32 at a time (the model's 32) into four Lanes accumulators; layers with other
/// channel counts run LibTorch's own (layer_kernels.cpp chooses).
constexpr int kBlockVectors = 4;
constexpr std::int64_t kBlock = kBlockVectors * kLanes;

inline bool blocked_channels(std::int64_t channels) { return channels % kBlock == 0; }

/// Weights [C,1,3,3] as taps [9][C]: tap (kh, kw) at kh*3+kw, its C weights contiguous like the
/// channels of a channels-last pixel.
inline std::vector<float> taps_of(const torch::Tensor& weight) {
  const auto w = weight.detach().to(torch::kFloat).contiguous();
  const std::int64_t channels = w.size(0);
  std::vector<float> taps(static_cast<std::size_t>(9 * channels));
  const float* data = w.data_ptr<float>();
  for (std::int64_t c = 0; c < channels; ++c) {
    for (int t = 0; t < 9; ++t) taps[static_cast<std::size_t>(t * channels + c)] = data[c * 9 + t];
  }
  return taps;
}

/// The weight gradient [C,1,3,3] from `images` per-image tap sums ([images][9][C]), added image by
/// image in order, so it does not depend on how the images were split among threads.
inline torch::Tensor sum_image_taps(const std::vector<float>& per_image, std::int64_t images, std::int64_t channels,
                                    const torch::TensorOptions& options) {
  auto grad_weight = torch::zeros({channels, 1, 3, 3}, options);
  float* gw = grad_weight.data_ptr<float>();
  for (std::int64_t n = 0; n < images; ++n) {
    const float* image_taps = per_image.data() + n * 9 * channels;
    for (std::int64_t c = 0; c < channels; ++c) {
      for (int t = 0; t < 9; ++t) gw[c * 9 + t] += image_taps[t * channels + c];
    }
  }
  return grad_weight;
}

}  // namespace vae_cnn
