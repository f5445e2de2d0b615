// Written by hand because LibTorch 1.13 has no fused bias+ReLU for these activations: its add,
// clamp_min, threshold_backward and sum are four passes over 3.2 M floats per step where one
// suffices (measured alone at batch 128: forward 0.3-0.4 ms vs 0.5-0.6, backward 0.8-1.5 vs 1.5).
#include "vae_cnn/kernels/bias_relu.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "vae_cnn/kernels/vector_clones.hpp"

namespace vae_cnn {
namespace {

constexpr std::int64_t kBlocks = 64;  // fixed partition of the pixels for the bias gradient

// __restrict__ lets the compiler keep bias and the partial sums in registers and vectorise the rows.
VAE_CNN_VECTOR_CLONES void forward_rows(float* __restrict__ y, const float* __restrict__ bias, std::int64_t first,
                                 std::int64_t last, std::int64_t channels) {
  for (std::int64_t p = first; p < last; ++p) {
    float* __restrict__ row = y + p * channels;
    for (std::int64_t c = 0; c < channels; ++c) {
      const float value = row[c] + bias[c];
      row[c] = value > 0.0f ? value : 0.0f;
    }
  }
}

VAE_CNN_VECTOR_CLONES void backward_rows(const float* __restrict__ grad, const float* __restrict__ y,
                                  float* __restrict__ grad_pre, float* __restrict__ partial, std::int64_t first,
                                  std::int64_t last, std::int64_t channels) {
  for (std::int64_t p = first; p < last; ++p) {
    const float* __restrict__ g = grad + p * channels;
    const float* __restrict__ out = y + p * channels;
    float* __restrict__ pre = grad_pre + p * channels;
    for (std::int64_t c = 0; c < channels; ++c) {
      const float value = out[c] > 0.0f ? g[c] : 0.0f;
      pre[c] = value;
      partial[c] += value;
    }
  }
}

}  // namespace

void bias_relu_forward(float* y, const float* bias, std::int64_t pixels, std::int64_t channels) {
  at::parallel_for(0, pixels, 256, [&](std::int64_t first, std::int64_t last) {
    forward_rows(y, bias, first, last, channels);
  });
}

void bias_relu_backward(const float* grad, const float* y, float* grad_pre, float* grad_bias, std::int64_t pixels,
                        std::int64_t channels) {
  const std::int64_t block = (pixels + kBlocks - 1) / kBlocks;
  std::vector<float> partials(static_cast<std::size_t>(kBlocks * channels), 0.0f);
  at::parallel_for(0, kBlocks, 1, [&](std::int64_t first_block, std::int64_t last_block) {
    for (std::int64_t b = first_block; b < last_block; ++b) {
      const std::int64_t first = std::min(pixels, b * block), last = std::min(pixels, (b + 1) * block);
      backward_rows(grad, y, grad_pre, partials.data() + b * channels, first, last, channels);
    }
  });
  for (std::int64_t c = 0; c < channels; ++c) grad_bias[c] = 0.0f;
  for (std::int64_t b = 0; b < kBlocks; ++b) {
    for (std::int64_t c = 0; c < channels; ++c) grad_bias[c] += partials[static_cast<std::size_t>(b * channels + c)];
  }
}

}  // namespace vae_cnn
