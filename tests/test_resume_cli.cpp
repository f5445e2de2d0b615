// The real binary under signals: kill -9 leaves a loadable checkpoint, Ctrl-C exits 130 with one,
// and --resume finishes the run with every epoch once. Also encode/decode, and Python agreeing.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli_support.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"

namespace vae_cnn {
namespace {

using testing::ScratchDir;
using testing::spawn_vae_cnn;
using testing::wait_exit_code;
using testing::slurp;

int run(const ScratchDir& dir, const std::vector<std::string>& args) { return wait_exit_code(spawn_vae_cnn(dir, args)); }

bool wait_for_file(const std::string& path, std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (std::filesystem::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::vector<std::string> small_train(const ScratchDir& dir, const std::string& epochs) {
  return {"train", "--data", testing::mnist_sample_dir(), "--limit", "256", "--batch-size", "32", "--threads", "1",
          "--seed", "5", "--epochs", epochs, "--out", dir.file("w")};
}

void expect_epochs_once(const std::string& metrics_path, std::int64_t epochs) {
  const auto rows = read_metrics_csv(metrics_path);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(epochs));
  for (std::int64_t i = 0; i < epochs; ++i) EXPECT_EQ(rows[static_cast<std::size_t>(i)].epoch, i + 1);
}

// The files of `folder` whose names hold ".tmp-" (temporary files of an atomic write).
std::vector<std::string> temporary_files_in(const std::string& folder) {
  std::vector<std::string> found;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    const std::string name = entry.path().filename().string();
    if (name.find(".tmp-") != std::string::npos) found.push_back(name);
  }
  return found;
}

// Killed mid-epoch: metrics.csv is the last of the three files an epoch writes, so once it appears
// epoch 1 is complete on disk and epoch 2 is being trained.
TEST(ResumeCli, KillNineLeavesALoadableCheckpointAndResumeCompletes) {
  ScratchDir dir;
  const pid_t pid = spawn_vae_cnn(dir, small_train(dir, "40"));
  ASSERT_GT(pid, 0);
  const bool epoch_written = wait_for_file(dir.file("w/metrics.csv"), std::chrono::seconds(120));
  kill(pid, SIGKILL);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
  ASSERT_TRUE(epoch_written) << slurp(dir.file("err.txt"));

  const Checkpoint checkpoint = load_checkpoint(dir.file("w/checkpoint.pt"));
  ASSERT_GE(checkpoint.epoch, 1);
  const std::string total = std::to_string(checkpoint.epoch + 1);
  EXPECT_EQ(run(dir, {"train", "--resume", dir.file("w/checkpoint.pt"), "--epochs", total}), 0) << slurp(dir.file("err.txt"));
  expect_epochs_once(dir.file("w/metrics.csv"), checkpoint.epoch + 1);
  EXPECT_EQ(temporary_files_in(dir.file("w")), std::vector<std::string>{}) << "left behind";
}

// Waits until the file `name` is created in the folder `inotify` watches; false at `deadline`.
// inotify reports the creation itself, so a file that exists for a millisecond is not missed.
bool wait_for_creation(int inotify, const std::string& name, std::chrono::steady_clock::time_point deadline) {
  alignas(inotify_event) char buffer[4096];
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd entry{inotify, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (::poll(&entry, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 1))) <= 0) continue;
    const ssize_t got = ::read(inotify, buffer, sizeof buffer);
    for (ssize_t at = 0; at < got;) {
      const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
      if (event->len > 0 && name == event->name) return true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
  }
  return false;
}

// Killed while epoch 2's checkpoint is being written (its temporary file has just been created):
// checkpoint.pt is still a whole earlier one (or epoch 2's, whole, when the rename won the race),
// never a part of one, and --resume goes on from it.
TEST(ResumeCli, KillNineWhileACheckpointIsWrittenKeepsAWholeOne) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("w"));
  const int inotify = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  ASSERT_GE(inotify, 0);
  ASSERT_GE(::inotify_add_watch(inotify, dir.file("w").c_str(), IN_CREATE), 0);
  const pid_t pid = spawn_vae_cnn(dir, small_train(dir, "40"));
  ASSERT_GT(pid, 0);
  const std::string temporary = "checkpoint.pt.tmp-" + std::to_string(pid);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  const bool second_write_begun =
      wait_for_creation(inotify, temporary, deadline) && wait_for_creation(inotify, temporary, deadline);
  kill(pid, SIGKILL);
  ::close(inotify);
  EXPECT_EQ(wait_exit_code(pid), 128 + SIGKILL);
  ASSERT_TRUE(second_write_begun) << slurp(dir.file("err.txt"));

  const bool killed_mid_write = std::filesystem::exists(dir.file("w/" + temporary));
  RecordProperty("killed_mid_write", killed_mid_write ? "yes" : "no");
  const Checkpoint checkpoint = load_checkpoint(dir.file("w/checkpoint.pt"));
  ASSERT_GE(checkpoint.epoch, 1);
  const std::string total = std::to_string(checkpoint.epoch + 1);
  EXPECT_EQ(run(dir, {"train", "--resume", "--out", dir.file("w"), "--epochs", total}), 0) << slurp(dir.file("err.txt"));
  expect_epochs_once(dir.file("w/metrics.csv"), checkpoint.epoch + 1);
  // No temporary file is left: the resumed run's own are renamed into place, and the killed run's
  // (named by its pid, which no longer runs) are removed when the resumed run takes the folder.
  EXPECT_EQ(temporary_files_in(dir.file("w")), std::vector<std::string>{}) << "left behind";
}

