// Where one training step's time goes: the step cut into its phases (the batch, ε, each layer's
// forward pass, the loss, each layer's backward pass, the optimizer) on real images at batch 128,
// and the passes fit() makes after every epoch (validation, encoder health, the revival probe),
// spread over the epoch's steps. The profile half of the speed work; vae_cnn_layer_timings times
// the convolutions alone.
//
//     build/vae_cnn_step_profile [--data data/mnist-sample] [--threads 2] [--steps 60] [--precision fp32|bf16]
//
// The forward pass is composed here from the model's own layers and kernels, so that a clock can
// stand between them; it is checked against ConvVae::forward_with_epsilon (same loss to 1e-5)
// before anything is timed. The backward pass is cut where autograd hands each layer's input its
// gradient (a hook on that tensor). Prints each phase's median in ms and its share of the median
// step; a whole eager step (train's own code, without the clocks) is timed beside it.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/io/allocator_policy.hpp"
#include "vae_cnn/kernels/autocast_scope.hpp"
#include "vae_cnn/kernels/layer_kernels.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/encoder_health.hpp"
#include "vae_cnn/model/loss.hpp"
#include "vae_cnn/train/training_step.hpp"
#include "vae_cnn/train/unit_revival.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using vae_cnn::Activation;
using vae_cnn::KernelChoice;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0.0 : values[values.size() / 2];
}

struct Settings {
  std::string data = "data/mnist-sample";
  int threads = 2;
  int steps = 60;
  vae_cnn::Precision precision = vae_cnn::Precision::kFp32;
  std::int64_t batch = 128;
};

// Phase names in the order a step passes through them, each with its durations over the steps.
class PhaseClock {
 public:
  void start() { last_ = Clock::now(); }
  void mark(const std::string& phase) { mark_at(phase, Clock::now()); }
  void mark_at(const std::string& phase, Clock::time_point now) {
    if (samples_.find(phase) == samples_.end()) order_.push_back(phase);
    samples_[phase].push_back(ms_between(last_, now));
    last_ = now;
  }
  const std::vector<std::string>& order() const { return order_; }
  double median_ms(const std::string& phase) const { return median(samples_.at(phase)); }
  void clear() {
    samples_.clear();
    order_.clear();
  }

 private:
  Clock::time_point last_;
  std::vector<std::string> order_;
  std::map<std::string, std::vector<double>> samples_;
};

// The intermediate tensors of a forward pass, kept so the backward pass can be cut at them.
struct ForwardPass {
  torch::Tensor h1, h2, units, z_mean, z_log_var, z, features, d1, d2, logits;
};

// ConvVae::forward_with_epsilon, layer by layer, marking the clock after each. The layers are
// called through the model, which cppcheck takes for a read: a const model has no callable layers.
// cppcheck-suppress constParameter
ForwardPass timed_forward(vae_cnn::ConvVae& model, const torch::Tensor& x, const torch::Tensor& epsilon,
                          PhaseClock& clock) {
  const KernelChoice kernels = KernelChoice::kFastCpu;
  auto& encoder = *model->encoder;
  auto& decoder = *model->decoder;
  ForwardPass pass;
  pass.h1 = vae_cnn::conv2d(*encoder.conv1, x, Activation::kRelu, kernels);
  clock.mark("forward conv1");
  pass.h2 = vae_cnn::conv2d(*encoder.conv2, pass.h1, Activation::kRelu, kernels);
  clock.mark("forward conv2");
  pass.units = torch::relu(encoder.fc->forward(pass.h2.flatten(1)));
  pass.z_mean = encoder.z_mean->forward(pass.units);
  pass.z_log_var = encoder.z_log_var->forward(pass.units);
  clock.mark("forward encoder dense layers");
  pass.z = vae_cnn::reparameterize(pass.z_mean, pass.z_log_var, epsilon);
  clock.mark("forward sampler");
  const auto hidden = torch::relu(decoder.fc->forward(pass.z));
  pass.features = vae_cnn::kernel_layout(hidden.view({-1, 64, x.size(2) / 4, x.size(3) / 4}), kernels);
  clock.mark("forward decoder dense layer");
  pass.d1 = vae_cnn::conv_transpose2d(*decoder.deconv1, pass.features, Activation::kRelu, kernels);
  clock.mark("forward deconv1");
  pass.d2 = vae_cnn::conv_transpose2d(*decoder.deconv2, pass.d1, Activation::kRelu, kernels);
  clock.mark("forward deconv2");
  pass.logits = vae_cnn::conv_transpose2d(*decoder.deconv3, pass.d2, Activation::kNone, kernels);
  clock.mark("forward deconv3");
  return pass;
}

