// Output pixel (i, j) reads input (2i - 1 + kh, 2j - 1 + kw) through tap (kh, kw). The forward
// pass writes channels-last with bias and ReLU applied. The weight gradient loops over output pixels with the C output channels contiguous (channels-last), adding
// x · grad into nine C-wide accumulators per image; images are then summed in order, so the result
// does not depend on the thread count.
#include "vae_cnn/kernels/single_channel_conv.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

#include "vae_cnn/kernels/bias_relu.hpp"
#include "vae_cnn/kernels/kernel_taps.hpp"
#include "vae_cnn/kernels/vector_clones.hpp"

namespace vae_cnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct ConvGeometry {
  std::int64_t in_height, in_width, out_height, out_width, channels;
};

// Convolution, bias and ReLU in one pass, written channels-last: LibTorch's convolution returns
// this one-channel input's output as NCHW, which then needed a reorder and a bias+ReLU pass.
VAE_CNN_VECTOR_CLONES void conv_relu_image_blocked(const float* __restrict__ x, const float* __restrict__ taps,
                                                 const float* __restrict__ bias, float* __restrict__ y, ConvGeometry g) {
  for (std::int64_t i = 0; i < g.out_height; ++i) {
    for (std::int64_t j = 0; j < g.out_width; ++j) {
      float* out = y + (i * g.out_width + j) * g.channels;
      for (std::int64_t c = 0; c < g.channels; c += kBlock) {
        Lanes acc[kBlockVectors];
        for (int v = 0; v < kBlockVectors; ++v) acc[v] = load_lanes(bias + c + v * kLanes);
        for (int kh = 0; kh < 3; ++kh) {
          const std::int64_t a = 2 * i - 1 + kh;
          if (a < 0 || a >= g.in_height) continue;
          for (int kw = 0; kw < 3; ++kw) {
            const std::int64_t b = 2 * j - 1 + kw;
            if (b < 0 || b >= g.in_width) continue;
            const float value = x[a * g.in_width + b];
            const float* tap = taps + (kh * 3 + kw) * g.channels + c;
            for (int v = 0; v < kBlockVectors; ++v) acc[v] += value * load_lanes(tap + v * kLanes);
          }
        }
        const Lanes zero = {};
        for (int v = 0; v < kBlockVectors; ++v) store_lanes(out + c + v * kLanes, acc[v] > zero ? acc[v] : zero);
      }
    }
  }
}

VAE_CNN_VECTOR_CLONES void weight_grad_image(const float* __restrict__ x, const float* __restrict__ grad,
                                           float* __restrict__ grad_taps, ConvGeometry g) {
  for (std::int64_t i = 0; i < g.out_height; ++i) {
    for (std::int64_t j = 0; j < g.out_width; ++j) {
      const float* __restrict__ upstream = grad + (i * g.out_width + j) * g.channels;
      for (int kh = 0; kh < 3; ++kh) {
        const std::int64_t a = 2 * i - 1 + kh;
        if (a < 0 || a >= g.in_height) continue;
        for (int kw = 0; kw < 3; ++kw) {
          const std::int64_t b = 2 * j - 1 + kw;
          if (b < 0 || b >= g.in_width) continue;
          const float value = x[a * g.in_width + b];
          float* __restrict__ tap = grad_taps + (kh * 3 + kw) * g.channels;
          for (std::int64_t c = 0; c < g.channels; ++c) tap[c] += value * upstream[c];
        }
      }
    }
  }
}

class SingleChannelConvFunction : public torch::autograd::Function<SingleChannelConvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    TORCH_CHECK(bias.defined() && bias.numel() == weight.size(0), "single_channel_conv3x3_s2_relu needs a bias");
    TORCH_CHECK(blocked_channels(weight.size(0)), "single_channel_conv3x3_s2_relu: ", weight.size(0),
                " output channels are not a multiple of ", kBlock);
    const auto input = x.contiguous();  // one channel: NCHW and channels-last are the same bytes
    const std::int64_t out_height = (input.size(2) + 1) / 2, out_width = (input.size(3) + 1) / 2;
    const ConvGeometry g{input.size(2), input.size(3), out_height, out_width, weight.size(0)};
    auto y = torch::empty({input.size(0), g.channels, out_height, out_width},
                          input.options().memory_format(at::MemoryFormat::ChannelsLast));
    const auto taps = taps_of(weight);
    const auto bias_values = bias.detach().contiguous();
    const float* in = input.data_ptr<float>();
    const float* bias_data = bias_values.data_ptr<float>();
    float* out = y.data_ptr<float>();
    at::parallel_for(0, input.size(0), 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n) {
        const float* image = in + n * g.in_height * g.in_width;
        float* result = out + n * g.out_height * g.out_width * g.channels;
        conv_relu_image_blocked(image, taps.data(), bias_data, result, g);
      }
    });
    context->save_for_backward({x, weight, y});
    return y;
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& y = saved[2];
    const auto upstream_grad = grad_outputs[0].contiguous(at::MemoryFormat::ChannelsLast);
    // Through the ReLU and the bias first: grad is the gradient of the convolution's output.
    auto grad = torch::empty_like(upstream_grad);
    auto grad_bias = torch::empty({y.size(1)}, weight.options());
    bias_relu_backward(upstream_grad.data_ptr<float>(), y.data_ptr<float>(), grad.data_ptr<float>(),
                       grad_bias.data_ptr<float>(), y.numel() / y.size(1), y.size(1));
    torch::Tensor grad_x, grad_weight;
    if (context->needs_input_grad(0)) {
      grad_x = std::get<0>(at::convolution_backward(grad, x, weight, c10::nullopt, {2, 2}, {1, 1}, {1, 1}, false,
                                                    {0, 0}, 1, {true, false, false}));
    }
    const auto input = x.contiguous();  // one channel: NCHW and channels-last are the same bytes
    const ConvGeometry g{input.size(2), input.size(3), grad.size(2), grad.size(3), grad.size(1)};
    const std::int64_t images = input.size(0);
    const std::size_t per_image_size = static_cast<std::size_t>(9 * g.channels);  // nine taps
    std::vector<float> per_image(static_cast<std::size_t>(images) * per_image_size, 0.0f);
    const float* in = input.data_ptr<float>();
    const float* upstream = grad.data_ptr<float>();
    at::parallel_for(0, images, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n) {
        float* sums = per_image.data() + static_cast<std::size_t>(n) * per_image_size;
        weight_grad_image(in + n * g.in_height * g.in_width, upstream + n * g.out_height * g.out_width * g.channels,
                          sums, g);
      }
    });
    grad_weight = sum_image_taps(per_image, images, g.channels, weight.options());
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

torch::Tensor single_channel_conv3x3_s2_relu(const torch::Tensor& x, const torch::Tensor& weight,
                                             const torch::Tensor& bias) {
  return SingleChannelConvFunction::apply(x, weight, bias);
}

}  // namespace vae_cnn
