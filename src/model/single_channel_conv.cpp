// Output pixel (i, j) reads input (2i - 1 + kh, 2j - 1 + kw) through tap (kh, kw). The weight
// gradient loops over output pixels with the C output channels contiguous (channels-last), adding
// x · grad into nine C-wide accumulators per image; images are then summed in order, so the result
// does not depend on the thread count.
#include "vae_cnn/model/single_channel_conv.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

#include "vae_cnn/model/vector_clones.hpp"

namespace vae_cnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct ConvGeometry {
  std::int64_t in_height, in_width, out_height, out_width, channels;
};

VAE_CNN_VECTOR_CLONES void weight_grad_image(const float* __restrict__ x, const float* __restrict__ grad,
                                           float* __restrict__ grad_taps, float* __restrict__ grad_bias,
                                           ConvGeometry g) {
  for (std::int64_t i = 0; i < g.out_height; ++i) {
    for (std::int64_t j = 0; j < g.out_width; ++j) {
      const float* __restrict__ upstream = grad + (i * g.out_width + j) * g.channels;
      for (std::int64_t c = 0; c < g.channels; ++c) grad_bias[c] += upstream[c];
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
    context->save_for_backward({x, weight});
    context->saved_data["has_bias"] = bias.defined();
    return at::convolution(x, weight, bias, {2, 2}, {1, 1}, {1, 1}, false, {0, 0}, 1);
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto grad = grad_outputs[0].contiguous(at::MemoryFormat::ChannelsLast);
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (context->needs_input_grad(0)) {
      grad_x = std::get<0>(at::convolution_backward(grad, x, weight, c10::nullopt, {2, 2}, {1, 1}, {1, 1}, false,
                                                    {0, 0}, 1, {true, false, false}));
    }
    const auto input = x.contiguous();  // one channel: NCHW and channels-last are the same bytes
    const ConvGeometry g{input.size(2), input.size(3), grad.size(2), grad.size(3), grad.size(1)};
    const std::int64_t images = input.size(0);
    const std::size_t per_image_size = static_cast<std::size_t>(10 * g.channels);  // nine taps and the bias
    std::vector<float> per_image(static_cast<std::size_t>(images) * per_image_size, 0.0f);
    const float* in = input.data_ptr<float>();
    const float* upstream = grad.data_ptr<float>();
    at::parallel_for(0, images, 1, [&](std::int64_t first, std::int64_t last) {
      for (std::int64_t n = first; n < last; ++n) {
        float* sums = per_image.data() + static_cast<std::size_t>(n) * per_image_size;
        weight_grad_image(in + n * g.in_height * g.in_width, upstream + n * g.out_height * g.out_width * g.channels,
                          sums, sums + 9 * g.channels, g);
      }
    });
    grad_weight = torch::zeros({g.channels, 1, 3, 3}, weight.options());
    auto bias_sums = torch::zeros({g.channels}, weight.options());
    float* gw = grad_weight.data_ptr<float>();
    float* gb = bias_sums.data_ptr<float>();
    for (std::int64_t n = 0; n < images; ++n) {
      const float* sums = per_image.data() + static_cast<std::size_t>(n) * per_image_size;
      for (std::int64_t c = 0; c < g.channels; ++c) {
        for (int t = 0; t < 9; ++t) gw[c * 9 + t] += sums[t * g.channels + c];
        gb[c] += sums[9 * g.channels + c];
      }
    }
    if (context->saved_data["has_bias"].toBool()) grad_bias = bias_sums;
    return {grad_x, grad_weight, grad_bias};
  }
};

}  // namespace

torch::Tensor single_channel_conv3x3_s2(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  return SingleChannelConvFunction::apply(x, weight, bias);
}

}  // namespace vae_cnn
