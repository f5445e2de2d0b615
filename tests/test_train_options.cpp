// The options table (train_options.hpp) and what is derived from it: every row parses, is checked,
// recorded and resumed as the row says. A row added without a case here fails these tests.
#include "vae_cnn/train/train_options.hpp"

#include <filesystem>
#include <map>

#include "test_support.hpp"
#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/train/train_run.hpp"

namespace vae_cnn {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

// A value unlike small_real_run's for every option that a run records or may change, as the
// command line writes it; `data` is a folder of the same data set under another path.
std::map<std::string, std::string> other_values(const std::string& data, const std::string& out) {
  return {{"data_dir", data},     {"loss", "bce"},          {"epochs", "3"},          {"batch_size", "32"},
          {"learning_rate", "0.0005"}, {"optimizer", "rmsprop"}, {"init", "torch"},       {"latent_dim", "3"},
          {"beta", "0.5"},        {"kl_warmup", "2"},       {"lr_warmup", "7"},       {"precision", "bf16"},
          {"revive_epochs", "0"}, {"device", "auto"},       {"cuda_graph", "false"},  {"threads", "2"},
          {"seed", "12"},         {"limit", "200"},         {"out_dir", out},         {"group_timeout_seconds", "60"},
          {"overwrite", "true"},  {"image_size", "32"},     {"channels", "3"},        {"test_fraction", "0.25"}};
}

// The data folder of small_real_run under another path, with the same data set name.
std::string same_data_elsewhere(const ScratchDir& dir) {
  const std::filesystem::path folder = std::filesystem::path(dir.file("moved")) / "mnist";
  std::filesystem::create_directories(folder.parent_path());
  std::filesystem::create_directory_symlink(testing::small_real_dir(), folder);
  return folder.string();
}

TEST(TrainOptions, EveryOptionThatMayChangeOnResumeTakesEffectAndIsRecorded) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.file("first"), 1, 11), {});
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(dir.file("first")));
  const auto values = other_values(same_data_elsewhere(dir), dir.file("second"));
  TrainConfig given = testing::small_real_run("", 1, 11);
  std::set<std::string> explicit_fields;
  for (const TrainOption& option : train_options()) {
    if (option.on_resume != OnResume::kMayChange) continue;
    ASSERT_EQ(values.count(option.field), 1u) << option.field << ": no other value to resume with";
    ASSERT_NE(values.at(option.field), option_value_text(option, checkpoint.config)) << option.field;
    set_option_from_text(option, given, values.at(option.field));
    explicit_fields.insert(option.field);
  }
  const TrainConfig merged = merge_resume_config(given, explicit_fields, checkpoint);
  for (const std::string& field : explicit_fields) {
    EXPECT_EQ(option_value_text(*train_option_for_field(field), merged), values.at(field)) << field;
  }
  run_training(merged, {}, const_cast<Checkpoint*>(&checkpoint));
  const Checkpoint resumed = load_checkpoint(checkpoint_path_in(dir.file("second")));
  for (const std::string& field : explicit_fields) {
    const TrainOption& option = *train_option_for_field(field);
    if (option.recorded) {
      EXPECT_EQ(option_value_text(option, resumed.config), values.at(field)) << field;
    }
  }
}

TEST(TrainOptions, EveryKeptOptionRefusesAnotherValueOnResume) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.path().string(), 1, 11), {});
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(dir.path().string()));
  const auto values = other_values("", "");
  for (const TrainOption& option : train_options()) {
    if (option.on_resume != OnResume::kKept) continue;
    ASSERT_EQ(values.count(option.field), 1u) << option.field;
    TrainConfig given = testing::small_real_run(dir.path().string(), 3, 11);
    set_option_from_text(option, given, values.at(option.field));
    expect_throw_with<OptionError>([&] { merge_resume_config(given, {option.field, "epochs"}, checkpoint); },
                                   {option.field + " must be " + option_value_text(option, checkpoint.config),
                                    "got " + values.at(option.field)});
    // The recorded value given again is no conflict.
    set_option_from_text(option, given, option_value_text(option, checkpoint.config));
    EXPECT_NO_THROW(merge_resume_config(given, {option.field, "epochs"}, checkpoint)) << option.field;
  }
}

