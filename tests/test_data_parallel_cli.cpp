// Data-parallel training through the real binary: two ranks on loopback, started by setting the
// launcher's environment (and by torchrun where python3-torch installed it), against one process
// with the same global batch and seed; a killed rank, an interrupted rank, a rendezvous nobody
// serves, and resuming with another number of ranks.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "cli_support.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"
#include "vae_cnn/train/process_group.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;
using testing::count_lines;
using testing::Files;
using testing::run_vae_cnn;
using testing::RunResult;
using testing::ScratchDir;
using testing::slurp;
using Clock = std::chrono::steady_clock;

// What two ranks and one process may differ by after the test's run (docs/distributed-training.md).
constexpr double kWeightTolerance = 1e-5;

// What every run of these tests shares: 300 real digits in global batches of 64 (five steps an
// epoch, the last of 44 images split 22/22), one thread per process so that thread scheduling
// plays no part, and a group timeout well inside ctest's.
std::vector<std::string> train_args(const std::string& data, const std::string& out, int epochs,
                                    bool resume = false) {
  std::vector<std::string> args{"train", "--data", data, "--epochs", std::to_string(epochs), "--batch-size", "64",
                                "--seed", "3", "--threads", "1", "--dist-timeout", "60", "--out", out};
  if (resume) args.push_back("--resume");
  return args;
}

std::string shell_words(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& word : words) line += " '" + word + "'";
  return line;
}

