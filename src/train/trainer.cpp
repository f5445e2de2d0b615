// The loops keep running sums on the device and read them back once per epoch (on the CPU also
// every few batches, for the NaN check), so a GPU is never stalled by a host sync mid-epoch.
#include "vae_cnn/train/trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/rmsprop.h>

#include <algorithm>
#include <chrono>

#include "vae_cnn/train/multi_tensor_adam.hpp"
#include "vae_cnn/train/step_graph.hpp"
#include "vae_cnn/train/unit_revival.hpp"

namespace vae_cnn {
namespace {

using Clock = std::chrono::steady_clock;

// How often the device-side NaN flag is read back on the CPU, where it costs nothing and stops a
// diverged run within a few steps. A GPU is read once per epoch (its epochs take a fraction of a
// second), so the host never stalls it mid-epoch.
constexpr std::int64_t kFiniteCheckInterval = 8;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Remembers the first batch whose loss was not finite, without reading it back each step.
class FiniteLossGuard {
 public:
  explicit FiniteLossGuard(torch::Device device)
      : first_bad_batch_(torch::full({}, -1, torch::TensorOptions(torch::kLong).device(device))) {}

  void observe(const torch::Tensor& loss, std::int64_t batch_index) {
    const auto bad_now = torch::logical_and(torch::logical_not(torch::isfinite(loss)), first_bad_batch_.lt(0));
    first_bad_batch_ = torch::where(bad_now, torch::full_like(first_bad_batch_, batch_index), first_bad_batch_);
  }

  void check(std::int64_t epoch, std::int64_t num_batches) const {
    const std::int64_t bad = first_bad_batch_.item<std::int64_t>();
    if (bad >= 0) {
      throw NonFiniteLossError("loss became non-finite (NaN or infinite) at epoch " + std::to_string(epoch) +
                               ", batch " + std::to_string(bad + 1) + " of " + std::to_string(num_batches) +
                               "; try a lower --lr");
    }
  }