vae_cnn::VaeOutput as_output(const ForwardPass& pass) {
  return {pass.logits, torch::sigmoid(pass.logits), pass.z_mean, pass.z_log_var, pass.z};
}

// Hooks on each layer's input: autograd calls them as it hands the input its gradient, the moment
// that layer's backward pass (its weight gradient included) is done.
void hook_backward(ForwardPass& pass, std::map<std::string, Clock::time_point>& arrivals) {
  const std::vector<std::pair<std::string, torch::Tensor*>> cuts = {
      {"backward loss", &pass.logits},          {"backward deconv3", &pass.d2},
      {"backward deconv2", &pass.d1},           {"backward deconv1", &pass.features},
      {"backward decoder dense layer", &pass.z}, {"backward sampler", &pass.z_log_var},
      {"backward encoder dense layers", &pass.h2}, {"backward conv2", &pass.h1}};
  for (const auto& [phase, tensor] : cuts) {
    tensor->register_hook([&arrivals, phase = phase](const torch::Tensor&) { arrivals[phase] = Clock::now(); });
  }
}

void profiled_step(vae_cnn::ConvVae& model, torch::optim::Optimizer& optimizer, const vae_cnn::Dataset& train,
                   const Settings& settings, PhaseClock& clock) {
  clock.start();
  const auto rows = torch::randint(train.size(), {settings.batch}, torch::kLong);
  const auto x = train.images_at(rows);
  clock.mark("batch: gather and bytes to floats");
  const auto epsilon = torch::randn({settings.batch, model->options().latent_dim()});
  optimizer.zero_grad();
  clock.mark("ε and zero_grad");
  ForwardPass pass;
  {
    const vae_cnn::AutocastScope autocast(settings.precision, x.device());
    pass = timed_forward(model, x, epsilon, clock);
  }
  const auto loss = vae_cnn::vae_loss(vae_cnn::in_fp32(as_output(pass)), x, vae_cnn::LossKind::kMse, 1.0).total;
  clock.mark("loss (MSE + KL)");
  std::map<std::string, Clock::time_point> arrivals;
  hook_backward(pass, arrivals);
  loss.backward();
  const auto done = Clock::now();
  std::vector<std::pair<Clock::time_point, std::string>> cuts;
  for (const auto& [phase, at] : arrivals) cuts.emplace_back(at, phase);
  std::sort(cuts.begin(), cuts.end());
  for (const auto& [at, phase] : cuts) clock.mark_at(phase, at);
  clock.mark_at("backward conv1", done);
  optimizer.step();
  clock.mark("optimizer (Adam)");
}

// The profile must be of the model's own arithmetic: the composed pass gives its loss.
void check_composition(vae_cnn::ConvVae& model, const vae_cnn::Dataset& train, const Settings& settings) {
  torch::NoGradGuard no_grad;
  const auto x = train.images(0, settings.batch);
  const auto epsilon = torch::randn({settings.batch, model->options().latent_dim()});
  PhaseClock unused;
  ForwardPass pass;
  {
    const vae_cnn::AutocastScope autocast(settings.precision, x.device());
    pass = timed_forward(model, x, epsilon, unused);
  }
  const double composed = vae_cnn::vae_loss(vae_cnn::in_fp32(as_output(pass)), x, vae_cnn::LossKind::kMse, 1.0).total.item<double>();
  const double own =
      vae_cnn::loss_with_epsilon(model, x, epsilon, vae_cnn::LossKind::kMse, 1.0, settings.precision).total.item<double>();
  if (std::abs(composed - own) > 1e-5 * std::abs(own)) {
    std::fprintf(stderr, "step_profile: the composed forward pass gives loss %.6f, the model %.6f\n", composed, own);
    std::exit(1);
  }
}

// ms per step of train's own eager step (no clocks between layers), median over `steps`.
double eager_step_ms(vae_cnn::ConvVae& model, torch::optim::Optimizer& optimizer, const vae_cnn::Dataset& train,
                     const Settings& settings) {
  vae_cnn::FitOptions options;
  options.precision = settings.precision;
  options.lr_warmup = 0;
  const vae_cnn::FitCallbacks callbacks;
  const vae_cnn::StepContext context{model, optimizer, train, options, callbacks, nullptr, 1};
  auto step = vae_cnn::make_eager_step(context);
  std::vector<double> samples;
  for (int i = 0; i < settings.steps + 5; ++i) {
    const auto rows = torch::randint(train.size(), {settings.batch}, torch::kLong);
    const auto start = Clock::now();
    step->take(rows, 1, i, 1.0);
    if (i >= 5) samples.push_back(ms_between(start, Clock::now()));
  }
  return median(samples);
}

