// The choice between the eager and the recorded step, made once per fit() from the run's options,
// its device, its group and its optimizer.
#include "vae_cnn/train/training_step.hpp"

#include "vae_cnn/train/multi_tensor_adam.hpp"
#include "vae_cnn/train/step_graph.hpp"

namespace vae_cnn {
namespace {

// The Adam whose step a CUDA graph records, or why every step goes eagerly; the first reason that
// applies wins.
struct StepPlan {
  MultiTensorAdam* recorded_adam = nullptr;
  std::string eager_reason;
};

StepPlan plan_step(const FitOptions& options, torch::optim::Optimizer& optimizer, torch::Device device,
                   const DataParallelGroup* group) {
  if (!options.cuda_graph) return {nullptr, "the run asked for eager steps (cuda_graph off)"};
  std::string device_reason = StepGraph::unavailable_reason(device);
  if (!device_reason.empty()) return {nullptr, std::move(device_reason)};
  if (group != nullptr) return {nullptr, "a data-parallel step reduces across ranks on the host's schedule"};
  auto* adam = dynamic_cast<MultiTensorAdam*>(&optimizer);
  if (adam == nullptr) return {nullptr, "only the Adam step is recorded"};
  std::string adam_reason = adam->graph_step_unavailable_reason();
  if (!adam_reason.empty()) return {nullptr, std::move(adam_reason)};
  return {adam, ""};
}

}  // namespace

bool StepContext::stop_requested() const { return callbacks.should_stop && callbacks.should_stop(); }

void StepContext::set_warmup_learning_rate(std::int64_t epoch, std::int64_t batch) const {
  if (options.lr_warmup <= 0) return;
  const double rate =
      warmup_learning_rate(options.learning_rate, options.lr_warmup, (epoch - 1) * num_batches + batch + 1);
  for (auto& param_group : optimizer.param_groups()) param_group.options().set_lr(rate);
}

std::string eager_step_reason(const FitOptions& options, torch::optim::Optimizer& optimizer, torch::Device device,
                              const DataParallelGroup* group) {
  return plan_step(options, optimizer, device, group).eager_reason;
}

ChosenStep choose_training_step(const StepContext& context) {
  StepPlan plan = plan_step(context.options, context.optimizer, context.train.pixels.device(), context.group);
  if (plan.recorded_adam == nullptr) return {make_eager_step(context), std::move(plan.eager_reason)};
  return {make_recorded_step(context, *plan.recorded_adam), ""};
}

}  // namespace vae_cnn
