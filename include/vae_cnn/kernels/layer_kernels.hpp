// The one door from the model to the kernels: the model names a layer and its activation, and the
// kernel that runs it is chosen here, from the layer's geometry and the tensor's device and type.
#pragma once

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// Which kernels a model may use. kFastCpu takes this layer's own kernels for float tensors on the
/// CPU (hand-written and oneDNN-routed, each checked against LibTorch's layer in the tests) and
/// LibTorch's layers for everything else; kLibTorch always takes LibTorch's layers (the reference).
enum class KernelChoice { kFastCpu, kLibTorch };

enum class Activation { kNone, kRelu };

/// The layout activations should have between layers: channels-last where the fast CPU kernels run
/// (oneDNN's own layout, so no reorder per call), `x` unchanged elsewhere.
torch::Tensor kernel_layout(const torch::Tensor& x, KernelChoice choice);

/// activation(layer(x)).
torch::Tensor conv2d(torch::nn::Conv2dImpl& layer, const torch::Tensor& x, Activation activation, KernelChoice choice);

/// activation(layer(x)).
torch::Tensor conv_transpose2d(torch::nn::ConvTranspose2dImpl& layer, const torch::Tensor& x, Activation activation,
                               KernelChoice choice);

}  // namespace vae_cnn
