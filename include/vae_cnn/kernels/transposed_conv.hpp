// A 2-D transposed convolution computed with ordinary-convolution kernels, which LibTorch runs on
// oneDNN on the CPU, where its own transposed convolution takes the slower im2col + GEMM path.
#pragma once

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// Geometry of a square transposed convolution (PyTorch's ConvTranspose2d arguments).
struct TransposedConvShape {
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  std::int64_t output_padding = 0;
};

/// conv_transpose2d(x, weight, bias) with weight [in, out, k, k], as the input gradient of the
/// matching convolution, followed by a ReLU when `relu`; its backward is a convolution (for x) and a
/// convolution weight gradient (for weight). The same function as torch::conv_transpose2d (and
/// torch::relu) to float rounding; on channels-last float CPU tensors, bias and ReLU take one fused
/// pass each way (bias_relu.hpp).
torch::Tensor transposed_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                const TransposedConvShape& shape, bool relu = false);

}  // namespace vae_cnn
