// The training loop keeps running sums on the device and reads them back once per epoch (on the
// CPU also every few batches, for the NaN check), so a GPU is never stalled by a host sync mid-epoch.
#include "vae_cnn/train/trainer.hpp"

#include <torch/optim/rmsprop.h>

#include <algorithm>
#include <chrono>

#include "vae_cnn/train/multi_tensor_adam.hpp"
#include "vae_cnn/train/training_step.hpp"
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

}  // namespace

VaeLoss batch_loss(ConvVae& model, const torch::Tensor& images, LossKind loss, double beta,
                   c10::optional<at::Generator> noise) {
  return vae_loss(model->forward(images, std::move(noise)), images, loss, beta);
}

EvalRanks evaluation_ranks(DataParallelGroup* group) {
  if (group == nullptr) return {};
  EvalRanks ranks;
  ranks.rank = group->rank();
  ranks.world_size = group->world_size();
  ranks.sum = [group](torch::Tensor& tensor) { group->sum_in_place({tensor}); };
  return ranks;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(ConvVae& model, double learning_rate, OptimizerKind kind) {
  if (kind == OptimizerKind::kRmsprop) {
    return std::make_unique<torch::optim::RMSprop>(model->parameters(),
                                                   torch::optim::RMSpropOptions(learning_rate).alpha(0.9).eps(1e-7));
  }
  return std::make_unique<MultiTensorAdam>(model->parameters(), torch::optim::AdamOptions(learning_rate));
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

void report_batch(const StepContext& fit, std::int64_t epoch, std::int64_t batch, Clock::time_point start,
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
torch::Tensor train_epoch(const StepContext& fit, TrainingStep& step, std::int64_t epoch, Clock::time_point start) {
  const auto device = fit.train.pixels.device();
  fit.model->train();
  // Drawn on the CPU generator so a seed gives the same order on every device (and every rank).
  const auto order = torch::randperm(fit.train.size(), torch::TensorOptions(torch::kLong)).to(device);
  auto sums = torch::zeros({3}, fit.train.image_options());
  FiniteLossGuard finite_guard(device);
  const double beta_now = warmup_beta(fit.options.beta, fit.options.kl_warmup, epoch);
  const std::int64_t n = fit.train.size();
  const std::int64_t batch_size = fit.options.batch_size;
  for (std::int64_t batch = 0; batch < fit.num_batches; ++batch) {
    const auto indices = order.slice(0, batch * batch_size, std::min(n, (batch + 1) * batch_size));
    const StepResult result = step.take(indices, epoch, batch, beta_now);
    sums += result.sums;
    finite_guard.observe(result.sums[0], batch);
    if (device.is_cpu() && (batch + 1) % kFiniteCheckInterval == 0) finite_guard.check(epoch, fit.num_batches);
    report_batch(fit, epoch, batch, start, sums);
    if (fit.group != nullptr ? result.group_stops : fit.stop_requested()) throw TrainingInterrupted(epoch, batch + 1);
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
  const StepContext context{model, optimizer, train, options, callbacks, group,
                            (n + options.batch_size - 1) / options.batch_size};
  const ChosenStep chosen = choose_training_step(context);
  std::vector<EpochMetrics> history;
  for (std::int64_t epoch = options.first_epoch; epoch <= options.epochs; ++epoch) {
    const auto start = Clock::now();
    const auto sums = train_epoch(context, *chosen.step, epoch, start);
    const auto means = (sums / static_cast<double>(n)).to(torch::kCPU, torch::kFloat64);  // synchronises
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.seconds = seconds_since(start);
    metrics.images_per_second = static_cast<double>(n) / metrics.seconds;
    metrics.loss = means[0].item<double>();
    metrics.reconstruction = means[1].item<double>();
    metrics.kl = means[2].item<double>();
    const EvalMetrics validation = evaluate(model, test, options.loss, options.beta, options.batch_size,
                                            kValidationNoiseSeed, evaluation_ranks(group));
    metrics.val_loss = validation.loss;
    metrics.val_reconstruction = validation.reconstruction;
    metrics.val_kl = validation.kl;
    if (test.size() >= 2) metrics.encoder = encoder_health(model, test, options.batch_size);
    // After the health check, so the epoch's line reports the units that training left alive.
    if (epoch <= options.revive_epochs) {
      const auto probe = train.images(0, std::min(n, kRevivalProbeImages));
      metrics.restarted_units = revive_dead_hidden_units(model, optimizer, probe, options.batch_size);
    }
    history.push_back(metrics);
    if (callbacks.on_epoch) callbacks.on_epoch(metrics);
  }
  return history;
}

}  // namespace vae_cnn
