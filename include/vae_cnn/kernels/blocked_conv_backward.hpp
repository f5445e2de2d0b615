// The backward pass of a transposed convolution on oneDNN primitives of our own, in oneDNN's
// blocked layouts. Through LibTorch (1.13) the same two products run on channels-last tensors,
// where oneDNN's kernels are about half as fast for these shapes (measured at batch 128 on AVX2:
// the 64->32 layer's input gradient 11.4 -> 5.6 ms, its weight gradient 14.5 -> 6.6 ms); the
// reorders in and out cost well under a millisecond.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <utility>

namespace vae_cnn {

/// Whether this build has its own oneDNN primitives (Debian's libdnnl-dev; LibTorch builds
/// without it fall back to LibTorch's operators).
bool blocked_conv_backward_available();

/// For y = conv_transpose2d(x, weight, stride, padding, output_padding = stride - 1) with x
/// [N,Cin,H,W] and grad_y [N,Cout,H·stride,W·stride], both float, CPU, channels-last, and weight
/// [Cin,Cout,k,k]: {grad_x (channels-last), grad_weight}. Either is left undefined when not wanted.
/// Primitives are created once per shape and reused.
std::pair<torch::Tensor, torch::Tensor> blocked_transposed_conv_backward(const torch::Tensor& x,
                                                                         const torch::Tensor& grad_y,
                                                                         const torch::Tensor& weight,
                                                                         std::int64_t stride, std::int64_t padding,
                                                                         bool want_grad_x, bool want_grad_weight);

}  // namespace vae_cnn