TEST(ResumeCli, CtrlCExits130WithAResumableCheckpoint) {
  ScratchDir dir;
  const pid_t pid = spawn_vae_cnn(dir, small_train(dir, "40"));
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(wait_for_file(dir.file("w/checkpoint.pt"), std::chrono::seconds(120))) << slurp(dir.file("err.txt"));
  kill(pid, SIGINT);
  EXPECT_EQ(wait_exit_code(pid), 130);
  const std::string err = slurp(dir.file("err.txt"));
  EXPECT_NE(err.find("--resume"), std::string::npos) << err;
  const Checkpoint checkpoint = load_checkpoint(dir.file("w/checkpoint.pt"));
  EXPECT_NE(slurp(dir.file("w/train.log")).find("interrupted"), std::string::npos);

  const std::string total = std::to_string(checkpoint.epoch + 1);
  EXPECT_EQ(run(dir, {"train", "--resume", "--out", dir.file("w"), "--epochs", total}), 0) << slurp(dir.file("err.txt"));
  expect_epochs_once(dir.file("w/metrics.csv"), checkpoint.epoch + 1);
}

// Signals blocked in the process `pid` (the SigBlk mask of /proc/PID/status); 0 when unreadable.
unsigned long long blocked_signals(pid_t pid) {
  std::istringstream status(slurp("/proc/" + std::to_string(pid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("SigBlk:", 0) == 0) return std::stoull(line.substr(7), nullptr, 16);
  }
  return 0;
}

// SIGTERM while LibTorch initialises, before main: held (blocked) from the first instruction of
// ours, then answered by train's handlers like any later one, instead of a bare 143.
TEST(ResumeCli, SigtermBeforeMainEndsWith130) {
  ScratchDir dir;
  const pid_t pid = spawn_vae_cnn(dir, small_train(dir, "3"));
  ASSERT_GT(pid, 0);
  const unsigned long long held = (1ull << (SIGINT - 1)) | (1ull << (SIGTERM - 1));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  bool seen_held = false;
  while (!seen_held && std::chrono::steady_clock::now() < deadline) {
    seen_held = (blocked_signals(pid) & held) == held;
    if (!seen_held) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  kill(pid, SIGTERM);
  EXPECT_TRUE(seen_held) << "SIGINT and SIGTERM were never held during start-up";
  EXPECT_EQ(wait_exit_code(pid), 130) << slurp(dir.file("err.txt"));
  EXPECT_NE(slurp(dir.file("err.txt")).find("interrupted"), std::string::npos) << slurp(dir.file("err.txt"));
}

// A job script can say `train --resume` from its first start on: with no checkpoint yet it starts
// at epoch 1 and says so; a plain `train` into the folder of a finished run is refused, naming it.
TEST(ResumeCli, OneCommandLineServesTheFirstStartAndEveryRestart) {
  ScratchDir dir;
  auto resume_to = [&](const std::string& epochs) {
    auto args = small_train(dir, epochs);
    args.push_back("--resume");
    return args;
  };
  ASSERT_EQ(run(dir, resume_to("1")), 0) << slurp(dir.file("err.txt"));
  EXPECT_NE(slurp(dir.file("out.txt")).find("note: --resume found no checkpoint in " + dir.file("w") +
                                            " yet; starting at epoch 1"),
            std::string::npos)
      << slurp(dir.file("out.txt"));
  expect_epochs_once(dir.file("w/metrics.csv"), 1);

  EXPECT_EQ(run(dir, small_train(dir, "3")), 2);
  const std::string refused = slurp(dir.file("err.txt"));
  EXPECT_EQ(testing::count_lines(refused), 1) << refused;
  EXPECT_NE(refused.find("already holds a run of 1 epoch on mnist-sample (seed 5)"), std::string::npos) << refused;
  EXPECT_NE(refused.find("--resume"), std::string::npos) << refused;
  expect_epochs_once(dir.file("w/metrics.csv"), 1);  // untouched

  ASSERT_EQ(run(dir, resume_to("2")), 0) << slurp(dir.file("err.txt"));
  expect_epochs_once(dir.file("w/metrics.csv"), 2);
}

TEST(ResumeCli, StoppedAndResumedEncodesLikeTheStraightRun) {
  ScratchDir straight, stopped;
  ASSERT_EQ(run(straight, small_train(straight, "2")), 0) << slurp(straight.file("err.txt"));
  ASSERT_EQ(run(stopped, small_train(stopped, "1")), 0);
  ASSERT_EQ(run(stopped, {"train", "--resume", "--out", stopped.file("w"), "--epochs", "2"}), 0)
      << slurp(stopped.file("err.txt"));
  for (const ScratchDir* dir : {&straight, &stopped}) {
    ASSERT_EQ(run(*dir, {"encode", "-w", dir->file("w/vae_cnn.mnist-sample.pt"), "--data", testing::mnist_sample_dir(), "-o",
                         dir->file("codes.csv")}),
              0);
  }
  const std::string codes = slurp(straight.file("codes.csv"));
  EXPECT_EQ(codes.rfind("index,label,class,z_mean_0,z_mean_1,z_log_var_0,z_log_var_1\n", 0), 0u);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), '\n'), 1664);
  EXPECT_EQ(codes, slurp(stopped.file("codes.csv")));
}

