#include "vae_cnn/kernels/layer_kernels.hpp"

#include <variant>

#include "vae_cnn/kernels/autocast_scope.hpp"
#include "vae_cnn/kernels/kernel_taps.hpp"
#include "vae_cnn/kernels/single_channel_conv.hpp"
#include "vae_cnn/kernels/single_channel_deconv.hpp"
#include "vae_cnn/kernels/transposed_conv.hpp"

namespace vae_cnn {
namespace {

// The fast kernels take float tensors on the CPU; CUDA's cuDNN, other precisions and autocast
// (which only LibTorch's layers go through) stay with LibTorch's layers.
bool fast_path(KernelChoice choice, const torch::Tensor& x) {
  return choice == KernelChoice::kFastCpu && x.device().is_cpu() && x.scalar_type() == torch::kFloat &&
         !autocast_enabled_on(x.device());
}

template <std::size_t D>
bool all_equal(const torch::ExpandingArray<D>& values, std::int64_t expected) {
  for (std::size_t i = 0; i < D; ++i) {
    if ((*values)[i] != expected) return false;
  }
  return true;
}

// Padding given as numbers, not as kValid or kSame. LibTorch 1.13 keeps it in a c10::variant and
// 2.x in a std::variant; the unqualified call finds the get_if of either.
const torch::ExpandingArray<2>* explicit_padding(const torch::nn::detail::ConvNdOptions<2>& options) {
  using std::get_if;
  return get_if<torch::ExpandingArray<2>>(&options.padding());
}

bool padding_is(const torch::nn::detail::ConvNdOptions<2>& options, std::int64_t expected) {
  const auto* padding = explicit_padding(options);
  return padding != nullptr && all_equal(*padding, expected);
}

torch::Tensor activate(const torch::Tensor& y, Activation activation) {
  return activation == Activation::kRelu ? torch::relu(y) : y;
}

// One input channel, 3x3, stride 2, padding 1, a bias and a ReLU: the encoder's first layer, whose
// weight gradient oneDNN computes slowly. The channel count must fill whole vector blocks.
bool single_channel_conv_fits(const torch::nn::Conv2dImpl& layer, Activation activation) {
  const auto& options = layer.options;
  return activation == Activation::kRelu && options.in_channels() == 1 && blocked_channels(options.out_channels()) &&
         all_equal(options.kernel_size(), 3) && all_equal(options.stride(), 2) && padding_is(options, 1) &&
         all_equal(options.dilation(), 1) && options.groups() == 1 && layer.bias.defined();
}

// One output channel, 3x3, stride 1, padding 1: the decoder's last layer, which oneDNN ran at a few
// GFLOP/s (34 ms of a step) against 8 ms for the hand-written kernel.
bool single_channel_deconv_fits(const torch::nn::ConvTranspose2dImpl& layer, Activation activation) {
  const auto& options = layer.options;
  return activation == Activation::kNone && options.out_channels() == 1 && blocked_channels(options.in_channels()) &&
         all_equal(options.kernel_size(), 3) && all_equal(options.stride(), 1) &&
         all_equal(options.output_padding(), 0) && all_equal(options.dilation(), 1) && options.groups() == 1 &&
         padding_is(options, 1);
}

// Square geometry with no dilation or groups: what transposed_conv2d computes.
bool transposed_conv_fits(const torch::nn::ConvTranspose2dImpl& layer) {
  const auto& options = layer.options;
  const auto* padding = explicit_padding(options);
  return padding != nullptr && (*options.stride())[0] == (*options.stride())[1] &&
         (**padding)[0] == (**padding)[1] && (*options.output_padding())[0] == (*options.output_padding())[1] &&
         all_equal(options.dilation(), 1) && options.groups() == 1;
}

}  // namespace

torch::Tensor kernel_layout(const torch::Tensor& x, KernelChoice choice) {
  return fast_path(choice, x) ? x.contiguous(at::MemoryFormat::ChannelsLast) : x;
}

torch::Tensor conv2d(torch::nn::Conv2dImpl& layer, const torch::Tensor& x, Activation activation, KernelChoice choice) {
  if (fast_path(choice, x) && single_channel_conv_fits(layer, activation)) {
    return single_channel_conv3x3_s2_relu(kernel_layout(x, choice), layer.weight, layer.bias);
  }
  return activate(layer.forward(x), activation);
}

torch::Tensor conv_transpose2d(torch::nn::ConvTranspose2dImpl& layer, const torch::Tensor& x, Activation activation,
                               KernelChoice choice) {
  if (fast_path(choice, x) && single_channel_deconv_fits(layer, activation)) {
    return single_channel_deconv3x3(x, layer.weight, layer.bias);
  }
  // LibTorch's own transposed convolution takes the slow im2col + GEMM path on the CPU.
  if (fast_path(choice, x) && transposed_conv_fits(layer)) {
    const auto& options = layer.options;
    const TransposedConvShape shape{(*options.stride())[0], (**explicit_padding(options))[0],
                                    (*options.output_padding())[0]};
    return transposed_conv2d(x, layer.weight, layer.bias, shape, activation == Activation::kRelu);
  }
  return activate(layer.forward(x), activation);
}

}  // namespace vae_cnn
