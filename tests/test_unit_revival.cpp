// Restarting the encoder's dead hidden units: on real digits, with units killed on purpose.
#include "vae_cnn/train/unit_revival.hpp"

#include "test_support.hpp"
#include "vae_cnn/model/encoder_health.hpp"
#include "vae_cnn/train/encoder_alarm.hpp"
#include "vae_cnn/train/optimizer_state.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

Dataset real_digits(Split split, std::int64_t count) {
  const Dataset all = load_split(testing::mnist_sample_dir(), split);
  return all.head(count);
}

// Pre-activations of `units` far below zero for any image in [0, 1].
void kill_units(const ConvVae& model, std::int64_t first, std::int64_t end) {
  torch::NoGradGuard no_grad;
  model->encoder->fc->bias.slice(0, first, end).fill_(-1000.0);
}

// A model one Adam step into training, so that the optimizer holds moments for every parameter.
struct Stepped {
  ConvVae model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};

Stepped one_step_in(std::uint64_t seed) {
  torch::manual_seed(seed);
  Stepped stepped{ConvVae(), nullptr};
  stepped.optimizer = make_optimizer(stepped.model, 1e-3);
  FitOptions options = testing::plain_fit_options();
  options.epochs = 1;
  options.batch_size = 64;
  fit(stepped.model, *stepped.optimizer, real_digits(Split::kTrain, 64), real_digits(Split::kTest, 16), options, {});
  return stepped;
}

at::Tensor moment(Stepped& stepped, const std::string& parameter, const std::string& buffer) {
  const GenericDict state = optimizer_state_to_dict(*stepped.optimizer, stepped.model->named_parameters());
  return state.at(parameter).toGenericDict().at(buffer).toTensor();
}

at::Tensor copy_of(const at::Tensor& tensor) { return tensor.detach().clone(); }

TEST(UnitRevival, AKilledLayerComesBackAndTheModelStillComputesWhatItDid) {
  Stepped stepped = one_step_in(21);
  ConvVae& model = stepped.model;
  kill_units(model, 0, 16);
  const Dataset probe = real_digits(Split::kTrain, 300);
  const Dataset test = real_digits(Split::kTest, 200);
  model->eval();
  const auto [mean_before, log_var_before] = model->encoder->forward(test.images());
  ASSERT_EQ(encoder_health(model, probe, 128).hidden_alive, 0);
  const auto decoder_moment_before = copy_of(moment(stepped, "decoder.fc.weight", "exp_avg"));

  EXPECT_EQ(revive_dead_hidden_units(model, *stepped.optimizer, probe.images(), 128), 16);

  EXPECT_EQ(encoder_health(model, probe, 128).hidden_alive, 16) << "every restarted unit fires for some digit";
  const auto [mean_after, log_var_after] = model->encoder->forward(test.images());
  EXPECT_TRUE(torch::equal(mean_before, mean_after)) << "zero outgoing weights: the codes stay as they were";
  EXPECT_TRUE(torch::equal(log_var_before, log_var_after));
  EXPECT_TRUE(torch::equal(model->encoder->fc->bias, torch::zeros({16})));
  EXPECT_TRUE(torch::equal(model->encoder->z_mean->weight, torch::zeros_like(model->encoder->z_mean->weight)));
  const double bound = std::sqrt(6.0 / (3136 + 16));  // Keras' glorot_uniform for Dense(3136 -> 16)
  EXPECT_LE(model->encoder->fc->weight.abs().max().item<double>(), bound);
  EXPECT_GT(model->encoder->fc->weight.abs().max().item<double>(), 0.9 * bound);
  for (const char* buffer : {"exp_avg", "exp_avg_sq"}) {
    EXPECT_EQ(moment(stepped, "encoder.fc.weight", buffer).abs().max().item<double>(), 0.0) << buffer;
    EXPECT_EQ(moment(stepped, "encoder.z_log_var.weight", buffer).abs().max().item<double>(), 0.0) << buffer;
  }
  EXPECT_TRUE(torch::equal(moment(stepped, "decoder.fc.weight", "exp_avg"), decoder_moment_before));
  EXPECT_EQ(revive_dead_hidden_units(model, *stepped.optimizer, probe.images(), 128), 0) << "nothing left to restart";
}

