// The real binary, end to end: exit codes and one-line errors.
#include <torch/version.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli_support.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::RunResult;
using testing::ScratchDir;
using testing::slurp;

TEST(Cli, HelpAndVersionExitZero) {
  ScratchDir dir;
  const RunResult help = run_vae_cnn(dir, "--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: vae_cnn <command>"), std::string::npos);
  const RunResult version = run_vae_cnn(dir, "--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("vae_cnn ", 0), 0u) << version.out;
  EXPECT_NE(version.out.find("(LibTorch " + std::to_string(TORCH_VERSION_MAJOR) + "."), std::string::npos) << version.out;
}

TEST(Cli, UnknownCommandIsAUsageErrorOnOneLine) {
  ScratchDir dir;
  testing::expect_one_line_failure(run_vae_cnn(dir, "frobnicate"), 2, "unknown command 'frobnicate'", "frobnicate");
}

TEST(Cli, SummaryReportsTheSeedsParameterCount) {
  ScratchDir dir;
  const RunResult result = run_vae_cnn(dir, "summary");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Total params: 134,165"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Total params: 69,076"), std::string::npos);
}

TEST(Cli, TrainOneEpochWritesWeightsAndOneFiniteMetricsRow) {
  ScratchDir dir;
  const RunResult result = run_vae_cnn(dir, "train --epochs 1 --limit 512 --seed 1 --threads 1 --data '" +
                                                testing::mnist_sample_dir() + "' --out '" + dir.file("w") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("w/vae_cnn.mnist-sample.pt")));
  std::istringstream csv(slurp(dir.file("w/metrics.csv")));
  std::string header, row, extra;
  std::getline(csv, header);
  std::getline(csv, row);
  EXPECT_FALSE(std::getline(csv, extra)) << "more than one row";
  EXPECT_EQ(header.rfind("epoch,loss,", 0), 0u);
  EXPECT_EQ(row.rfind("1,", 0), 0u) << row;
  for (const char* bad : {"nan", "inf"}) EXPECT_EQ(row.find(bad), std::string::npos) << row;
  const std::string log = slurp(dir.file("w/train.log"));
  EXPECT_NE(log.find("epoch 1/1"), std::string::npos) << log;
  EXPECT_NE(log.find("Total params: 134,165"), std::string::npos);
  // Not a terminal: one line per epoch, the summary, and no bar.
  EXPECT_EQ(result.out.find("epoch 1/1 ["), std::string::npos) << result.out;
  std::istringstream lines(result.out);
  int epoch_lines = 0;
  for (std::string line; std::getline(lines, line);) epoch_lines += line.rfind("epoch 1/1", 0) == 0;
  EXPECT_EQ(epoch_lines, 1) << result.out;
  EXPECT_NE(result.out.find("val_loss"), std::string::npos) << result.out;
  EXPECT_EQ(log.find("trains slower than fp32"), std::string::npos) << "fp32 needs no precision note";
}

// bf16 trains slower than fp32 on every CPU measured (docs/benchmarks.md): the log says so and why.
TEST(Cli, Bf16OnTheCpuSaysItIsSlowerThanFp32) {
  ScratchDir dir;
  const RunResult result = run_vae_cnn(dir, "train --epochs 1 --limit 128 --seed 1 --threads 1 --precision bf16 --data '" +
                                                testing::mnist_sample_dir() + "' --out '" + dir.file("w") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string log = slurp(dir.file("w/train.log"));
  EXPECT_NE(log.find("note: --precision bf16 trains slower than fp32 on the CPU: vae_cnn's fast CPU kernels are fp32"),
            std::string::npos)
      << log;
}

// Each option's checks are tested in-process (test_cli_parsing.cpp); here the binary's edge: a bad
// value, one caught while parsing and one caught by the run's own validation, is one line, exit 2,
// and nothing is written.
TEST(Cli, BadOptionsExitTwoWithOneLine) {
  ScratchDir dir;
  for (const auto& [arguments, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"train --epochs abc", "--epochs must be a whole number, got abc"}, {"train --lr 0", "--lr"}}) {
    testing::expect_one_line_failure(run_vae_cnn(dir, arguments + " --out '" + dir.file("never") + "'"), 2, fragment,
                                     arguments);
  }
  EXPECT_FALSE(std::filesystem::exists(dir.file("never")));
}

TEST(Cli, MalformedDataFileExitsOneNamingTheFile) {
  ScratchDir dir;
  testing::small_data(dir, "data", testing::Files::kRaw);
  std::filesystem::resize_file(dir.file("data/t10k-images-idx3-ubyte"), 5000);
  const RunResult result =
      run_vae_cnn(dir, "train --epochs 1 --data '" + dir.file("data") + "' --out '" + dir.file("w") + "'");
  testing::expect_one_line_failure(result, 1, dir.file("data/t10k-images-idx3-ubyte") + ": truncated", "truncated data");
}

TEST(Cli, MissingCudaIsOneLineNotACrash) {
  ScratchDir dir;
  const RunResult probe = run_vae_cnn(dir, "train --device cuda --epochs 1 --limit 64 --data '" +
                                               testing::mnist_sample_dir() + "' --out '" + dir.file("w") + "'");
  if (probe.exit_code == 0) GTEST_SKIP() << "this machine has CUDA";
  testing::expect_one_line_failure(probe, 1, "CUDA is not available", "--device cuda");
}

}  // namespace
}  // namespace vae_cnn
