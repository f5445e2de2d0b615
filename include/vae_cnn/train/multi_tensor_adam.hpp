// Adam that updates all parameters of a step together, through ATen's multi-tensor (_foreach)
// kernels: on a GPU one launch per operation for the whole model instead of one per parameter
// (ten tensors, eight operations each), the launch overhead that dominates a 134k-parameter step.
// On the CPU the same ops loop over the tensors and give the same numbers as torch::optim::Adam.
#pragma once

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// torch::optim::Adam with the same options, state (AdamParamState per parameter, so checkpoints
/// and optimizer_state.hpp treat it as Adam) and arithmetic, operation for operation. Options it
/// does not handle in one pass (amsgrad, weight decay) and parameters whose step counts differ
/// take LibTorch's own per-tensor step.
class MultiTensorAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace vae_cnn
