// The encoder's first layer, a 3×3 stride-2 padding-1 convolution from one channel to many, whose
// weight gradient oneDNN computes slowly (about 4.5 ms of a batch-128 step); written out here.
#pragma once

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// relu(conv2d(x, weight, bias, stride 2, padding 1)) for x [N,1,H,W], weight [C,1,3,3], bias [C],
/// as a channels-last tensor: the forward pass and the weight and bias gradients are computed here,
/// the input gradient (rarely wanted: x is data) by LibTorch. Float CPU tensors only.
torch::Tensor single_channel_conv3x3_s2_relu(const torch::Tensor& x, const torch::Tensor& weight,
                                             const torch::Tensor& bias);

}  // namespace vae_cnn
