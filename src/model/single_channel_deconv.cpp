// Index algebra of a stride-1, padding-1 transposed convolution: input pixel (a, b) reaches output
// (a - 1 + kh, b - 1 + kw) through tap (kh, kw). Every loop runs over the C contiguous channels of a
// channels-last pixel, which the compiler vectorises; the weight gradient is summed per image and
// then over images in order, so it does not depend on the thread count.
#include "vae_cnn/model/single_channel_deconv.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <vector>

#include "vae_cnn/model/vector_clones.hpp"

namespace vae_cnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct Geometry {
  std::int64_t height, width, channels;
};

// taps: [9][C], tap (kh, kw) at kh*3+kw.
std::vector<float> taps_of(const torch::Tensor& weight) {
  const auto w = weight.detach().to(torch::kFloat).contiguous();  // [C,1,3,3]
  const std::int64_t channels = w.size(0);
  std::vector<float> taps(static_cast<std::size_t>(9 * channels));
  const float* data = w.data_ptr<float>();
  for (std::int64_t c = 0; c < channels; ++c) {
    for (int t = 0; t < 9; ++t) taps[static_cast<std::size_t>(t * channels + c)] = data[c * 9 + t];
  }
  return taps;
}

// Per-channel partial sums first, then one sum over channels: without -ffast-math the compiler may
// not reorder a running float sum, and would not vectorise it.
VAE_CNN_VECTOR_CLONES void forward_image(const float* __restrict__ x, const float* __restrict__ taps, float bias,
                                         float* __restrict__ y, float* __restrict__ partial, Geometry g) {
  for (std::int64_t i = 0; i < g.height; ++i) {
    for (std::int64_t j = 0; j < g.width; ++j) {
      for (std::int64_t c = 0; c < g.channels; ++c) partial[c] = 0.0f;
      for (int kh = 0; kh < 3; ++kh) {
        const std::int64_t a = i + 1 - kh;
        if (a < 0 || a >= g.height) continue;
        for (int kw = 0; kw < 3; ++kw) {
          const std::int64_t b = j + 1 - kw;
          if (b < 0 || b >= g.width) continue;
          const float* __restrict__ pixel = x + (a * g.width + b) * g.channels;
          const float* __restrict__ tap = taps + (kh * 3 + kw) * g.channels;
          for (std::int64_t c = 0; c < g.channels; ++c) partial[c] += pixel[c] * tap[c];
        }
      }
      float sum = bias;
      for (std::int64_t c = 0; c < g.channels; ++c) sum += partial[c];
      y[i * g.width + j] = sum;
    }
  }
}

VAE_CNN_VECTOR_CLONES void backward_image(const float* __restrict__ x, const float* __restrict__ taps,
                                          const float* __restrict__ grad_y, float* __restrict__ grad_x,
                                          float* __restrict__ grad_taps, Geometry g) {
  for (std::int64_t a = 0; a < g.height; ++a) {
    for (std::int64_t b = 0; b < g.width; ++b) {
      const float* __restrict__ pixel = x + (a * g.width + b) * g.channels;
      float* __restrict__ out = grad_x + (a * g.width + b) * g.channels;
      for (std::int64_t c = 0; c < g.channels; ++c) out[c] = 0.0f;
      for (int kh = 0; kh < 3; ++kh) {
        const std::int64_t i = a - 1 + kh;
        if (i < 0 || i >= g.height) continue;
        for (int kw = 0; kw < 3; ++kw) {
          const std::int64_t j = b - 1 + kw;
          if (j < 0 || j >= g.width) continue;
          const float upstream = grad_y[i * g.width + j];
          const float* __restrict__ tap = taps + (kh * 3 + kw) * g.channels;
          float* __restrict__ grad_tap = grad_taps + (kh * 3 + kw) * g.channels;
          for (std::int64_t c = 0; c < g.channels; ++c) {
            out[c] += upstream * tap[c];
            grad_tap[c] += upstream * pixel[c];
          }
        }
      }
    }
  }
}

class SingleChannelDeconvFunction : public torch::autograd::Function<SingleChannelDeconvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias) {
    const auto input = x.contiguous(at::MemoryFormat::ChannelsLast);
    const Geometry g{input.size(2), input.size(3), input.size(1)};
    const auto taps = taps_of(weight);
    const float bias_value = bias.defined() ? bias.item<float>() : 0.0f;
    auto y = torch::empty({input.size(0), 1, g.height, g.width}, input.options());
    const float* in = input.data_ptr<float>();
    float* out = y.data_ptr<float>();
    at::parallel_for(0, input.size(0), 1, [&](std::int64_t first, std::int64_t last) {
      std::vector<float> partial(static_cast<std::size_t>(g.channels));
      for (std::int64_t n = first; n < last; ++n) {
        forward_image(in + n * g.height * g.width * g.channels, taps.data(), bias_value, out + n * g.height * g.width,
                      partial.data(), g);
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
        backward_image(in + n * g.height * g.width * g.channels, taps.data(), upstream + n * g.height * g.width,
                       out + n * g.height * g.width * g.channels, per_image.data() + n * 9 * g.channels, g);
      }
    });
    auto grad_weight = torch::zeros({g.channels, 1, 3, 3}, weight.options());
    float* gw = grad_weight.data_ptr<float>();
    for (std::int64_t n = 0; n < images; ++n) {
      const float* image_taps = per_image.data() + n * 9 * g.channels;
      for (std::int64_t c = 0; c < g.channels; ++c) {
        for (int t = 0; t < 9; ++t) gw[c * 9 + t] += image_taps[t * g.channels + c];
      }
    }
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
