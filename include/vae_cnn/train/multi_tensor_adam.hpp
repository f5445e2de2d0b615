// Adam that updates all parameters of a step together, through ATen's multi-tensor (_foreach)
// kernels: on a GPU one launch per operation for the whole model instead of one per parameter
// (ten tensors, eight operations each), the launch overhead that dominates a 134k-parameter step.
// On the CPU the same ops loop over the tensors and give the same numbers as torch::optim::Adam.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

namespace vae_cnn {

/// torch::optim::Adam with the same options, state (AdamParamState per parameter, so checkpoints
/// and optimizer_state.hpp treat it as Adam) and arithmetic, operation for operation. Options it
/// does not handle in one pass (amsgrad, weight decay) and parameters whose step counts differ
/// take LibTorch's own per-tensor step.
class MultiTensorAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;

  /// Why step() cannot be split for a CUDA graph, or "" when it can: one parameter group, no
  /// amsgrad or weight decay, every parameter with state (a step taken) at the same count.
  std::string graph_step_unavailable_reason();
  /// The host half of a step to be replayed from a CUDA graph: counts the step and writes its
  /// learning rate and bias corrections into device scalars, which apply_graph_step reads, so one
  /// recorded graph takes every step right (a captured host number would be frozen in it).
  void prepare_graph_step();
  /// The device half: the same update as step() from the gradients present, every factor that
  /// changes from step to step read from those device scalars; no host reads or writes, so it may
  /// be captured. Equal to step() but for rounding (the step size divides instead of multiplying).
  void apply_graph_step();

 private:
  torch::Tensor neg_step_size_;        ///< -lr / (1 - β1^t), 0-d on the parameters' device
  torch::Tensor bias_correction2_root_;  ///< √(1 - β2^t), likewise
};

}  // namespace vae_cnn