std::vector<std::string> launcher_env(int rank, int port) {
  return {"WORLD_SIZE=2", "RANK=" + std::to_string(rank), "LOCAL_RANK=" + std::to_string(rank), "LOCAL_WORLD_SIZE=2",
          "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + std::to_string(port)};
}

// Two ranks of one run, each with its own folder for its stdout and stderr.
struct TwoRanks {
  std::unique_ptr<ScratchDir> logs[2];
  pid_t pids[2] = {-1, -1};

  explicit TwoRanks(const std::vector<std::string>& args) {
    const int port = testing::free_loopback_port();
    for (int rank = 0; rank < 2; ++rank) {
      logs[rank] = std::make_unique<ScratchDir>("_rank" + std::to_string(rank));
      pids[rank] = testing::spawn_vae_cnn(*logs[rank], args, launcher_env(rank, port));
    }
  }
  ~TwoRanks() {
    for (const pid_t pid : pids) {
      if (pid > 0 && ::kill(pid, 0) == 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  }
  std::string out(int rank) const { return slurp(logs[rank]->file("out.txt")); }
  // Both ranks ran to completion (rank 0 within two minutes, rank 1 soon after).
  ::testing::AssertionResult both_succeed() {
    for (const int rank : {0, 1}) {
      const int code = wait(rank, std::chrono::seconds(rank == 0 ? 120 : 30));
      if (code != 0) return ::testing::AssertionFailure() << "rank " << rank << " exit " << code << ": " << err(rank);
    }
    return ::testing::AssertionSuccess();
  }
  std::string err(int rank) const { return slurp(logs[rank]->file("err.txt")); }
  // The exit code of a rank, or -1 when it is still running after `limit`.
  int wait(int rank, std::chrono::seconds limit) {
    const auto deadline = Clock::now() + limit;
    int status = 0;
    while (Clock::now() < deadline) {
      if (::waitpid(pids[rank], &status, WNOHANG) == pids[rank]) {
        pids[rank] = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }
};

double max_weight_difference(const std::string& a, const std::string& b) {
  const LoadedWeights first = load_weights(a);
  const LoadedWeights second = load_weights(b);
  const auto second_parameters = second.model->named_parameters();
  double worst = 0;
  for (const auto& parameter : first.model->named_parameters()) {
    const auto difference = (parameter.value() - second_parameters[parameter.key()]).abs().max().item<double>();
    worst = std::max(worst, difference);
  }
  return worst;
}

void expect_same_metrics(const std::string& one_process, const std::string& ranks) {
  const auto expected = read_metrics_csv(one_process);
  const auto got = read_metrics_csv(ranks);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t row = 0; row < got.size(); ++row) {
    EXPECT_NEAR(got[row].loss, expected[row].loss, 1e-3) << "epoch " << row + 1;
    EXPECT_NEAR(got[row].val_loss, expected[row].val_loss, 1e-3) << "epoch " << row + 1;
    EXPECT_NEAR(got[row].val_kl, expected[row].val_kl, 1e-4) << "epoch " << row + 1;
  }
}

// The same training in two output folders: weights within kWeightTolerance, loss columns alike.
void expect_same_training(const std::string& one_folder, const std::string& other_folder) {
  EXPECT_LT(max_weight_difference(one_folder + "/vae_cnn.digits.pt", other_folder + "/vae_cnn.digits.pt"),
            kWeightTolerance)
      << other_folder;
  expect_same_metrics(one_folder + "/metrics.csv", other_folder + "/metrics.csv");
}

std::set<std::string> file_names_in(const std::string& folder) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(folder)) names.insert(entry.path().filename().string());
  return names;
}

constexpr const char* kNoGloo = "built without Gloo's headers (libgloo-dev): no process group to test";

void wait_for_file(const std::string& path, std::chrono::seconds limit) {
  const auto deadline = Clock::now() + limit;
  while (!fs::exists(path) && Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

RunResult train_one_process(const ScratchDir& dir, const std::string& data, const std::string& folder, int epochs) {
  return run_vae_cnn(dir, shell_words(train_args(data, dir.file(folder), epochs)));
}

TEST(DataParallel, TwoRanksStartedByTheirEnvironmentTrainAsOneProcessDoes) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << kNoGloo;
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "digits", Files::kRaw);
  const RunResult one = train_one_process(dir, data, "one", 2);
  ASSERT_EQ(one.exit_code, 0) << one.err;

  TwoRanks ranks(train_args(data, dir.file("two"), 2));
  ASSERT_TRUE(ranks.both_succeed());

  expect_same_training(dir.file("one"), dir.file("two"));
  // Rank 0 speaks and writes; rank 1 does neither.
  EXPECT_NE(ranks.out(0).find("data-parallel over 2 ranks"), std::string::npos) << ranks.out(0);
  EXPECT_EQ(ranks.out(1), "");
  EXPECT_EQ(ranks.err(1), "");
  EXPECT_EQ(file_names_in(dir.file("two")), file_names_in(dir.file("one")));
}

TEST(DataParallel, TorchrunStartsTwoRanksThatTrainAsOneProcessDoes) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << kNoGloo;
  const std::string torchrun = VAE_CNN_TORCHRUN;  // the one of this build's PyTorch (CMakeLists.txt)
  if (!fs::exists(torchrun)) GTEST_SKIP() << "no " << torchrun << " (Debian's python3-torch installs it)";
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "digits", Files::kRaw);
  const RunResult one = train_one_process(dir, data, "one", 2);
  ASSERT_EQ(one.exit_code, 0) << one.err;

  // Debian's torchrun (1.13) under Python 3.11 needs --redirects/--tee spelled out
  // (docs/distributed-training.md).
  const std::string launch = torchrun + " --no_python --nproc_per_node=2 --redirects 1 --tee 1 --master_port " +
                             std::to_string(testing::free_loopback_port()) + " '" + VAE_CNN_BINARY + "'" +
                             shell_words(train_args(data, dir.file("two"), 2)) + " >'" + dir.file("torchrun.txt") +
                             "' 2>&1 </dev/null";
  const int status = std::system(launch.c_str());
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir.file("torchrun.txt"));

  expect_same_training(dir.file("one"), dir.file("two"));
  EXPECT_EQ(file_names_in(dir.file("two")), file_names_in(dir.file("one")));
}

TEST(DataParallel, ACheckpointResumesWithAnotherNumberOfRanks) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << kNoGloo;
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "digits", Files::kRaw);
  const RunResult straight = train_one_process(dir, data, "straight", 2);
  ASSERT_EQ(straight.exit_code, 0) << straight.err;

  // Epoch 1 on two ranks, epoch 2 in one process...
  {
    TwoRanks ranks(train_args(data, dir.file("two_then_one"), 1));
    ASSERT_TRUE(ranks.both_succeed());
  }
  const RunResult resumed = run_vae_cnn(dir, shell_words(train_args(data, dir.file("two_then_one"), 2, true)));
  ASSERT_EQ(resumed.exit_code, 0) << resumed.err;

  // ...and epoch 1 in one process, epoch 2 on two ranks.
  const RunResult first = train_one_process(dir, data, "one_then_two", 1);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  TwoRanks ranks(train_args(data, dir.file("one_then_two"), 2, true));
  ASSERT_TRUE(ranks.both_succeed());

  for (const char* mixed : {"two_then_one", "one_then_two"}) expect_same_training(dir.file("straight"), dir.file(mixed));
}