TEST(ResumeCli, DecodeWritesA28x28Png) {
  ScratchDir dir;
  ASSERT_EQ(run(dir, small_train(dir, "1")), 0);
  ASSERT_EQ(run(dir, {"decode", "-w", dir.file("w/vae_cnn.mnist-sample.pt"), "--z", "0.5,-1", "-o", dir.file("d.png")}), 0)
      << slurp(dir.file("err.txt"));
  const std::string png = slurp(dir.file("d.png"));
  ASSERT_GT(png.size(), 24u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
  // IHDR: width and height, big-endian, at bytes 16..23.
  auto word = [&](std::size_t at) {
    return (static_cast<unsigned char>(png[at]) << 24) | (static_cast<unsigned char>(png[at + 1]) << 16) |
           (static_cast<unsigned char>(png[at + 2]) << 8) | static_cast<unsigned char>(png[at + 3]);
  };
  EXPECT_EQ(word(16), 28u);
  EXPECT_EQ(word(20), 28u);
  EXPECT_EQ(run(dir, {"decode", "-w", dir.file("w/vae_cnn.mnist-sample.pt"), "--z", "1,2,3"}), 2);
  EXPECT_NE(slurp(dir.file("err.txt")).find("latent size of 2"), std::string::npos);
}

// Under Debian's PyTorch 1.13 and, where installed (scripts/install_deps.sh --libtorch pip), today's.
TEST(ResumeCli, PythonReadsTheWeightsAndEncodesTheSame) {
  const std::vector<std::string> pythons{"/usr/bin/python3",
                                         std::string(VAE_CNN_SOURCE_DIR) + "/.venv-libtorch/bin/python"};
  ScratchDir dir;
  ASSERT_EQ(run(dir, small_train(dir, "1")), 0);
  ASSERT_EQ(run(dir, {"encode", "-w", dir.file("w/vae_cnn.mnist-sample.pt"), "--data", testing::mnist_sample_dir(), "-o",
                      dir.file("cpp.csv")}),
            0);
  int tried = 0;
  for (const std::string& python : pythons) {
    if (std::system(("'" + python + "' -c 'import torch' >/dev/null 2>&1").c_str()) != 0) continue;
    ++tried;
    const std::string command = "'" + python + "' '" + std::string(VAE_CNN_SOURCE_DIR) + "/scripts/vae_cnn_model.py' encode '" +
                                dir.file("w/vae_cnn.mnist-sample.pt") + "' '" + testing::mnist_sample_dir() + "' > '" +
                                dir.file("py.csv") + "'";
    ASSERT_EQ(std::system(command.c_str()), 0) << python;
    const auto comparison = testing::compare_encodings(slurp(dir.file("cpp.csv")), slurp(dir.file("py.csv")));
    EXPECT_TRUE(comparison.same_labels) << python;
    EXPECT_EQ(comparison.rows, 1663) << python;
    EXPECT_LT(comparison.largest_difference, 1e-5) << python;
  }
  if (tried == 0) GTEST_SKIP() << "no python3-torch";
}

}  // namespace
}  // namespace vae_cnn