double seconds_of(const std::function<void()>& work) {
  const auto start = Clock::now();
  work();
  return ms_between(start, Clock::now()) / 1000.0;
}

void print_epoch_passes(vae_cnn::ConvVae& model, torch::optim::Optimizer& optimizer, const vae_cnn::DataSplits& data,
                        const Settings& settings, double step_ms) {
  const auto& train = data.train;
  const auto& test = data.test;
  const double validation = seconds_of([&] {
    vae_cnn::evaluate(model, test, vae_cnn::LossKind::kMse, 1.0, settings.batch);
  });
  const double health = seconds_of([&] { vae_cnn::encoder_health(model, test, settings.batch); });
  const double revival = seconds_of([&] {
    const auto probe = train.images(0, std::min(train.size(), vae_cnn::kRevivalProbeImages));
    vae_cnn::revive_dead_hidden_units(model, optimizer, probe, settings.batch);
  });
  const double epoch_steps = static_cast<double>((train.size() + settings.batch - 1) / settings.batch);
  std::printf("\nafter each epoch (%lld training images, %.0f steps; %lld test images):\n",
              static_cast<long long>(train.size()), epoch_steps, static_cast<long long>(test.size()));
  for (const auto& [name, seconds] : {std::pair{"validation (evaluate)", validation},
                                      std::pair{"encoder health", health},
                                      std::pair{"revival probe (first 10 epochs)", revival}}) {
    std::printf("  %-34s %8.3f s  = %6.2f ms per step, %5.1f %% of the epoch's steps\n", name, seconds,
                1000.0 * seconds / epoch_steps, 100.0 * 1000.0 * seconds / (epoch_steps * step_ms));
  }
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    const std::string value = argv[i + 1];
    if (arg == "--data") settings.data = value;
    else if (arg == "--threads") settings.threads = std::atoi(value.c_str());
    else if (arg == "--steps") settings.steps = std::atoi(value.c_str());
    else if (arg == "--precision") settings.precision = vae_cnn::parse_precision(value);
    else {
      std::fprintf(stderr, "step_profile: unknown option %s\n", arg.c_str());
      std::exit(2);
    }
  }
  return settings;
}

}  // namespace

int main(int argc, char** argv) {
  vae_cnn::keep_freed_memory_for_reuse();  // as vae_cnn itself does
  const Settings settings = parse(argc, argv);
  torch::set_num_threads(settings.threads);
  torch::manual_seed(1);
  const auto data = vae_cnn::load_data(settings.data);
  vae_cnn::ConvVae model(vae_cnn::ConvVaeOptions{});
  auto optimizer = vae_cnn::make_optimizer(model, 1e-3);
  check_composition(model, data.train, settings);
  PhaseClock clock;
  for (int i = 0; i < 5; ++i) profiled_step(model, *optimizer, data.train, settings, clock);
  clock.clear();  // the first steps create oneDNN primitives and touch fresh memory
  for (int i = 0; i < settings.steps; ++i) profiled_step(model, *optimizer, data.train, settings, clock);
  const double whole_step = eager_step_ms(model, *optimizer, data.train, settings);
  double total = 0;
  for (const auto& phase : clock.order()) total += clock.median_ms(phase);
  std::printf("batch %lld, %d threads, %s, %d steps; median ms per phase\n", static_cast<long long>(settings.batch),
              settings.threads, vae_cnn::to_string(settings.precision).c_str(), settings.steps);
  for (const auto& phase : clock.order()) {
    std::printf("  %-34s %8.2f  %5.1f %%\n", phase.c_str(), clock.median_ms(phase), 100.0 * clock.median_ms(phase) / total);
  }
  std::printf("  %-34s %8.2f\n", "sum of the phases' medians", total);
  std::printf("  %-34s %8.2f  (train's eager step, no clocks: %.0f images/s)\n", "whole step", whole_step,
              1000.0 * static_cast<double>(settings.batch) / whole_step);
  print_epoch_passes(model, *optimizer, data, settings, whole_step);
  return 0;
}
