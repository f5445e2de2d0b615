// The optimizer step of one batch behind one interface: launched eagerly, or replayed from a CUDA
// graph recorded once. fit() chooses which once, before its first batch.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <memory>
#include <string>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/train/process_group.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {

class MultiTensorAdam;

/// What every step of one fit() call works with; everything it refers to outlives the steps.
struct StepContext {
  ConvVae& model;
  torch::optim::Optimizer& optimizer;
  const Dataset& train;           ///< on the model's device
  const FitOptions& options;
  const FitCallbacks& callbacks;
  DataParallelGroup* group;       ///< null for a process alone
  std::int64_t num_batches;       ///< per epoch

  bool stop_requested() const;
  /// The optimizer's learning rate for batch `batch` (0-based) of `epoch` under options.lr_warmup.
  void set_warmup_learning_rate(std::int64_t epoch, std::int64_t batch) const;
};

struct StepResult {
  /// This rank's sums of the reported loss, reconstruction and KL; valid until the next step (a
  /// recorded step's output tensor is overwritten by the next replay).
  torch::Tensor sums;
  bool group_stops = false;  ///< a rank of the group was asked to stop
};

class TrainingStep {
 public:
  virtual ~TrainingStep() = default;
  /// One optimizer step on the training images `indices` (batch `batch`, 0-based, of `epoch`),
  /// the KL weighted by `beta_now`.
  virtual StepResult take(const torch::Tensor& indices, std::int64_t epoch, std::int64_t batch, double beta_now) = 0;
};

/// Every step's kernels launched one by one; with a group, one all-reduce per step.
std::unique_ptr<TrainingStep> make_eager_step(const StepContext& context);

/// Full batches replayed from one CUDA graph, recorded after a few eager steps and again whenever
/// the KL weight changes; a short last batch, and every step after a recording that failed (said
/// through FitCallbacks::on_notice), go eagerly. The device must be a GPU, without a group.
std::unique_ptr<TrainingStep> make_recorded_step(const StepContext& context, MultiTensorAdam& adam);

struct ChosenStep {
  std::unique_ptr<TrainingStep> step;
  std::string eager_reason;  ///< why every step is launched eagerly; "" when they are recorded
};

/// The step fit() takes with `context`: recorded where eager_step_reason has none, eager otherwise.
ChosenStep choose_training_step(const StepContext& context);

}  // namespace vae_cnn
