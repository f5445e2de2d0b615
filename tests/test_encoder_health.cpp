// The dead-encoder measure and alarm, and the learning-rate warm-up offered against dead encoders:
// on real digits, with an encoder killed on purpose as the bad case.
#include "vae_cnn/model/encoder_health.hpp"

#include <cmath>

#include "test_support.hpp"
#include "vae_cnn/train/encoder_alarm.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

Dataset real_digits(Split split, std::int64_t count) {
  const Dataset all = load_split(testing::mnist_sample_dir(), split);
  return all.head(count);
}

// Every pre-activation of the Dense(16) layer far below zero for any image in [0, 1].
void kill_hidden_layer(const ConvVae& model) {
  torch::NoGradGuard no_grad;
  model->encoder->fc->bias.fill_(-1000.0);
}

EpochMetrics epoch_with(std::int64_t epoch, std::int64_t alive, double spread) {
  EpochMetrics metrics;
  metrics.epoch = epoch;
  metrics.encoder.hidden_units = 16;
  metrics.encoder.hidden_alive = alive;
  metrics.encoder.z_mean_spread = spread;
  return metrics;
}

TEST(EncoderHealth, SeesTheUnitsOfAFreshModelAndNoneOfAKilledOne) {
  torch::manual_seed(5);
  ConvVae model;
  const Dataset digits = real_digits(Split::kTest, 300);
  const EncoderHealth fresh = encoder_health(model, digits, 128);
  EXPECT_EQ(fresh.hidden_units, 16);
  EXPECT_GE(fresh.hidden_alive, 8) << describe(fresh);
  EXPECT_TRUE(fresh.uses_input()) << describe(fresh);

  kill_hidden_layer(model);
  const EncoderHealth killed = encoder_health(model, digits, 128);
  EXPECT_EQ(killed.hidden_alive, 0);
  EXPECT_LT(killed.z_mean_spread, 1e-6);  // z_mean is the head's bias for every image
  EXPECT_FALSE(killed.uses_input());
  EXPECT_TRUE(model->is_training()) << "the measure must leave the model's mode as it found it";
}

TEST(EncoderHealth, BatchSizeDoesNotChangeTheCount) {
  torch::manual_seed(6);
  ConvVae model;
  const Dataset digits = real_digits(Split::kTest, 200);
  const EncoderHealth whole = encoder_health(model, digits, 200);
  const EncoderHealth in_pieces = encoder_health(model, digits, 7);
  EXPECT_EQ(whole.hidden_alive, in_pieces.hidden_alive);
  EXPECT_NEAR(whole.z_mean_spread, in_pieces.z_mean_spread, 1e-5 * whole.z_mean_spread);
}

TEST(EncoderAlarm, AKilledEncoderSoundsItOnceAfterTheFirstEpoch) {
  torch::manual_seed(7);
  ConvVae model;
  kill_hidden_layer(model);
  auto optimizer = make_optimizer(model, 1e-3);
  FitOptions options = testing::plain_fit_options();
  options.epochs = 2;
  options.batch_size = 64;
  EncoderAlarm alarm;
  std::vector<std::string> said;
  FitCallbacks callbacks;
  callbacks.on_epoch = [&](const EpochMetrics& metrics) {
    if (auto text = alarm.after_epoch(metrics)) said.push_back("epoch " + std::to_string(metrics.epoch) + ": " + *text);
  };
  const auto history = fit(model, *optimizer, real_digits(Split::kTrain, 256), real_digits(Split::kTest, 128), options,
                           callbacks);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].encoder.hidden_alive, 0);
  ASSERT_EQ(said.size(), 1u);
  for (const char* part : {"epoch 1: warning: after epoch 1 the encoder has stopped using its input",
                           "0/16 hidden units alive", "cannot recover", "--seed"}) {
    EXPECT_NE(said[0].find(part), std::string::npos) << "missing '" << part << "' in: " << said[0];
  }
}

