// Index algebra of a stride-1, padding-1 transposed convolution: input pixel (a, b) reaches output
// (a - 1 + kh, b - 1 + kw) through tap (kh, kw). The channels of a channels-last pixel are
// contiguous; the weight gradient is summed per image and then over images in order, so it does
// not depend on the thread count.
#include "vae_cnn/kernels/single_channel_deconv.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <vector>

#include "vae_cnn/kernels/kernel_taps.hpp"
#include "vae_cnn/kernels/vector_clones.hpp"

namespace vae_cnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Geometry {
  std::int64_t height, width, channels;
};

VAE_CNN_VECTOR_CLONES void forward_image_blocked(const float* __restrict__ x, const float* __restrict__ taps,
                                                 float bias, float* __restrict__ y, Geometry g) {
  for (std::int64_t i = 0; i < g.height; ++i) {
    for (std::int64_t j = 0; j < g.width; ++j) {
      Lanes acc[kBlockVectors] = {};
      for (int kh = 0; kh < 3; ++kh) {
        const std::int64_t a = i + 1 - kh;
        if (a < 0 || a >= g.height) continue;
        for (int kw = 0; kw < 3; ++kw) {
          const std::int64_t b = j + 1 - kw;
          if (b < 0 || b >= g.width) continue;
          const float* pixel = x + (a * g.width + b) * g.channels;
          const float* tap = taps + (kh * 3 + kw) * g.channels;
          for (std::int64_t c = 0; c < g.channels; c += kBlock) {
            for (int v = 0; v < kBlockVectors; ++v) {
              acc[v] += load_lanes(pixel + c + v * kLanes) * load_lanes(tap + c + v * kLanes);
            }
          }
        }
      }
      y[i * g.width + j] = bias + sum_lanes((acc[0] + acc[1]) + (acc[2] + acc[3]));
    }
  }
}

// grad_x at input pixel (a, b) gathers the upstream gradients of the (up to) nine outputs it reached.
VAE_CNN_VECTOR_CLONES void input_grad_image_blocked(const float* __restrict__ taps, const float* __restrict__ grad_y,
                                                    float* __restrict__ grad_x, Geometry g) {
  for (std::int64_t a = 0; a < g.height; ++a) {
    for (std::int64_t b = 0; b < g.width; ++b) {
      float* out = grad_x + (a * g.width + b) * g.channels;
      for (std::int64_t c = 0; c < g.channels; c += kBlock) {
        Lanes acc[kBlockVectors] = {};
        for (int kh = 0; kh < 3; ++kh) {
          const std::int64_t i = a - 1 + kh;
          if (i < 0 || i >= g.height) continue;
          for (int kw = 0; kw < 3; ++kw) {
            const std::int64_t j = b - 1 + kw;
            if (j < 0 || j >= g.width) continue;
            const float upstream = grad_y[i * g.width + j];
            const float* tap = taps + (kh * 3 + kw) * g.channels + c;
            for (int v = 0; v < kBlockVectors; ++v) acc[v] += upstream * load_lanes(tap + v * kLanes);
          }
        }
        for (int v = 0; v < kBlockVectors; ++v) store_lanes(out + c + v * kLanes, acc[v]);
      }
    }
  }
}