// Either rank killed while training: the other stops with one line naming it, well inside the
// group's timeout (a dead peer's closed connection is noticed at once; naming it waits a moment
// for the survivors to check in).
TEST(DataParallel, AKilledRankMakesTheOtherStopWithALineNamingIt) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << kNoGloo;
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "digits", Files::kRaw);
  for (const int victim : {1, 0}) {
    const int survivor = 1 - victim;
    const std::string out = dir.file("killed_" + std::to_string(victim));
    auto args = train_args(data, out, 100000);
    // The survivors' check-in window is the shorter of 10 s and this timeout.
    *(std::find(args.begin(), args.end(), "--dist-timeout") + 1) = "6";
    TwoRanks ranks(args);
    wait_for_file(out + "/metrics.csv", std::chrono::seconds(120));
    ASSERT_TRUE(fs::exists(out + "/metrics.csv")) << ranks.err(0) << ranks.err(1);
    const pid_t victim_pid = ranks.pids[victim];
    ::kill(victim_pid, SIGKILL);
    const auto killed_at = Clock::now();
    EXPECT_EQ(ranks.wait(victim, std::chrono::seconds(10)), 128 + SIGKILL);
    EXPECT_EQ(ranks.wait(survivor, std::chrono::seconds(45)), 1) << "the survivor did not stop";
    EXPECT_LT(Clock::now() - killed_at, std::chrono::seconds(45));
    const std::string error = ranks.err(survivor);
    EXPECT_EQ(count_lines(error), 1) << error;
    for (const std::string& fragment :
         {"rank " + std::to_string(survivor) + " of 2", "rank " + std::to_string(victim) + " (pid " +
                                                            std::to_string(victim_pid) + " on ",
          std::string("exited or stopped answering")}) {
      EXPECT_NE(error.find(fragment), std::string::npos) << fragment << " not in: " << error;
    }
    // What rank 0 wrote before the failure is a whole checkpoint.
    const RunResult resumed = run_vae_cnn(dir, shell_words(train_args(data, out, 2, true)));
    EXPECT_TRUE(resumed.exit_code == 0 || resumed.err.find("nothing to resume") != std::string::npos) << resumed.err;
  }
}

// Ctrl-C reaches one rank only: the group agrees in its next all-reduce, and both stop at the same
// batch, rank 0 having written the checkpoint of the last whole epoch.
TEST(DataParallel, InterruptingOneRankStopsBothAtTheSameBatch) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << kNoGloo;
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "digits", Files::kRaw);
  const std::string out = dir.file("w");
  TwoRanks ranks(train_args(data, out, 100000));
  wait_for_file(out + "/metrics.csv", std::chrono::seconds(120));
  ASSERT_TRUE(fs::exists(out + "/metrics.csv")) << ranks.err(0) << ranks.err(1);
  ::kill(ranks.pids[1], SIGINT);
  EXPECT_EQ(ranks.wait(0, std::chrono::seconds(60)), 130) << ranks.err(0);
  EXPECT_EQ(ranks.wait(1, std::chrono::seconds(60)), 130) << ranks.err(1);
  // "interrupted in epoch E after batch B"; the signalled rank also said it would stop.
  const auto where = [](const std::string& error) {
    const auto start = error.find("interrupted in epoch");
    return start == std::string::npos ? std::string() : error.substr(start, error.find(';', start) - start);
  };
  EXPECT_NE(where(ranks.err(0)), "") << ranks.err(0);
  EXPECT_EQ(where(ranks.err(0)), where(ranks.err(1))) << ranks.err(0) << ranks.err(1);
}

TEST(DataParallel, ARendezvousNobodyServesFailsWithinItsTimeout) {
  if (!DataParallelGroup::available()) GTEST_SKIP() << kNoGloo;
  ScratchDir dir;
  const std::string data = testing::small_data(dir, "digits", Files::kRaw);
  const int port = testing::free_loopback_port();
  auto args = train_args(data, dir.file("w"), 1);
  *(std::find(args.begin(), args.end(), "--dist-timeout") + 1) = "3";
  const auto start = Clock::now();
  const RunResult lonely = run_vae_cnn(
      dir, shell_words(args), "WORLD_SIZE=2 RANK=1 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + std::to_string(port));
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(30));
  testing::expect_one_line_failure(
      lonely, 1, "rank 1 of 2: cannot join the process group at 127.0.0.1:" + std::to_string(port) + " within 3 s",
      "lonely rank");
}

}  // namespace
}  // namespace vae_cnn