TEST(EncoderAlarm, AHealthyRunTrainsWithoutIt) {
  torch::manual_seed(8);
  ConvVae model;
  auto optimizer = make_optimizer(model, 1e-3);
  FitOptions options = testing::plain_fit_options();
  options.epochs = 1;
  options.batch_size = 64;
  const auto history = fit(model, *optimizer, real_digits(Split::kTrain, 256), real_digits(Split::kTest, 128), options, {});
  EXPECT_GT(history[0].encoder.hidden_alive, 0);
  EXPECT_FALSE(EncoderAlarm().after_epoch(history[0]).has_value()) << describe(history[0].encoder);
}

TEST(EncoderAlarm, AQuietCodeWithUnitsAliveGetsThreeEpochsAndRecoveryIsNoted) {
  EncoderAlarm alarm;
  EXPECT_FALSE(alarm.after_epoch(epoch_with(1, 4, 0.005)));
  EXPECT_FALSE(alarm.after_epoch(epoch_with(2, 4, 0.004)));
  const auto warning = alarm.after_epoch(epoch_with(3, 4, 0.004));
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("for 3 epochs"), std::string::npos) << *warning;
  EXPECT_NE(warning->find("rarely recovers"), std::string::npos) << *warning;
  EXPECT_FALSE(alarm.after_epoch(epoch_with(4, 4, 0.004)));
  const auto note = alarm.after_epoch(epoch_with(5, 6, 0.7));
  ASSERT_TRUE(note);
  EXPECT_NE(note->find("uses its input again"), std::string::npos) << *note;
  EXPECT_FALSE(alarm.after_epoch(epoch_with(6, 6, 0.8)));
  EXPECT_FALSE(EncoderAlarm().after_epoch(EpochMetrics{})) << "an unmeasured epoch says nothing";
}

TEST(EncoderAlarm, RestartedUnitsAreNamedAsAChanceOfRecovery) {
  EpochMetrics restarted = epoch_with(2, 0, 0.0);
  restarted.restarted_units = 16;
  const auto warning = EncoderAlarm().after_epoch(restarted);
  ASSERT_TRUE(warning);
  EXPECT_NE(warning->find("its 16 dead hidden units were restarted, which may bring it back"),
            std::string::npos) << *warning;
  EXPECT_EQ(warning->find("cannot recover"), std::string::npos) << *warning;
}

TEST(LearningRateWarmup, RisesLinearlyToTheRateThenStays) {
  EXPECT_DOUBLE_EQ(warmup_learning_rate(1e-3, 0, 1), 1e-3);
  EXPECT_DOUBLE_EQ(warmup_learning_rate(1e-3, 4, 1), 0.25e-3);
  EXPECT_DOUBLE_EQ(warmup_learning_rate(1e-3, 4, 3), 0.75e-3);
  EXPECT_DOUBLE_EQ(warmup_learning_rate(1e-3, 4, 4), 1e-3);
  EXPECT_DOUBLE_EQ(warmup_learning_rate(1e-3, 4, 900), 1e-3);
}

// Adam's first step moves every parameter with a gradient by about the learning rate in use, so
// the first step of a warm-up over 4 steps moves them a quarter as far.
TEST(LearningRateWarmup, FitTakesAQuarterOfTheStepFirst) {
  const Dataset train = real_digits(Split::kTrain, 64);
  auto first_step = [&](std::int64_t warmup) {
    torch::manual_seed(9);
    ConvVae model;
    const auto before = model->decoder->fc->bias.detach().clone();
    auto optimizer = make_optimizer(model, 1e-3);
    FitOptions options = testing::plain_fit_options();
    options.epochs = 1;
    options.batch_size = 64;
    options.lr_warmup = warmup;
    fit(model, *optimizer, train, real_digits(Split::kTest, 16), options, {});
    return std::make_pair((model->decoder->fc->bias.detach() - before).abs().max().item<double>(),
                          optimizer->param_groups()[0].options().get_lr());
  };
  const auto [plain_move, plain_rate] = first_step(0);
  const auto [warm_move, warm_rate] = first_step(4);
  EXPECT_NEAR(plain_move, 1e-3, 1e-5);
  EXPECT_NEAR(warm_move, 0.25e-3, 1e-5);
  EXPECT_DOUBLE_EQ(plain_rate, 1e-3);
  EXPECT_DOUBLE_EQ(warm_rate, 0.25e-3);  // one step of four taken
}

}  // namespace
}  // namespace vae_cnn