 private:
  torch::Tensor first_bad_batch_;
};

// The rows of a batch this process works on: all of them without a group.
RowShard own_rows(std::int64_t batch_images, const DataParallelGroup* group) {
  return group == nullptr ? RowShard{0, batch_images} : shard_rows(batch_images, group->rank(), group->world_size());
}

// The loss of a rank's rows of a batch: `images` are those rows, `batch_epsilon` the ε of the
// whole batch, of which the rows' share is taken.
VaeLoss loss_on_rows(ConvVae& model, const torch::Tensor& images, const torch::Tensor& batch_epsilon, RowShard rows,
                     LossKind loss, double beta, Precision precision = Precision::kFp32) {
  const auto epsilon = batch_epsilon.slice(0, rows.begin, rows.end);
  if (precision == Precision::kFp32) return vae_loss(model->forward_with_epsilon(images, epsilon), images, loss, beta);
  VaeOutput output;
  {
    const AutocastScope autocast(precision, images.device());
    output = model->forward_with_epsilon(images, epsilon);
  }
  // The loss in fp32: its sums over 784 pixels are where bfloat16's 8-bit mantissa would show.
  for (auto* tensor : {&output.logits, &output.reconstruction, &output.z_mean, &output.z_log_var, &output.z}) {
    *tensor = tensor->to(torch::kFloat);
  }
  return vae_loss(output, images, loss, beta);
}

// One all-reduce per step carries everything the ranks must agree on: the gradients (each rank's
// share of the batch mean, so their sum is the batch's), the step's loss sums, and whether any rank
// was asked to stop. Returns that last.
bool sum_over_ranks(DataParallelGroup& group, ConvVae& model, torch::Tensor& step_sums, bool stop_here) {
  std::vector<torch::Tensor> tensors;
  for (auto& parameter : model->parameters()) {
    // A rank without rows of a small last batch has no gradients yet; it adds zeros.
    if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    tensors.push_back(parameter.grad());
  }
  const auto stop_votes = torch::full({1}, stop_here ? 1.0f : 0.0f, step_sums.options());
  tensors.push_back(step_sums);
  tensors.push_back(stop_votes);
  group.sum_in_place(tensors);
  return stop_votes.item<float>() > 0;
}

}  // namespace

VaeLoss batch_loss(ConvVae& model, const torch::Tensor& images, LossKind loss, double beta,
                   c10::optional<at::Generator> noise) {
  return vae_loss(model->forward(images, std::move(noise)), images, loss, beta);
}

EvalMetrics evaluate(ConvVae& model, const Dataset& data, LossKind loss, double beta, std::int64_t batch_size,
                     std::uint64_t noise_seed, DataParallelGroup* group) {
  torch::NoGradGuard no_grad;
  model->eval();
  at::Generator noise = at::detail::createCPUGenerator(noise_seed);
  const std::int64_t n = data.size();
  const std::int64_t latent_dim = model->options().latent_dim();
  auto sums = torch::zeros({3}, data.images.options());
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const auto images = data.images.slice(0, start, std::min(n, start + batch_size));
    // Every rank draws the whole batch's ε, so the generator stays in step with one process's.
    const auto epsilon = standard_normal_like({images.size(0), latent_dim}, noise, images);
    const RowShard rows = own_rows(images.size(0), group);
    if (rows.size() == 0) continue;
    const VaeLoss terms = loss_on_rows(model, images.slice(0, rows.begin, rows.end), epsilon, rows, loss, beta);
    sums += torch::stack({terms.total, terms.reconstruction, terms.kl}) * rows.size();
  }
  if (group != nullptr) group->sum_in_place({sums});
  EvalMetrics metrics;
  metrics.images = n;
  if (n == 0) return metrics;
  const auto means = (sums / static_cast<double>(n)).to(torch::kCPU, torch::kFloat64);
  metrics.loss = means[0].item<double>();
  metrics.reconstruction = means[1].item<double>();
  metrics.kl = means[2].item<double>();
  return metrics;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(ConvVae& model, double learning_rate, OptimizerKind kind) {
  if (kind == OptimizerKind::kRmsprop) {
    return std::make_unique<torch::optim::RMSprop>(model->parameters(),
                                                   torch::optim::RMSpropOptions(learning_rate).alpha(0.9).eps(1e-7));
  }
  return std::make_unique<MultiTensorAdam>(model->parameters(), torch::optim::AdamOptions(learning_rate));
}

std::string step_recording_unavailable_reason(const FitOptions& options, torch::optim::Optimizer& optimizer,
                                              torch::Device device, const DataParallelGroup* group) {
  if (!options.cuda_graph) return "--no-cuda-graph";
  const std::string device_reason = StepGraph::unavailable_reason(device);
  if (!device_reason.empty()) return device_reason;
  if (group != nullptr) return "a data-parallel step reduces across ranks on the host's schedule";
  auto* adam = dynamic_cast<MultiTensorAdam*>(&optimizer);
  if (adam == nullptr) return "only the Adam step is recorded";
  return adam->graph_step_unavailable_reason();
}

double warmup_beta(double beta, std::int64_t warmup_epochs, std::int64_t epoch) {
  if (warmup_epochs <= 0) return beta;
  return beta * std::min(1.0, static_cast<double>(epoch - 1) / static_cast<double>(warmup_epochs));
}

double warmup_learning_rate(double learning_rate, std::int64_t warmup_steps, std::int64_t step) {
  if (warmup_steps <= 0 || step >= warmup_steps) return learning_rate;
  return learning_rate * static_cast<double>(std::max<std::int64_t>(step, 1)) / static_cast<double>(warmup_steps);
}

namespace {

// Steps taken eagerly before the first recording: cuDNN and cuBLAS choose their algorithms and
// set up their workspaces then, which a recording must not contain.
constexpr std::int64_t kEagerStepsBeforeRecording = 3;

// The step of full batches as a recorded CUDA graph: its input (the batch's indices) and output
// (the loss sums) are tensors that stay put, written before and read after each replay.
struct RecordedStep {
  RecordedStep(torch::Device device, MultiTensorAdam& adam, std::int64_t batch_size)
      : graph(device),
        adam(adam),
        indices(torch::empty({batch_size}, torch::TensorOptions(torch::kLong).device(device))),
        sums(torch::zeros({3}, torch::TensorOptions(torch::kFloat).device(device))) {}

