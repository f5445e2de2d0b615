#include "vae_cnn/train/multi_tensor_adam.hpp"

#include <cmath>
#include <utility>
#include <vector>

#include "vae_cnn/train/optimizer_state.hpp"

namespace vae_cnn {
namespace {

// One parameter group's tensors that have gradients, with their state, in parameter order.
struct GroupTensors {
  std::vector<at::Tensor> params, grads, exp_avgs, exp_avg_sqs;
  std::vector<torch::optim::AdamParamState*> states;
  std::int64_t step = -1;
  bool same_step = true;
};

GroupTensors gather(torch::optim::Optimizer& optimizer, torch::optim::OptimizerParamGroup& group) {
  GroupTensors tensors;
  for (auto& parameter : group.params()) {
    if (!parameter.grad().defined()) continue;
    auto& state = adam_state_of(optimizer, parameter);
    if (tensors.step >= 0 && state.step() != tensors.step) tensors.same_step = false;
    tensors.step = state.step();
    tensors.params.push_back(parameter);
    tensors.grads.push_back(parameter.grad());
    tensors.exp_avgs.push_back(state.exp_avg());
    tensors.exp_avg_sqs.push_back(state.exp_avg_sq());
    tensors.states.push_back(&state);
  }
  return tensors;
}

// Adam's bias corrections 1 - β1^t and 1 - β2^t of step t.
std::pair<double, double> bias_corrections(const torch::optim::AdamOptions& options, std::int64_t step) {
  const auto [beta1, beta2] = options.betas();
  return {1 - std::pow(beta1, static_cast<double>(step)), 1 - std::pow(beta2, static_cast<double>(step))};
}

// The moments' update from the gradients, as torch::optim::Adam computes it per tensor, in the same
// order of operations; returns √v of every tensor, the denominators before their correction. Its
// factors are constants, so a CUDA graph may hold them.
std::vector<at::Tensor> update_moments(const GroupTensors& tensors, const torch::optim::AdamOptions& options) {
  const auto [beta1, beta2] = options.betas();
  at::_foreach_mul_(tensors.exp_avgs, beta1);
  at::_foreach_add_(tensors.exp_avgs, tensors.grads, 1 - beta1);
  at::_foreach_mul_(tensors.exp_avg_sqs, beta2);
  at::_foreach_addcmul_(tensors.exp_avg_sqs, tensors.grads, tensors.grads, 1 - beta2);
  return at::_foreach_sqrt(tensors.exp_avg_sqs);
}

}  // namespace

torch::Tensor MultiTensorAdam::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = {};
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  for (auto& group : param_groups_) {
    auto& options = static_cast<torch::optim::AdamOptions&>(group.options());
    GroupTensors tensors;
    const bool fusable = !options.amsgrad() && options.weight_decay() == 0;
    if (fusable) tensors = gather(*this, group);
    if (!fusable || !tensors.same_step) {
      // Rare here (the trainer sets neither option, and every parameter steps every time); the
      // per-tensor path of LibTorch's Adam, one group at a time, keeps them exact.
      torch::optim::Adam single(group.params(), options);
      single.state().swap(state_);
      single.step();
      single.state().swap(state_);
      continue;
    }
    if (tensors.params.empty()) continue;
    const std::int64_t step_now = tensors.step + 1;
    for (auto* state : tensors.states) state->step(step_now);
    const auto [bias_correction1, bias_correction2] = bias_corrections(options, step_now);
    auto denominators = update_moments(tensors, options);
    at::_foreach_div_(denominators, std::sqrt(bias_correction2));
    at::_foreach_add_(denominators, options.eps());
    at::_foreach_addcdiv_(tensors.params, tensors.exp_avgs, denominators, -options.lr() / bias_correction1);
  }
  return loss;
}

std::string MultiTensorAdam::graph_step_unavailable_reason() {
  if (param_groups_.size() != 1) return "the optimizer has several parameter groups";
  const auto& options = static_cast<const torch::optim::AdamOptions&>(param_groups_.front().options());
  if (options.amsgrad() || options.weight_decay() != 0) return "amsgrad and weight decay are not recorded";
  std::int64_t first_count = -1;
  for (const auto& parameter : param_groups_.front().params()) {
    const std::int64_t count = adam_state_of(*this, parameter).step();
    if (first_count >= 0 && count != first_count) return "the parameters' step counts differ";
    first_count = count;
  }
  return "";
}

void MultiTensorAdam::prepare_graph_step() {
  auto& group = param_groups_.front();
  const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
  std::int64_t step_now = 0;
  for (const auto& parameter : group.params()) {
    auto& state = adam_state_of(*this, parameter);
    step_now = state.step() + 1;
    state.step(step_now);
  }
  const auto [bias_correction1, bias_correction2] = bias_corrections(options, step_now);
  if (!neg_step_size_.defined()) {
    const auto on_device = torch::TensorOptions(torch::kFloat).device(group.params().front().device());
    neg_step_size_ = torch::empty({}, on_device);
    bias_correction2_root_ = torch::empty({}, on_device);
  }
  neg_step_size_.fill_(-options.lr() / bias_correction1);
  bias_correction2_root_.fill_(std::sqrt(bias_correction2));
}

void MultiTensorAdam::apply_graph_step() {
  torch::NoGradGuard no_grad;
  auto& group = param_groups_.front();
  const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
  const GroupTensors tensors = gather(*this, group);
  auto denominators = update_moments(tensors, options);
  // The two factors that change per step are device scalars (prepare_graph_step).
  for (std::size_t i = 0; i < tensors.params.size(); ++i) {
    // Inside a graph these per-tensor launches cost nothing extra; LibTorch 1.13's multi-tensor
    // ops take no tensor-valued factor.
    denominators[i].div_(bias_correction2_root_).add_(options.eps()).div_(neg_step_size_);
    tensors.params[i].addcdiv_(tensors.exp_avgs[i], denominators[i]);
  }
}

}  // namespace vae_cnn
