// Checkpoints: resuming gives the uninterrupted run exactly; damaged or foreign files are refused.
#include "vae_cnn/train/checkpoint.hpp"

#include <filesystem>
#include <sstream>

#include "test_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/train/optimizer_state.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"
#include "vae_cnn/train/train_run.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;


void expect_same_optimizer_state(const Checkpoint& a, const Checkpoint& b) {
  ASSERT_TRUE(a.optimizer_state && b.optimizer_state);
  ASSERT_EQ(a.optimizer_state->size(), b.optimizer_state->size());
  for (const auto& item : *a.optimizer_state) {
    const GenericDict first = item.value().toGenericDict();
    const GenericDict second = b.optimizer_state->at(item.key()).toGenericDict();
    EXPECT_EQ(first.at("step").toInt(), second.at("step").toInt()) << item.key().toStringRef();
    for (const char* moment : {"exp_avg", "exp_avg_sq"}) {
      EXPECT_TRUE(torch::equal(first.at(moment).toTensor(), second.at(moment).toTensor()))
          << item.key().toStringRef() << " " << moment;
    }
  }
}

void expect_same_parameters(ConvVae& a, ConvVae& b) {
  const auto pa = a->parameters();
  const auto pb = b->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
}

TEST(Checkpoint, ResumeEqualsTheUninterruptedRun) {
  ScratchDir straight, stopped;
  const auto full = run_training(testing::small_real_run(straight.path().string(), 3, 11), {});
  run_training(testing::small_real_run(stopped.path().string(), 2, 11), {});

  Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(stopped.path().string()));
  EXPECT_EQ(checkpoint.epoch, 2);
  TrainConfig asked = testing::small_real_run(stopped.path().string(), 3, 11);
  const TrainConfig merged = merge_resume_config(asked, {"epochs"}, checkpoint);
  EXPECT_EQ(merged.epochs, 3);
  EXPECT_EQ(merged.seed, 11u);
  const auto resumed = run_training(merged, {}, &checkpoint);

  ASSERT_EQ(resumed.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(resumed[i].epoch, full[i].epoch);
    EXPECT_EQ(resumed[i].loss, full[i].loss) << "epoch " << i + 1;
    EXPECT_EQ(resumed[i].val_loss, full[i].val_loss) << "epoch " << i + 1;
  }
  Checkpoint a = load_checkpoint(checkpoint_path_in(straight.path().string()));
  Checkpoint b = load_checkpoint(checkpoint_path_in(stopped.path().string()));
  expect_same_parameters(a.weights.model, b.weights.model);
  expect_same_optimizer_state(a, b);
}

// The state of a run's optimizer, as restoring `checkpoint` into a fresh model and optimizer gives it.
struct RestoredRun {
  ConvVae model;
  std::unique_ptr<torch::optim::Optimizer> optimizer;
};

RestoredRun restore(const Checkpoint& checkpoint) {
  RestoredRun run{ConvVae(ConvVaeOptions().latent_dim(checkpoint.config.latent_dim)), nullptr};
  run.optimizer = make_optimizer(run.model, checkpoint.config.learning_rate, checkpoint.config.optimizer);
  restore_training_state(checkpoint, run.model, *run.optimizer, torch::kCPU);
  return run;
}

TEST(Checkpoint, OptimizerStateIsKeptByParameterName) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.path().string(), 1, 11), {});
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(dir.path().string()));
  ASSERT_TRUE(checkpoint.optimizer_state.has_value());
  const GenericDict& state = *checkpoint.optimizer_state;
  const auto parameters = checkpoint.weights.model->named_parameters();
  EXPECT_EQ(state.size(), parameters.size());
  for (const auto& item : parameters) {
    ASSERT_TRUE(state.contains(item.key())) << item.key();
    const GenericDict entry = state.at(item.key()).toGenericDict();
    EXPECT_EQ(entry.at("step").toInt(), 4) << item.key();  // 256 images in batches of 64
    for (const char* moment : {"exp_avg", "exp_avg_sq"}) {
      EXPECT_EQ(entry.at(moment).toTensor().sizes(), item.value().sizes()) << item.key() << " " << moment;
    }
    EXPECT_GT(entry.at("exp_avg_sq").toTensor().abs().sum().item<double>(), 0.0) << item.key();
  }
  // Restored into a fresh optimizer and written again, it is the same state.
  RestoredRun run = restore(checkpoint);
  const GenericDict again = optimizer_state_to_dict(*run.optimizer, run.model->named_parameters());
  for (const auto& item : parameters) {
    const GenericDict before = state.at(item.key()).toGenericDict();
    const GenericDict after = again.at(item.key()).toGenericDict();
    EXPECT_EQ(after.at("step").toInt(), before.at("step").toInt());
    EXPECT_TRUE(torch::equal(after.at("exp_avg").toTensor(), before.at("exp_avg").toTensor())) << item.key();
    EXPECT_TRUE(torch::equal(after.at("exp_avg_sq").toTensor(), before.at("exp_avg_sq").toTensor())) << item.key();
  }
}

