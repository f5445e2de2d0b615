// The faults real runs meet, each through the real binary: a full disk (a file-size limit), an
// unwritable or wrong --out, two runs into one folder, a batch that cannot fit, --limit above the
// data, an empty training split, and data folders with gzip, raw or both.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli_support.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;
using testing::Files;
using testing::small_data;
using testing::run_vae_cnn;
using testing::RunResult;
using testing::ScratchDir;
using testing::slurp;

std::string quoted(const std::string& text) { return "'" + text + "'"; }

std::string quick_train(const std::string& data, const std::string& out, int epochs = 1) {
  return "train --data " + quoted(data) + " --epochs " + std::to_string(epochs) +
         " --batch-size 50 --threads 1 --seed 3 --out " + quoted(out);
}

void expect_one_line_error(const RunResult& result, int exit_code, const std::vector<std::string>& fragments) {
  testing::expect_one_line_failure(result, exit_code, fragments.front(), fragments.front());
  for (const auto& fragment : fragments) EXPECT_NE(result.err.find(fragment), std::string::npos) << result.err;
}

bool leftover_temporary_in(const std::string& folder) {
  for (const auto& entry : fs::directory_iterator(folder)) {
    if (entry.path().filename().string().find(".tmp-") != std::string::npos) return true;
  }
  return false;
}

TEST(Faults, FileSizeLimitWhileCheckpointingKeepsThePreviousCheckpoint) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw);
  const std::string out = dir.file("w");
  ASSERT_EQ(run_vae_cnn(dir, quick_train(data, out)).exit_code, 0);
  // dash counts ulimit -f in 512-byte blocks: 512 KB, below the 1.6 MB checkpoint.
  const RunResult result = run_vae_cnn(dir, quick_train(data, out, 2) + " --resume", "ulimit -f 1000;");
  expect_one_line_error(result, 1, {"checkpoint.pt", "File too large"});
  const Checkpoint kept = load_checkpoint(out + "/checkpoint.pt");
  EXPECT_EQ(kept.epoch, 1);
  EXPECT_EQ(read_metrics_csv(out + "/metrics.csv").size(), 1u);
  EXPECT_FALSE(leftover_temporary_in(out));
  // The next run, with room again, continues from the kept checkpoint.
  EXPECT_EQ(run_vae_cnn(dir, quick_train(data, out, 2) + " --resume").exit_code, 0);
  EXPECT_EQ(read_metrics_csv(out + "/metrics.csv").size(), 2u);
}

TEST(Faults, FileSizeLimitWhilePlottingIsOneLine) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw);
  ASSERT_EQ(run_vae_cnn(dir, quick_train(data, dir.file("w"))).exit_code, 0);
  const RunResult result = run_vae_cnn(dir,
                                       "plot -w " + quoted(dir.file("w/vae_cnn.digits.pt")) + " --data " + quoted(data) +
                                           " --out " + quoted(dir.file("pictures")),
                                       "ulimit -f 20;");
  expect_one_line_error(result, 1, {".png", "File too large"});
  EXPECT_FALSE(leftover_temporary_in(dir.file("pictures")));
}

TEST(Faults, OutThatIsAFileIsRefusedBeforeTraining) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw);
  testing::write_bytes(dir.file("plain_file"), {1, 2, 3});
  RunResult result = run_vae_cnn(dir, quick_train(data, dir.file("plain_file")));
  expect_one_line_error(result, 1, {"plain_file", "not a folder"});
  EXPECT_EQ(result.out.find("epoch 1/"), std::string::npos) << result.out;
  result = run_vae_cnn(dir, quick_train(data, dir.file("plain_file/inside")));
  expect_one_line_error(result, 1, {"plain_file/inside", "cannot create"});
  EXPECT_EQ(result.out.find("epoch 1/"), std::string::npos) << result.out;
}

TEST(Faults, UnwritableOutIsRefusedBeforeTraining) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw);
  const std::string locked = dir.file("read_only");
  fs::create_directories(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  // root writes anywhere unless it gives up the capability to override permissions.
  const std::string prefix = ::geteuid() == 0 ? "exec setpriv --bounding-set -dac_override,-dac_read_search" : "";
  const RunResult result = run_vae_cnn(dir, quick_train(data, locked + "/run"), prefix);
  fs::permissions(locked, fs::perms::owner_all);
  expect_one_line_error(result, 1, {"read_only/run", "Permission denied"});
  EXPECT_EQ(result.out.find("epoch 1/"), std::string::npos) << result.out;
}