// One tap at a time over the whole image, so its accumulators stay in registers; even and odd
// columns add into separate accumulators, two independent chains instead of one.
VAE_CNN_VECTOR_CLONES void weight_grad_image_blocked(const float* __restrict__ x, const float* __restrict__ grad_y,
                                                     float* __restrict__ grad_taps, Geometry g) {
  for (int kh = 0; kh < 3; ++kh) {
    const std::int64_t a_first = std::max<std::int64_t>(0, 1 - kh), a_last = std::min(g.height, g.height + 1 - kh);
    for (int kw = 0; kw < 3; ++kw) {
      const std::int64_t b_first = std::max<std::int64_t>(0, 1 - kw), b_last = std::min(g.width, g.width + 1 - kw);
      float* grad_tap = grad_taps + (kh * 3 + kw) * g.channels;
      for (std::int64_t c = 0; c < g.channels; c += kBlock) {
        Lanes even[kBlockVectors] = {}, odd[kBlockVectors] = {};
        for (std::int64_t a = a_first; a < a_last; ++a) {
          const float* upstream_row = grad_y + (a - 1 + kh) * g.width + kw;  // index b - 1 below
          const float* pixel_row = x + a * g.width * g.channels + c;
          std::int64_t b = b_first;
          for (; b + 1 < b_last; b += 2) {
            const float up_even = upstream_row[b - 1], up_odd = upstream_row[b];
            const float* pixel_even = pixel_row + b * g.channels;
            const float* pixel_odd = pixel_even + g.channels;
            for (int v = 0; v < kBlockVectors; ++v) {
              even[v] += up_even * load_lanes(pixel_even + v * kLanes);
              odd[v] += up_odd * load_lanes(pixel_odd + v * kLanes);
            }
          }
          if (b < b_last) {
            const float up = upstream_row[b - 1];
            const float* pixel = pixel_row + b * g.channels;
            for (int v = 0; v < kBlockVectors; ++v) even[v] += up * load_lanes(pixel + v * kLanes);
          }
        }
        for (int v = 0; v < kBlockVectors; ++v) store_lanes(grad_tap + c + v * kLanes, even[v] + odd[v]);
      }
    }
  }
}

class SingleChannelDeconvFunction : public torch::autograd::Function<SingleChannelDeconvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    TORCH_CHECK(blocked_channels(x.size(1)), "single_channel_deconv3x3: ", x.size(1),
                " input channels are not a multiple of ", kBlock);
    const auto input = x.contiguous(at::MemoryFormat::ChannelsLast);
    const Geometry g{input.size(2), input.size(3), input.size(1)};
    const auto taps = taps_of(weight);
    const float bias_value = bias.defined() ? bias.item<float>() : 0.0f;
    auto y = torch::empty({input.size(0), 1, g.height, g.width}, input.options());
    const float* in = input.data_ptr<float>();
    float* out = y.data_ptr<float>();
    at::parallel_for(0, input.size(0), 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n) {
        const float* image = in + n * g.height * g.width * g.channels;
        float* result = out + n * g.height * g.width;
        forward_image_blocked(image, taps.data(), bias_value, result, g);
      }
    });
    context->save_for_backward({input, weight});
    context->saved_data["has_bias"] = bias.defined();
    return y;
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const auto& input = saved[0];
    const auto& weight = saved[1];
    const auto grad_y = grad_outputs[0].contiguous();  // [N,1,H,W]: one channel, any layout is the same bytes
    const Geometry g{input.size(2), input.size(3), input.size(1)};
    const std::int64_t images = input.size(0);
    const auto taps = taps_of(weight);
    auto grad_x = torch::empty_like(input);  // channels-last like the input
    std::vector<float> per_image(static_cast<std::size_t>(images * 9 * g.channels), 0.0f);
    const float* in = input.data_ptr<float>();
    const float* upstream = grad_y.data_ptr<float>();
    float* out = grad_x.data_ptr<float>();
    at::parallel_for(0, images, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n) {
        const float* image = in + n * g.height * g.width * g.channels;
        const float* image_upstream = upstream + n * g.height * g.width;
        float* image_grad = out + n * g.height * g.width * g.channels;
        float* image_taps = per_image.data() + n * 9 * g.channels;
        input_grad_image_blocked(taps.data(), image_upstream, image_grad, g);
        weight_grad_image_blocked(image, image_upstream, image_taps, g);
      }
    });
    const auto grad_weight = sum_image_taps(per_image, images, g.channels, weight.options());
    torch::Tensor grad_bias;
    if (context->saved_data["has_bias"].toBool()) grad_bias = grad_y.sum().view({1});
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

torch::Tensor single_channel_deconv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return SingleChannelDeconvFunction::apply(x, weight, bias);
}

}  // namespace vae_cnn