TEST(Checkpoint, OptimizerStateThatDoesNotFitTheModelIsRefused) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.path().string(), 1, 11), {});
  const std::string path = checkpoint_path_in(dir.path().string());
  Checkpoint checkpoint = load_checkpoint(path);
  GenericDict state = *checkpoint.optimizer_state;
  // Two parameters' moments swapped, as a positional mix-up would give them.
  const auto first = state.at("encoder.conv1.weight");
  state.insert_or_assign(std::string("encoder.conv1.weight"), state.at("encoder.conv1.bias"));
  checkpoint.optimizer_state = state;
  expect_throw_with<DataError>([&] { restore(checkpoint); }, {path, "'encoder.conv1.weight'", "[32]", "[32, 1, 3, 3]"});
  state.insert_or_assign(std::string("encoder.conv1.weight"), first);
  state.insert(std::string("encoder.conv9.weight"), first);
  checkpoint.optimizer_state = state;
  expect_throw_with<DataError>([&] { restore(checkpoint); }, {path, "'encoder.conv9.weight'", "does not have"});
}

// Checkpoints of format 1 (LibTorch's own optimizer archive) still resume where the archive fits.
TEST(Checkpoint, FormatOneCheckpointsWithLibTorchsArchiveStillResume) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.path().string(), 1, 11), {});
  const std::string path = checkpoint_path_in(dir.path().string());
  const Checkpoint current = load_checkpoint(path);
  RestoredRun run = restore(current);
  std::ostringstream bytes;
  torch::serialize::OutputArchive archive;
  run.optimizer->save(archive);
  archive.save_to(bytes);
  const std::string text = bytes.str();
  GenericDict dict = read_tagged_dict(path, "vae_cnn.checkpoint", "a checkpoint", kCheckpointFormatVersion);
  ASSERT_EQ(dict.erase(std::string("optimizer_state")), 1u);
  dict.insert_or_assign(std::string("format_version"), std::int64_t{1});
  dict.insert(std::string("optimizer"),
              torch::from_blob(const_cast<char*>(text.data()), {static_cast<std::int64_t>(text.size())}, torch::kUInt8)
                  .clone());
  const std::string old_path = dir.file("format1.pt");
  write_dict_file(old_path, dict);

  // Read as data into the named dict of format 2, then restored as that is.
  const Checkpoint old = load_checkpoint(old_path);
  expect_same_optimizer_state(current, old);
  RestoredRun old_run = restore(old);
  Checkpoint as_written = current;
  as_written.optimizer_state = optimizer_state_to_dict(*old_run.optimizer, old_run.model->named_parameters());
  expect_same_optimizer_state(current, as_written);
}

TEST(Checkpoint, TruncatedFilesAreRefusedAtEveryCut) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.path().string(), 1, 11), {});
  const std::string whole = checkpoint_path_in(dir.path().string());
  const auto size = std::filesystem::file_size(whole);
  for (const auto cut : {std::uintmax_t{0}, std::uintmax_t{7}, std::uintmax_t{100}, size / 3, size / 2, size - 200, size - 1}) {
    const std::string damaged = dir.file("cut-" + std::to_string(cut) + ".pt");
    std::filesystem::copy_file(whole, damaged);
    std::filesystem::resize_file(damaged, cut);
    expect_throw_with<DataError>([&] { load_checkpoint(damaged); }, {damaged});
  }
}

// Inputs on which the fuzzer (fuzz/weights_loader_fuzz.cpp) once found a fault; under
// scripts/sanitize.sh an out-of-bounds read here fails the test.
TEST(Checkpoint, InputsTheFuzzerFoundAreRefusedCleanly) {
  int inputs = 0;
  for (const char* target : {"weights_loader", "weights_structure"}) {
    const std::filesystem::path kept = std::string(VAE_CNN_SOURCE_DIR) + "/fuzz/regressions/" + target;
    for (const auto& entry : std::filesystem::directory_iterator(kept)) {
      if (entry.path().filename().string().front() == '.') continue;
      const std::string path = entry.path().string();
      expect_throw_with<DataError>([&] { load_weights(path); }, {path});
      expect_throw_with<DataError>([&] { load_checkpoint(path); }, {path});
      ++inputs;
    }
  }
  EXPECT_GE(inputs, 3);
}

