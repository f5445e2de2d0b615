// The decoder's last layer, a stride-1 3×3 transposed convolution from C channels to one, written
// out for channels-last input: oneDNN's kernels are built for many output channels and run this
// layer at a few GFLOP/s.
#pragma once

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// conv_transpose2d(x, weight, bias, stride 1, padding 1) for x [N,C,H,W] (any layout), weight
/// [C,1,3,3], bias [1]; differentiable in all three. Float CPU tensors only.
torch::Tensor single_channel_deconv3x3(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias);

}  // namespace vae_cnn