TEST(UnitRevival, OnlyTheDeadUnitsChange) {
  Stepped stepped = one_step_in(22);
  ConvVae& model = stepped.model;
  const Dataset probe = real_digits(Split::kTrain, 300);
  ASSERT_EQ(revive_dead_hidden_units(model, *stepped.optimizer, probe.images(), 128), 0)
      << "a fresh model should have all 16 units alive on real digits";
  kill_units(model, 0, 4);
  const auto weight_before = copy_of(model->encoder->fc->weight);
  const auto head_before = copy_of(model->encoder->z_mean->weight);
  const auto moment_before = copy_of(moment(stepped, "encoder.fc.weight", "exp_avg_sq"));

  EXPECT_EQ(revive_dead_hidden_units(model, *stepped.optimizer, probe.images(), 64), 4);

  const auto weight = model->encoder->fc->weight;
  EXPECT_TRUE(torch::equal(weight.slice(0, 4), weight_before.slice(0, 4)));
  EXPECT_FALSE(torch::equal(weight.slice(0, 0, 4), weight_before.slice(0, 0, 4)));
  EXPECT_TRUE(torch::equal(model->encoder->z_mean->weight.slice(1, 4), head_before.slice(1, 4)));
  EXPECT_EQ(model->encoder->z_mean->weight.slice(1, 0, 4).abs().max().item<double>(), 0.0);
  const auto moment_after = moment(stepped, "encoder.fc.weight", "exp_avg_sq");
  EXPECT_TRUE(torch::equal(moment_after.slice(0, 4), moment_before.slice(0, 4)));
  EXPECT_EQ(moment_after.slice(0, 0, 4).abs().max().item<double>(), 0.0);
}

// A killed layer gets no gradient, so Adam never moves it: without a restart the run stays dead.
struct KilledRun {
  std::vector<EpochMetrics> history;
  at::Tensor hidden_weight_after_epoch_1, hidden_weight_at_end;
};

KilledRun train_killed(std::int64_t revive_epochs) {
  torch::manual_seed(23);
  ConvVae model;
  kill_units(model, 0, 16);
  auto optimizer = make_optimizer(model, 1e-3);
  FitOptions options = testing::plain_fit_options();
  options.epochs = 4;
  options.batch_size = 32;
  options.revive_epochs = revive_epochs;
  KilledRun run;
  FitCallbacks callbacks;
  callbacks.on_epoch = [&](const EpochMetrics& metrics) {
    if (metrics.epoch == 1) run.hidden_weight_after_epoch_1 = copy_of(model->encoder->fc->weight);
  };
  run.history = fit(model, *optimizer, real_digits(Split::kTrain, 256), real_digits(Split::kTest, 128), options,
                    callbacks);
  run.hidden_weight_at_end = copy_of(model->encoder->fc->weight);
  return run;
}

TEST(UnitRevival, FitRestartsUnitsAfterTheFirstEpochsOnlyAndTheLayerLearnsAgain) {
  const KilledRun dead = train_killed(0);
  const KilledRun revived = train_killed(1);
  ASSERT_EQ(dead.history.size(), 4u);
  ASSERT_EQ(revived.history.size(), 4u);
  for (const auto& metrics : dead.history) {
    EXPECT_EQ(metrics.encoder.hidden_alive, 0);
    EXPECT_EQ(metrics.restarted_units, 0);
  }
  EXPECT_TRUE(torch::equal(dead.hidden_weight_after_epoch_1, dead.hidden_weight_at_end));
  EXPECT_LT(dead.history.back().encoder.z_mean_spread, 1e-9);

  EXPECT_EQ(revived.history[0].encoder.hidden_alive, 0) << "the epoch's health is measured before the restart";
  EXPECT_EQ(revived.history[0].restarted_units, 16);
  for (std::size_t later = 1; later < revived.history.size(); ++later) {
    EXPECT_GT(revived.history[later].encoder.hidden_alive, 0) << describe(revived.history[later].encoder);
    EXPECT_EQ(revived.history[later].restarted_units, 0) << "epoch " << later + 1 << " is past --revive 1";
  }
  EXPECT_FALSE(torch::equal(revived.hidden_weight_after_epoch_1, revived.hidden_weight_at_end))
      << "the restarted layer gets gradients again";
  EXPECT_GT(revived.history.back().encoder.z_mean_spread, 1e-5) << "the heads read the restarted units";
}

}  // namespace
}  // namespace vae_cnn