TEST(Faults, SecondRunIntoTheSameFolderIsRefusedNamingTheFirstAndAKilledOneBlocksNothing) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw);
  const std::string out = dir.file("w");
  const pid_t first = testing::spawn_vae_cnn(
      dir, {"train", "--data", data, "--epochs", "100000", "--batch-size", "50", "--threads", "1", "--out", out});
  ASSERT_GT(first, 0);
  const std::string holder = "pid " + std::to_string(first) + " ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool held = false;
  while (!(held = slurp(out + "/.vae_cnn.lock").find(holder) != std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ScratchDir second_dir("_second");
  const RunResult second = run_vae_cnn(second_dir, quick_train(data, out));
  ::kill(first, SIGKILL);
  EXPECT_EQ(testing::wait_exit_code(first), 128 + SIGKILL);
  ASSERT_TRUE(held) << "the first run never named itself in the folder's lock: " << slurp(dir.file("err.txt"));
  expect_one_line_error(second, 1, {"another vae_cnn run", holder, "--out"});
  // The killed run's lock file is still there, but its lock died with it.
  ASSERT_TRUE(fs::exists(out + "/.vae_cnn.lock"));
  // It left no finished epoch behind (or one: then --overwrite says to replace it).
  const RunResult third = run_vae_cnn(second_dir, quick_train(data, out) + " --overwrite");
  EXPECT_EQ(third.exit_code, 0) << third.err;
}

// A field of /proc/self/status in KiB ("VmSize: 1131780 kB"), 0 when absent.
std::int64_t read_status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stoll(line.substr(field.size() + 1));
  }
  return 0;
}

TEST(Faults, BatchThatCannotFitIsRefusedBeforeTheFirstBatch) {
#ifdef VAE_CNN_SANITIZED
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space, so no ulimit -v lets it start";
#endif
  ScratchDir dir;
  // The binary maps what this test process maps (the same libraries: ~1.1 GiB on LibTorch 1.13,
  // ~2.7 GiB on a CUDA LibTorch 2.x) before its first batch; half a GiB more is room to start
  // but not for a batch of 2,048, which needs ~1.1 GiB.
  // `timeout`: without the check, OpenBLAS retries its failed mmap forever.
  const auto mapped = read_status_kib("VmSize");
  ASSERT_GT(mapped, 0);
  const std::string limit = "ulimit -v " + std::to_string(mapped + 512 * 1024) + "; exec timeout 120";
  const RunResult result = run_vae_cnn(dir,
                                       "train --data " + quoted(testing::mnist_sample_dir()) +
                                           " --limit 2048 --batch-size 2048 --epochs 1 --threads 1 --out " +
                                           quoted(dir.file("w")),
                                       limit);
  expect_one_line_error(result, 1, {"batches of 2048 images", "GiB", "--batch-size"});
  EXPECT_FALSE(fs::exists(dir.file("w/checkpoint.pt")));
}

TEST(Faults, LimitAboveTheDataTrainsOnAllWithANote) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw);
  const RunResult result = run_vae_cnn(dir, quick_train(data, dir.file("w")) + " --limit 100000");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("--limit 100000 is above the 300 training images; training on all of them"),
            std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("300 training images"), std::string::npos) << result.out;
}

TEST(Faults, EmptyTrainingSplitIsOneLineNamingTheFile) {
  ScratchDir dir;
  const std::string data = small_data(dir, "digits", Files::kRaw, 0);
  const RunResult result = run_vae_cnn(dir, quick_train(data, dir.file("w")));
  expect_one_line_error(result, 1, {"train-images-idx3-ubyte"});
  EXPECT_EQ(result.out.find("epoch 1/"), std::string::npos) << result.out;
}

TEST(Faults, GzipOnlyRawOnlyAndBothTrainAlikeAndVerboseSaysRawWins) {
  ScratchDir dir;
  const std::string gzip_only = small_data(dir, "gz", Files::kGzip);
  const std::string raw_only = small_data(dir, "raw", Files::kRaw);
  const std::string both = small_data(dir, "both", Files::kBoth);
  std::vector<EpochMetrics> rows;
  for (const auto& data : {gzip_only, raw_only, both}) {
    const std::string out = data + "_out";
    const RunResult result = run_vae_cnn(dir, quick_train(data, out) + " --verbose");
    ASSERT_EQ(result.exit_code, 0) << data << ": " << result.err;
    const bool raw_wins = data == both;
    EXPECT_EQ(result.out.find("train-images-idx3-ubyte (raw file used; ") != std::string::npos, raw_wins) << result.out;
    EXPECT_EQ(result.out.find("data file " + data + "/t10k-labels-idx1-ubyte" + (data == gzip_only ? ".gz" : "")) !=
                  std::string::npos,
              true)
        << result.out;
    rows.push_back(read_metrics_csv(out + "/metrics.csv").at(0));
  }
  // The same digits, however stored, train to the same numbers.
  EXPECT_EQ(rows[0].loss, rows[1].loss);
  EXPECT_EQ(rows[1].loss, rows[2].loss);
  EXPECT_EQ(rows[0].val_loss, rows[2].val_loss);
}

}  // namespace
}  // namespace vae_cnn