TEST(Checkpoint, ForeignNewerAndMismatchedFilesAreRefused) {
  ScratchDir dir;
  run_training(testing::small_real_run(dir.path().string(), 1, 11), {});
  const std::string weights = dir.file("vae_cnn.mnist.pt");
  expect_throw_with<DataError>([&] { load_checkpoint(weights); }, {weights, "not a vae_cnn checkpoint"});

  ConvVae wider(ConvVaeOptions().latent_dim(3));
  WeightsMetadata claims_two;  // says latent 2, holds latent-3 tensors
  GenericDict mismatched = new_tagged_dict("vae_cnn.weights", kWeightsFormatVersion);
  add_model_fields(mismatched, wider, claims_two);
  write_dict_file(dir.file("mismatch.pt"), mismatched);
  expect_throw_with<DataError>([&] { load_weights(dir.file("mismatch.pt")); },
                               {dir.file("mismatch.pt"), "different architecture"});

  GenericDict future = new_tagged_dict("vae_cnn.weights", kWeightsFormatVersion + 1);
  add_model_fields(future, wider, claims_two);
  write_dict_file(dir.file("future.pt"), future);
  expect_throw_with<DataError>([&] { load_weights(dir.file("future.pt")); }, {dir.file("future.pt"), "newer"});
}

TEST(Checkpoint, ConflictingOptionsAreRefused) {
  ScratchDir dir;
  TrainConfig first = testing::small_real_run(dir.path().string(), 1, 11);
  first.lr_warmup = 3;
  run_training(first, {});
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(dir.path().string()));
  EXPECT_EQ(checkpoint.config.lr_warmup, 3);
  TrainConfig asked = testing::small_real_run(dir.path().string(), 4, 11);
  asked.latent_dim = 8;
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"latent_dim", "epochs"}, checkpoint); },
                                {"latent_dim must be 2 (as the checkpoint", "got 8"});
  asked = testing::small_real_run(dir.path().string(), 4, 11);
  asked.loss = LossKind::kBce;
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"loss", "epochs"}, checkpoint); }, {"loss must be mse", "got bce"});
  asked = testing::small_real_run(dir.path().string(), 4, 11);
  asked.data_dir = "data/fashion-mnist";
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"data_dir", "epochs"}, checkpoint); },
                                {"data_dir must be a folder of the data set mnist", "got data/fashion-mnist"});
  asked = testing::small_real_run(dir.path().string(), 4, 11);
  asked.optimizer = OptimizerKind::kRmsprop;
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"optimizer", "epochs"}, checkpoint); },
                                {"optimizer must be adam", "got rmsprop"});
  EXPECT_EQ(checkpoint.config.init, InitKind::kKeras);
  asked = testing::small_real_run(dir.path().string(), 4, 11);
  asked.init = InitKind::kTorch;
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"init", "epochs"}, checkpoint); },
                                {"init must be keras", "got torch"});
  asked = testing::small_real_run(dir.path().string(), 4, 11);
  asked.seed = 12;
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"seed", "epochs"}, checkpoint); },
                                {"seed must be 11", "a resumed run keeps it", "got 12"});
  asked.seed = 11;
  EXPECT_EQ(merge_resume_config(asked, {"seed", "epochs"}, checkpoint).seed, 11u);  // the same seed is no conflict
  asked = testing::small_real_run(dir.path().string(), 1, 11);
  expect_throw_with<UsageError>([&] { merge_resume_config(asked, {"epochs"}, checkpoint); }, {"nothing to resume"});
  // Options not given come from the checkpoint, the folder from its location.
  const TrainConfig merged = merge_resume_config(TrainConfig{}, {"epochs"}, checkpoint);
  EXPECT_EQ(merged.limit, 256);
  EXPECT_EQ(merged.batch_size, 64);
  EXPECT_EQ(merged.optimizer, OptimizerKind::kAdam);
  EXPECT_EQ(merged.kl_warmup, 0);
  EXPECT_EQ(merged.lr_warmup, 3);
  EXPECT_EQ(merged.revive_epochs, TrainConfig{}.revive_epochs);
  // The warm-ups may change on resume.
  TrainConfig warmer = TrainConfig{};
  warmer.kl_warmup = 5;
  warmer.lr_warmup = 40;
  warmer.revive_epochs = 0;
  warmer.precision = Precision::kBf16;
  const TrainConfig rewarmed =
      merge_resume_config(warmer, {"epochs", "kl_warmup", "lr_warmup", "revive_epochs", "precision"}, checkpoint);
  EXPECT_EQ(merged.precision, Precision::kFp32);
  EXPECT_EQ(rewarmed.precision, Precision::kBf16);
  EXPECT_EQ(rewarmed.kl_warmup, 5);
  EXPECT_EQ(rewarmed.lr_warmup, 40);
  EXPECT_EQ(rewarmed.revive_epochs, 0);
  EXPECT_EQ(std::filesystem::path(merged.out_dir), dir.path());
}

}  // namespace
}  // namespace vae_cnn
