// The CUDA path against the CPU's, the recorded step against the eager one, resume on the GPU.
// Skipped where LibTorch sees no GPU (every machine but the lent one: scripts/gpu_check.sh runs
// them there).
//
// The tolerances, once: cuDNN and cuBLAS sum convolutions and products in other orders than the
// CPU's kernels (and cuDNN's backward-weight kernels with atomics, in no fixed order), so the same
// step differs in the last bits of float (~1e-7 relative per operation). Adam divides by √v: an
// element whose gradient is near zero can take a step of up to lr either way on the two devices,
// so single weights may differ by a few lr after a few steps while every loss, an average over
// thousands of such weights, agrees to ~1e-4. Losses are compared at 1e-3 relative; a real
// difference (a wrong ε, a stale learning rate frozen into a graph, a missed gradient) moves them
// by far more within a few steps.
#include "test_support.hpp"
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/train/multi_tensor_adam.hpp"
#include "vae_cnn/train/train_run.hpp"
#include "vae_cnn/train/trainer.hpp"
#include "vae_cnn/train/training_step.hpp"

namespace vae_cnn {
namespace {

using testing::ScratchDir;

constexpr double kLossTolerance = 1e-3;

#define SKIP_WITHOUT_GPU()                                                        \
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no GPU visible to LibTorch"

void expect_close_losses(double gpu, double cpu, const std::string& what) {
  EXPECT_NEAR(gpu, cpu, kLossTolerance * std::abs(cpu)) << what;
}

// The losses of `steps` Adam steps on 128 real digits from the same start and the same ε (drawn on
// the CPU), on `device`.
std::vector<double> adam_losses(torch::Device device, int steps) {
  torch::manual_seed(41);
  ConvVae model;
  model->to(device);
  MultiTensorAdam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto images = load_split(testing::mnist_sample_dir(), Split::kTrain).images(0, 128).to(device);
  at::Generator noise = at::detail::createCPUGenerator(6);
  std::vector<double> losses;
  for (int step = 0; step < steps; ++step) {
    optimizer.zero_grad();
    const auto loss = batch_loss(model, images, LossKind::kBce, 1.0, noise).total;
    loss.backward();
    optimizer.step();
    losses.push_back(loss.item<double>());
  }
  return losses;
}

TEST(OnTheGpu, AdamStepsEqualTheCpusToRounding) {
  SKIP_WITHOUT_GPU();
  const auto gpu = adam_losses(torch::Device(torch::kCUDA, 0), 10);
  const auto cpu = adam_losses(torch::kCPU, 10);
  for (std::size_t step = 0; step < cpu.size(); ++step) {
    expect_close_losses(gpu[step], cpu[step], "step " + std::to_string(step + 1));
  }
  EXPECT_LT(cpu.back(), cpu.front() * 0.9) << "the steps must train, or equal losses prove nothing";
}

// Bytes become floats on the device they live on; there the division must be the CPU's, bit for bit
// (CUDA's division by a CPU scalar multiplies by the reciprocal: one bit off for 126 of 256 bytes).
TEST(OnTheGpu, ImagesAreTheCpusBitForBit) {
  SKIP_WITHOUT_GPU();
  const Dataset cpu = Dataset::from_unit_floats(torch::arange(0, 256, torch::kFloat32).div(255).view({4, 1, 8, 8}),
                                                torch::arange(4, torch::kLong));
  const Dataset gpu = cpu.to(torch::Device(torch::kCUDA, 0));
  EXPECT_TRUE(gpu.pixels.is_cuda());
  EXPECT_TRUE(torch::equal(gpu.images().cpu(), cpu.images()));
  const torch::Tensor rows = torch::tensor({3, 1}, torch::kLong);
  EXPECT_TRUE(torch::equal(gpu.images_at(rows.cuda()).cpu(), cpu.images_at(rows)));
}

TEST(OnTheGpu, ValidationEqualsTheCpusToRounding) {
  SKIP_WITHOUT_GPU();
  torch::manual_seed(42);
  ConvVae model;
  const Dataset test = load_split(testing::mnist_sample_dir(), Split::kTest);
  const EvalMetrics cpu = evaluate(model, test, LossKind::kMse, 1.0, 128);
  const torch::Device gpu_device(torch::kCUDA, 0);
  model->to(gpu_device);
  const Dataset test_on_gpu = test.to(gpu_device);
  const EvalMetrics gpu = evaluate(model, test_on_gpu, LossKind::kMse, 1.0, 128);
  expect_close_losses(gpu.loss, cpu.loss, "loss");
  expect_close_losses(gpu.kl, cpu.kl, "kl");
}

TrainConfig gpu_run(const std::string& out, std::int64_t epochs) {
  TrainConfig config = testing::small_real_run(out, epochs, 13);
  config.device = "cuda";
  return config;
}

// The opening report's choice of step, and the run's epochs.
struct ObservedRun {
  std::string eager_step_reason = "not reported";
  std::vector<EpochMetrics> history;
};

ObservedRun observed_run(const TrainConfig& config) {
  ObservedRun run;
  TrainHooks hooks;
  hooks.on_start = [&](const TrainSetup& setup, ConvVae&) { run.eager_step_reason = setup.eager_step_reason; };
  run.history = run_training(config, hooks);
  return run;
}

TEST(OnTheGpu, TheRecordedStepTrainsAsTheEagerStep) {
  SKIP_WITHOUT_GPU();
  ScratchDir recorded_dir, eager_dir;
  const ObservedRun recorded = observed_run(gpu_run(recorded_dir.path().string(), 3));
  TrainConfig eager_config = gpu_run(eager_dir.path().string(), 3);
  eager_config.cuda_graph = false;
  const ObservedRun eager = observed_run(eager_config);
  EXPECT_EQ(recorded.eager_step_reason, "");
  EXPECT_EQ(eager.eager_step_reason, "the run asked for eager steps (cuda_graph off)");
  ASSERT_EQ(recorded.history.size(), 3u);
  ASSERT_EQ(eager.history.size(), 3u);
  // 256 digits in batches of 64: 3 eager steps, then the recording serves 9 of the 12 steps. The
  // ε of a replay comes from the generator as the eager step's does (CUDA graphs advance its
  // offset per replay), so only Adam's rounding differs.
  for (std::size_t i = 0; i < 3; ++i) {
    expect_close_losses(recorded.history[i].loss, eager.history[i].loss, "loss, epoch " + std::to_string(i + 1));
    expect_close_losses(recorded.history[i].val_loss, eager.history[i].val_loss,
                        "val_loss, epoch " + std::to_string(i + 1));
  }
  EXPECT_LT(recorded.history.back().val_loss, recorded.history.front().val_loss);
}

TEST(OnTheGpu, ResumeEqualsTheUninterruptedRun) {
  SKIP_WITHOUT_GPU();
  ScratchDir straight, stopped;
  const auto full = run_training(gpu_run(straight.path().string(), 3), {});
  run_training(gpu_run(stopped.path().string(), 2), {});
  Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(stopped.path().string()));
  ASSERT_TRUE(checkpoint.cuda_rng_state.defined()) << "a GPU run's checkpoint carries the CUDA generator";
  const TrainConfig merged = merge_resume_config(gpu_run(stopped.path().string(), 3), {"epochs"}, checkpoint);
  const auto resumed = run_training(merged, {}, &checkpoint);
  ASSERT_EQ(resumed.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    expect_close_losses(resumed[i].loss, full[i].loss, "loss, epoch " + std::to_string(i + 1));
    expect_close_losses(resumed[i].val_loss, full[i].val_loss, "val_loss, epoch " + std::to_string(i + 1));
  }
}

TEST(OnTheGpu, ABf16RunTracksTheFp32Run) {
  SKIP_WITHOUT_GPU();
  ScratchDir fp32_dir, bf16_dir;
  const auto fp32 = run_training(gpu_run(fp32_dir.path().string(), 3), {});
  TrainConfig bf16_config = gpu_run(bf16_dir.path().string(), 3);
  bf16_config.precision = Precision::kBf16;
  const auto bf16 = run_training(bf16_config, {});
  // bfloat16 keeps 8 bits of mantissa: the losses follow fp32's within a few per cent, not 1e-3.
  EXPECT_NEAR(bf16.back().val_loss, fp32.back().val_loss, 0.03 * fp32.back().val_loss);
  EXPECT_NE(bf16.back().val_loss, fp32.back().val_loss) << "the bf16 run must compute in bf16";
}

// Runs on every machine: where the step is not recorded, the reason is the first that applies.
TEST(StepRecording, SaysWhyStepsGoEagerly) {
  torch::manual_seed(43);
  ConvVae model;
  auto adam = make_optimizer(model, 1e-3);
  auto rmsprop = make_optimizer(model, 1e-3, OptimizerKind::kRmsprop);
  FitOptions options = testing::plain_fit_options();
  EXPECT_EQ(eager_step_reason(options, *adam, torch::kCPU, nullptr), "CUDA graphs are for GPUs");
  options.cuda_graph = false;
  EXPECT_EQ(eager_step_reason(options, *adam, torch::kCUDA, nullptr), "the run asked for eager steps (cuda_graph off)");
  options.cuda_graph = true;
#ifdef VAE_CNN_CUDA_BUILD
  EXPECT_EQ(eager_step_reason(options, *rmsprop, torch::kCUDA, nullptr), "only the Adam step is recorded");
  EXPECT_EQ(eager_step_reason(options, *adam, torch::kCUDA, nullptr), "");
#else
  EXPECT_EQ(eager_step_reason(options, *rmsprop, torch::kCUDA, nullptr), "this vae_cnn was built without CUDA graphs");
#endif
}

// fit() asks the factory once; it answers with the step and with the reason the start-up log shows.
TEST(StepRecording, TheFactoryGivesTheStepAndItsReason) {
  torch::manual_seed(44);
  ConvVae model;
  auto adam = make_optimizer(model, 1e-3);
  const Dataset train{torch::rand({8, 1, 28, 28}), torch::zeros({8}, torch::kLong)};
  FitOptions options = testing::plain_fit_options();
  const FitCallbacks callbacks;
  const StepContext context{model, *adam, train, options, callbacks, nullptr, 1};
  const ChosenStep chosen = choose_training_step(context);
  ASSERT_NE(chosen.step, nullptr);
  EXPECT_EQ(chosen.eager_reason, "CUDA graphs are for GPUs");
  EXPECT_EQ(chosen.eager_reason, eager_step_reason(options, *adam, torch::kCPU, nullptr));
  const auto before = model->parameters()[0].clone();
  const StepResult result = chosen.step->take(torch::arange(8), 1, 0, 1.0);
  ASSERT_EQ(result.sums.numel(), 3);
  EXPECT_TRUE(torch::isfinite(result.sums).all().item<bool>());
  EXPECT_FALSE(result.group_stops);
  EXPECT_FALSE(torch::equal(model->parameters()[0], before)) << "the step must update the weights";
}

}  // namespace
}  // namespace vae_cnn
