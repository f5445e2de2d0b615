// The loops keep running sums on the device and read them back once per epoch (on the CPU also
// every few batches, for the NaN check), so a GPU is never stalled by a host sync mid-epoch.
#include "vae_cnn/train/trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/optim/rmsprop.h>

#include <algorithm>
#include <chrono>

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

EvalMetrics evaluate(ConvVae& model, const Dataset& data, LossKind loss, double beta, std::int64_t batch_size,
                     std::uint64_t noise_seed) {
  torch::NoGradGuard no_grad;
  model->eval();
  at::Generator noise = at::detail::createCPUGenerator(noise_seed);
  const std::int64_t n = data.size();
  auto sums = torch::zeros({3}, data.images.options());
  for (std::int64_t start = 0; start < n; start += batch_size) {
    const auto images = data.images.slice(0, start, std::min(n, start + batch_size));
    const VaeLoss terms = batch_loss(model, images, loss, beta, noise);
    sums += torch::stack({terms.total, terms.reconstruction, terms.kl}) * images.size(0);
  }
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
  return std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(learning_rate));
}

double warmup_beta(double beta, std::int64_t warmup_epochs, std::int64_t epoch) {
  if (warmup_epochs <= 0) return beta;
  return beta * std::min(1.0, static_cast<double>(epoch - 1) / static_cast<double>(warmup_epochs));
}

std::vector<EpochMetrics> fit(ConvVae& model, torch::optim::Optimizer& optimizer, const Dataset& train,
                              const Dataset& test, const FitOptions& options, const FitCallbacks& callbacks) {
  TORCH_CHECK(train.size() > 0, "fit: the training split is empty");
  const auto device = train.images.device();
  const std::int64_t n = train.size();
  const std::int64_t num_batches = (n + options.batch_size - 1) / options.batch_size;
  std::vector<EpochMetrics> history;

  for (std::int64_t epoch = options.first_epoch; epoch <= options.epochs; ++epoch) {
    model->train();
    const auto start = Clock::now();
    // Drawn on the CPU generator so a seed gives the same order on every device.
    const auto order = torch::randperm(n, torch::TensorOptions(torch::kLong)).to(device);
    auto sums = torch::zeros({3}, train.images.options());
    FiniteLossGuard finite_guard(device);
    const double beta_now = warmup_beta(options.beta, options.kl_warmup, epoch);

    for (std::int64_t batch = 0; batch < num_batches; ++batch) {
      const auto indices = order.slice(0, batch * options.batch_size, std::min(n, (batch + 1) * options.batch_size));
      const auto images = train.images.index_select(0, indices);
      const VaeLoss terms = batch_loss(model, images, options.loss, beta_now);
      optimizer.zero_grad();
      terms.total.backward();
      optimizer.step();

      const auto batch_images = indices.size(0);
      // The loss columns use the full β; only during a warm-up does that differ from the optimised loss.
      const auto reported = beta_now == options.beta ? terms.total : terms.reconstruction + options.beta * terms.kl;
      sums += torch::stack({reported, terms.reconstruction, terms.kl}).detach() * batch_images;
      finite_guard.observe(reported.detach(), batch);
      if (device.is_cpu() && (batch + 1) % kFiniteCheckInterval == 0) finite_guard.check(epoch, num_batches);
      if (callbacks.on_batch) {
        BatchProgress progress;
        progress.epoch = epoch;
        progress.batch = batch + 1;
        progress.num_batches = num_batches;
        progress.images_done = std::min(n, (batch + 1) * options.batch_size);
        progress.seconds = seconds_since(start);
        progress.loss_sum = sums[0];
        callbacks.on_batch(progress);
      }
      if (callbacks.should_stop && callbacks.should_stop()) throw TrainingInterrupted(epoch, batch + 1);
    }
    finite_guard.check(epoch, num_batches);
    const auto means = (sums / static_cast<double>(n)).to(torch::kCPU, torch::kFloat64);  // synchronises
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.seconds = seconds_since(start);
    metrics.images_per_second = static_cast<double>(n) / metrics.seconds;
    metrics.loss = means[0].item<double>();
    metrics.reconstruction = means[1].item<double>();
    metrics.kl = means[2].item<double>();

    const EvalMetrics validation = evaluate(model, test, options.loss, options.beta, options.batch_size);
    metrics.val_loss = validation.loss;
    metrics.val_reconstruction = validation.reconstruction;
    metrics.val_kl = validation.kl;
    history.push_back(metrics);
    if (callbacks.on_epoch) callbacks.on_epoch(metrics);
  }
  return history;
}

}  // namespace vae_cnn