TEST(TrainOptions, EachRunOptionsComeFromTheRunNotTheCheckpoint) {
  ScratchDir dir;
  TrainConfig first = testing::small_real_run(dir.path().string(), 1, 11);
  first.group_timeout_seconds = 60;
  run_training(first, {});
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(dir.path().string()));
  const TrainConfig merged = merge_resume_config(testing::small_real_run("", 2, 11), {"epochs"}, checkpoint);
  EXPECT_EQ(merged.group_timeout_seconds, TrainConfig{}.group_timeout_seconds);
  for (const TrainOption& option : train_options()) {
    EXPECT_EQ(option.recorded, option.on_resume != OnResume::kEachRun) << option.field;
  }
}

TEST(TrainOptions, TheRecordHoldsEveryRecordedOptionAndReadsBackExactly) {
  const auto values = other_values("data/elsewhere/mnist", "runs/b");
  TrainConfig config;
  for (const TrainOption& option : train_options()) set_option_from_text(option, config, values.at(option.field));
  config.learning_rate = 0.00123456789012345;  // every bit survives, not only what %g shows
  const GenericDict record = recorded_train_config(config);
  const TrainConfig back = train_config_from_record("c.pt", record);
  for (const TrainOption& option : train_options()) {
    EXPECT_EQ(record.contains(option.field), option.recorded) << option.field;
    if (option.recorded) {
      EXPECT_EQ(option_value_text(option, back), option_value_text(option, config)) << option.field;
    }
  }
  EXPECT_EQ(back.learning_rate, config.learning_rate);
}

TEST(TrainOptions, ARecordFromBeforeAnOptionReadsAsTheRunsOfThatTimeTrained) {
  GenericDict record = recorded_train_config(TrainConfig{});
  for (const TrainOption& option : train_options()) {
    if (option.value_before_recorded) {
      EXPECT_EQ(record.erase(option.field), 1u) << option.field;
    }
  }
  const TrainConfig back = train_config_from_record("old.pt", record);
  EXPECT_EQ(back.optimizer, OptimizerKind::kAdam);
  EXPECT_EQ(back.init, InitKind::kTorch);
  EXPECT_EQ(back.lr_warmup, 0);
  EXPECT_EQ(back.revive_epochs, 0);
  EXPECT_TRUE(back.cuda_graph);
  ASSERT_EQ(record.erase(std::string("seed")), 1u);
  expect_throw_with<DataError>([&] { train_config_from_record("old.pt", record); }, {"old.pt", "seed"});
  record = recorded_train_config(TrainConfig{});
  record.insert_or_assign(std::string("threads"), std::int64_t{1} << 40);
  expect_throw_with<DataError>([&] { train_config_from_record("big.pt", record); },
                               {"big.pt", "out of bounds", "threads must be between 0 (all cores) and 1024"});
}

// The command line is the table: each row's option sets its field (switches without a value).
TEST(TrainOptions, TheCommandLineSetsEveryRowsField) {
  const auto values = other_values("data/elsewhere/mnist", "runs/b");
  for (const TrainOption& option : train_options()) {
    std::vector<std::string> args{"vae_cnn", "train", "--" + option.name};
    if (!option.switch_value) args.push_back(values.at(option.field));
    const auto command = std::get<TrainCommand>(parse_cli(args));
    EXPECT_EQ(option_value_text(option, command.config), values.at(option.field)) << option.name;
    EXPECT_EQ(command.explicit_fields, std::set<std::string>{option.field}) << option.name;
  }
}

}  // namespace
}  // namespace vae_cnn