  StepGraph graph;  // first: its stream is current while the tensors below are made and used
  MultiTensorAdam& adam;
  torch::Tensor indices, sums;
  double beta = -1;                 ///< the KL weight frozen into the recording
  std::int64_t eager_steps = 0;     ///< taken in this fit before the recording
  bool failed = false;              ///< recording failed: every step goes eagerly
};

// What every step of one fit() call works with.
struct FitContext {
  ConvVae& model;
  torch::optim::Optimizer& optimizer;
  const Dataset& train;
  const FitOptions& options;
  const FitCallbacks& callbacks;
  DataParallelGroup* group;
  std::int64_t num_batches;
  RecordedStep* recorded;  ///< null where the step is not recorded

  bool stop_requested() const { return callbacks.should_stop && callbacks.should_stop(); }
};

struct StepResult {
  /// This rank's sums of the reported loss, reconstruction and KL; valid until the next step (a
  /// recorded step's output tensor is overwritten by the next replay).
  torch::Tensor sums;
  bool group_stops = false;   ///< a rank of the group was asked to stop
};

void set_warmup_learning_rate(const FitContext& fit, std::int64_t epoch, std::int64_t batch) {
  if (fit.options.lr_warmup <= 0) return;
  const double rate = warmup_learning_rate(fit.options.learning_rate, fit.options.lr_warmup,
                                           (epoch - 1) * fit.num_batches + batch + 1);
  for (auto& param_group : fit.optimizer.param_groups()) param_group.options().set_lr(rate);
}

// The device work of a whole-batch step on the rows `recorded.indices` names, its loss sums into
// `recorded.sums`: no host reads or writes, so that it can be recorded. The gradients must be
// undefined before, so that backward writes them rather than adding to them.
void whole_batch_step(const FitContext& fit, RecordedStep& recorded) {
  const std::int64_t batch_images = recorded.indices.size(0);
  const auto epsilon = torch::randn({batch_images, fit.model->options().latent_dim()}, fit.train.images.options());
  const auto images = fit.train.images.index_select(0, recorded.indices);
  const VaeLoss terms =
      loss_on_rows(fit.model, images, epsilon, RowShard{0, batch_images}, fit.options.loss, recorded.beta,
                   fit.options.precision);
  terms.total.backward();
  recorded.adam.apply_graph_step();
  const auto reported =
      recorded.beta == fit.options.beta ? terms.total : terms.reconstruction + fit.options.beta * terms.kl;
  recorded.sums.copy_(torch::stack({reported, terms.reconstruction, terms.kl}).detach() * batch_images);
}

void forget_gradients(ConvVae& model) {
  for (auto& parameter : model->parameters()) parameter.mutable_grad() = torch::Tensor();
}

// Records the whole-batch step for KL weight `beta_now`; false, having said why, when that fails.
bool record_whole_batch_step(const FitContext& fit, RecordedStep& recorded, double beta_now) {
  recorded.beta = beta_now;
  forget_gradients(fit.model);
  try {
    recorded.graph.record([&] { whole_batch_step(fit, recorded); });
    return true;
  } catch (const std::exception& error) {
    recorded.failed = true;
    if (fit.callbacks.on_notice) {
      fit.callbacks.on_notice(std::string("the training step could not be recorded as a CUDA graph (") +
                              error.what() + "); every step is launched eagerly from here on");
    }
    return false;
  }
}

// Takes the step of batch `batch` (rows `indices`) through the recording, recording it first
// where there is none for this KL weight. Returns false, having done nothing, for a batch that
// goes eagerly: a short last batch, the first few steps, or after a failed recording.
bool recorded_step(const FitContext& fit, const torch::Tensor& indices, std::int64_t epoch, std::int64_t batch,
                   double beta_now, StepResult& result) {
  RecordedStep& recorded = *fit.recorded;
  if (recorded.failed || indices.size(0) != recorded.indices.size(0)) return false;
  if (!recorded.graph.recorded() && recorded.eager_steps < kEagerStepsBeforeRecording) {
    ++recorded.eager_steps;
    return false;
  }
  set_warmup_learning_rate(fit, epoch, batch);
  recorded.indices.copy_(indices);
  recorded.adam.prepare_graph_step();
  const bool replayable = (recorded.graph.recorded() && recorded.beta == beta_now) ||
                          record_whole_batch_step(fit, recorded, beta_now);
  if (replayable) {
    recorded.graph.replay();
  } else {
    // This batch's step was counted and prepared: take it with the same arithmetic, unrecorded.
    forget_gradients(fit.model);
    whole_batch_step(fit, recorded);
  }
  result.sums = recorded.sums;
  return true;
}

// One optimizer step on batch `batch` of the epoch's `order`, the KL weighted by `beta_now`.
StepResult train_step(const FitContext& fit, const torch::Tensor& order, std::int64_t epoch, std::int64_t batch,
                      double beta_now) {
  const FitOptions& options = fit.options;
  const std::int64_t n = fit.train.size();
  const auto indices = order.slice(0, batch * options.batch_size, std::min(n, (batch + 1) * options.batch_size));
  const std::int64_t batch_images = indices.size(0);
  StepResult result;
  if (fit.recorded != nullptr && recorded_step(fit, indices, epoch, batch, beta_now, result)) return result;
  // Drawn exactly as the forward pass of the whole batch would draw it, so one process's run and a
  // group's take the same ε.
  const auto epsilon = torch::randn({batch_images, fit.model->options().latent_dim()}, fit.train.images.options());
  const RowShard rows = own_rows(batch_images, fit.group);
  fit.optimizer.zero_grad();
  result.sums = torch::zeros({3}, fit.train.images.options());
  if (rows.size() > 0) {
    const auto images = fit.train.images.index_select(0, indices.slice(0, rows.begin, rows.end));
    const VaeLoss terms = loss_on_rows(fit.model, images, epsilon, rows, options.loss, beta_now, options.precision);
    // This rank's share of the batch mean: the ranks' gradients then add up to the whole batch's.
    (rows.size() == batch_images ? terms.total : terms.total * (static_cast<double>(rows.size()) / batch_images))
        .backward();
    // The loss columns use the full β; only during a warm-up does that differ from the optimised loss.
    const auto reported = beta_now == options.beta ? terms.total : terms.reconstruction + options.beta * terms.kl;
    result.sums = torch::stack({reported, terms.reconstruction, terms.kl}).detach() * rows.size();
  }
  // A group decides together, in the step's all-reduce, so that every rank stops at this batch.
  result.group_stops =
      fit.group != nullptr && sum_over_ranks(*fit.group, fit.model, result.sums, fit.stop_requested());
  set_warmup_learning_rate(fit, epoch, batch);
  fit.optimizer.step();
  return result;
}

void report_batch(const FitContext& fit, std::int64_t epoch, std::int64_t batch, Clock::time_point start,
                  const torch::Tensor& sums) {
  if (!fit.callbacks.on_batch) return;
  BatchProgress progress;
  progress.epoch = epoch;
  progress.batch = batch + 1;
  progress.num_batches = fit.num_batches;
  progress.images_done = std::min(fit.train.size(), (batch + 1) * fit.options.batch_size);
  progress.seconds = seconds_since(start);
  progress.loss_sum = sums[0];
  fit.callbacks.on_batch(progress);
}

// The training pass of one epoch; returns the sums of the reported loss, reconstruction and KL.
torch::Tensor train_epoch(const FitContext& fit, std::int64_t epoch, Clock::time_point start) {
  const auto device = fit.train.images.device();
  fit.model->train();
  // Drawn on the CPU generator so a seed gives the same order on every device (and every rank).
  const auto order = torch::randperm(fit.train.size(), torch::TensorOptions(torch::kLong)).to(device);
  auto sums = torch::zeros({3}, fit.train.images.options());
  FiniteLossGuard finite_guard(device);
  const double beta_now = warmup_beta(fit.options.beta, fit.options.kl_warmup, epoch);
  for (std::int64_t batch = 0; batch < fit.num_batches; ++batch) {
    const StepResult step = train_step(fit, order, epoch, batch, beta_now);
    sums += step.sums;
    finite_guard.observe(step.sums[0], batch);
    if (device.is_cpu() && (batch + 1) % kFiniteCheckInterval == 0) finite_guard.check(epoch, fit.num_batches);
    report_batch(fit, epoch, batch, start, sums);
    if (fit.group != nullptr ? step.group_stops : fit.stop_requested()) throw TrainingInterrupted(epoch, batch + 1);
  }
  finite_guard.check(epoch, fit.num_batches);
  return sums;
}

}  // namespace

std::vector<EpochMetrics> fit(ConvVae& model, torch::optim::Optimizer& optimizer, const Dataset& train,
                              const Dataset& test, const FitOptions& options, const FitCallbacks& callbacks,
                              DataParallelGroup* group) {
  TORCH_CHECK(train.size() > 0, "fit: the training split is empty");
  const std::int64_t n = train.size();
  std::unique_ptr<RecordedStep> recorded;
  if (step_recording_unavailable_reason(options, optimizer, train.images.device(), group).empty()) {
    recorded = std::make_unique<RecordedStep>(train.images.device(), dynamic_cast<MultiTensorAdam&>(optimizer),
                                              std::min(n, options.batch_size));
  }
  const FitContext context{model,        optimizer, train, options, callbacks, group,
                           (n + options.batch_size - 1) / options.batch_size, recorded.get()};
  std::vector<EpochMetrics> history;
  for (std::int64_t epoch = options.first_epoch; epoch <= options.epochs; ++epoch) {
    const auto start = Clock::now();
    const auto sums = train_epoch(context, epoch, start);
    const auto means = (sums / static_cast<double>(n)).to(torch::kCPU, torch::kFloat64);  // synchronises
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.seconds = seconds_since(start);
    metrics.images_per_second = static_cast<double>(n) / metrics.seconds;
    metrics.loss = means[0].item<double>();
    metrics.reconstruction = means[1].item<double>();
    metrics.kl = means[2].item<double>();
    const EvalMetrics validation =
        evaluate(model, test, options.loss, options.beta, options.batch_size, kValidationNoiseSeed, group);
    metrics.val_loss = validation.loss;
    metrics.val_reconstruction = validation.reconstruction;
    metrics.val_kl = validation.kl;
    if (test.size() >= 2) metrics.encoder = encoder_health(model, test.images, options.batch_size);
    // After the health check, so the epoch's line reports the units that training left alive.
    if (epoch <= options.revive_epochs) {
      const auto probe = train.images.slice(0, 0, std::min(n, kRevivalProbeImages));
      metrics.revived_units = revive_dead_hidden_units(model, optimizer, probe, options.batch_size);
    }
    history.push_back(metrics);
    if (callbacks.on_epoch) callbacks.on_epoch(metrics);
  }
  return history;
}

}  // namespace vae_cnn
