// Options given again with --resume take effect and are recorded, through the real binary.
#include <filesystem>

#include "cli_support.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/train/train_run.hpp"

namespace vae_cnn {
namespace {

using testing::ScratchDir;

TEST(ResumeOptionsCli, NoCudaGraphOnResumeIsUsedLoggedAndRecorded) {
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "mnist", testing::Files::kRaw, 200);
  const std::string out = dir.file("run");
  const std::string common = "--data '" + data + "' --out '" + out + "' --limit 200 --threads 1 --lr-warmup 0";
  ASSERT_EQ(testing::run_vae_cnn(dir, "train " + common + " --epochs 1 --seed 3").exit_code, 0);
  EXPECT_TRUE(load_checkpoint(checkpoint_path_in(out)).config.cuda_graph);
  const auto resumed = testing::run_vae_cnn(dir, "train --resume --out '" + out + "' --epochs 2 --no-cuda-graph --batch-size 50");
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
  const Checkpoint checkpoint = load_checkpoint(checkpoint_path_in(out));
  EXPECT_EQ(checkpoint.epoch, 2);
  EXPECT_FALSE(checkpoint.config.cuda_graph);
  EXPECT_EQ(checkpoint.config.batch_size, 50);
  EXPECT_EQ(checkpoint.config.seed, 3u);
  // The start-up log of the resumed run says what it runs with.
  const std::string log = testing::slurp(train_log_path_in(out));
  const auto resumed_start = log.find("resuming from");
  ASSERT_NE(resumed_start, std::string::npos) << log;
  const std::string after = log.substr(resumed_start);
  EXPECT_NE(after.find("cuda_graph false"), std::string::npos) << after;
  EXPECT_NE(after.find("batch_size 50"), std::string::npos) << after;
  // A third start without the option keeps what the checkpoint recorded.
  ASSERT_EQ(testing::run_vae_cnn(dir, "train --resume --out '" + out + "' --epochs 3").exit_code, 0);
  EXPECT_FALSE(load_checkpoint(checkpoint_path_in(out)).config.cuda_graph);
}

}  // namespace
}  // namespace vae_cnn
