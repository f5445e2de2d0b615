// The training loop. It reports through callbacks and never prints.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/eval/epoch_metrics.hpp"
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/kernels/autocast_scope.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/loss.hpp"
#include "vae_cnn/train/process_group.hpp"
#include "vae_cnn/train/train_config.hpp"

namespace vae_cnn {

/// Training produced a NaN or infinite loss; the message names the epoch and batch.
class NonFiniteLossError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Training stopped at a batch boundary because it was asked to (Ctrl-C, SIGTERM).
class TrainingInterrupted : public std::runtime_error {
 public:
  TrainingInterrupted(std::int64_t epoch, std::int64_t batch)
      : std::runtime_error("interrupted in epoch " + std::to_string(epoch) + " after batch " + std::to_string(batch)),
        epoch_(epoch) {}
  /// The epoch that was cut short (1-based); epochs before it completed.
  std::int64_t epoch() const { return epoch_; }

 private:
  std::int64_t epoch_;
};

/// Where an epoch's training pass stands; sent after every batch.
struct BatchProgress {
  std::int64_t epoch = 0;        ///< 1-based
  std::int64_t batch = 0;        ///< batches done in this epoch
  std::int64_t num_batches = 0;
  std::int64_t images_done = 0;
  double seconds = 0;            ///< since the epoch started
  /// Sum over the batches so far of (batch mean loss × batch images), on the training device;
  /// reading it synchronises, so a caller should do so only when it redraws.
  torch::Tensor loss_sum;
};

/// What fit trains: a run's options (the warm-ups, restarts of dead encoder units, precision and
/// the CUDA graph included, as train_config.hpp describes them) from `first_epoch` on.
struct FitOptions : TrainConfig {
  std::int64_t first_epoch = 1;  ///< 1-based; above 1 when resuming
};

/// The KL weight the gradient of `epoch` (1-based) uses: beta·(epoch - 1)/warmup_epochs until it
/// reaches beta (epoch 1 trains the reconstruction alone); beta throughout when warmup_epochs is 0.
/// The loss columns always report reconstruction + beta·KL, so runs stay comparable.
double warmup_beta(double beta, std::int64_t warmup_epochs, std::int64_t epoch);

/// The learning rate of optimizer step `step` (1-based, counted over the whole run): rising linearly
/// from learning_rate/warmup_steps to learning_rate over the first warmup_steps steps, then constant.
double warmup_learning_rate(double learning_rate, std::int64_t warmup_steps, std::int64_t step);

struct FitCallbacks {
  std::function<void(const BatchProgress&)> on_batch;  ///< may be empty
  std::function<void(const EpochMetrics&)> on_epoch;   ///< after validation; may be empty
  std::function<bool()> should_stop;                   ///< polled after every batch; may be empty
  /// Something the user should know that changes how, not what, the run trains (a CUDA graph
  /// that could not be recorded); may be empty.
  std::function<void(const std::string&)> on_notice;
};

/// The VAE loss of a batch, ε drawn from `noise` when given, from the default generator otherwise.
VaeLoss batch_loss(ConvVae& model, const torch::Tensor& images, LossKind loss, double beta,
                   c10::optional<at::Generator> noise = c10::nullopt);

/// The ranks of `group` as evaluate() shares its work among them; a process alone where null.
EvalRanks evaluation_ranks(DataParallelGroup* group);

/// Trains `model` with `optimizer` on `train` for epochs first_epoch..epochs, shuffling every
/// epoch (torch's default CPU generator) and validating on `test` after every epoch; both already on
/// the model's device. Throws NonFiniteLossError when a loss stops being finite and
/// TrainingInterrupted when should_stop says so.
///
/// With a `group` (data-parallel, every rank calling fit alike) each rank trains on its rows of
/// every global batch of `batch_size`, with its rows of the ε drawn for the whole batch, and the
/// gradients, loss sums and stop requests are summed in one all-reduce per step: every rank takes
/// the step one process would, and all stop at the same batch. Metrics are the global ones.
std::vector<EpochMetrics> fit(ConvVae& model, torch::optim::Optimizer& optimizer, const Dataset& train,
                              const Dataset& test, const FitOptions& options, const FitCallbacks& callbacks,
                              DataParallelGroup* group = nullptr);

/// Why fit() will launch every step eagerly instead of replaying one recorded CUDA graph for the
/// full batches (after a few eager steps), or "" when it will record: it does on a GPU, without a
/// data-parallel group, with the trainer's Adam (MultiTensorAdam), unless options.cuda_graph is
/// false. A recording that fails at run time falls back to eager steps and says so through
/// FitCallbacks::on_notice. The recorded step is the eager one's arithmetic but for rounding in
/// Adam's update (MultiTensorAdam::apply_graph_step). fit() chooses its step by these rules, once
/// (choose_training_step in training_step.hpp).
std::string eager_step_reason(const FitOptions& options, torch::optim::Optimizer& optimizer, torch::Device device,
                              const DataParallelGroup* group);

/// Adam (the seed's) or RMSprop with Keras' defaults (ρ 0.9, ε 1e-7 added to the root, as Keras 2
/// and LibTorch do), at the given learning rate.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(ConvVae& model, double learning_rate,
                                                        OptimizerKind kind = OptimizerKind::kAdam);

}  // namespace vae_cnn
