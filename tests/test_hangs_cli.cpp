// Start-up under hostile limits and environments, through the real binary: each ends in one line
// and an exit code, never a hang.
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "cli_support.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::ScratchDir;

// Under `ulimit -v` of 600-800 MB OpenBLAS's initialiser spins for ever (with SIGINT and SIGTERM
// held), and at 900 MB a LibTorch initialiser's bad_alloc aborts with a C++ runtime's text, unless
// the launcher (src/main.cpp) ends both with one line. Every limit either works or says why in one
// line; `timeout` turns a hang into 124.
TEST(StartUp, TooLittleAddressSpaceIsOneLineNotAHang) {
#ifdef VAE_CNN_SANITIZED
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space at start-up: no ulimit -v fits it";
#endif
  ScratchDir dir;
  for (const char* kib : {"400000", "700000", "900000"}) {
    const auto result = run_vae_cnn(dir, "--help", std::string("ulimit -v ") + kib + "; exec timeout -s KILL 60");
    if (result.exit_code == 0) {
      EXPECT_NE(result.out.find("train"), std::string::npos) << kib << " KiB: " << result.out;
      continue;
    }
    testing::expect_one_line_failure(result, 1, "not enough address space: ulimit -v allows", std::string(kib) + " KiB");
  }
}

// A WORLD_SIZE left over in a shell (with the rest of torchrun's variables) makes a plain `train` wait
// for the other rank for the whole timeout: it says what it waits for, where, how long, and how to
// run alone; the wait still ends with the group's one-line failure.
TEST(StartUp, AStrayWorldSizeSaysWhatTheRunWaitsFor) {
  ScratchDir dir;
  const std::string port = std::to_string(testing::free_loopback_port());
  const auto result =
      run_vae_cnn(dir,
                  "train --epochs 1 --limit 64 --threads 1 --dist-timeout 2 --data '" + testing::small_real_dir() +
                      "' --out '" + dir.file("run") + "'",
                  "WORLD_SIZE=2 RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT=" + port + " exec timeout -s KILL 120");
  const std::string said = result.out + result.err;
  EXPECT_NE(said.find("rank 0 of 2 (WORLD_SIZE=2 and RANK=0 in the environment"), std::string::npos) << said;
  EXPECT_NE(said.find("waiting up to 2 s for the other rank at 127.0.0.1:" + port), std::string::npos) << said;
  EXPECT_NE(said.find("unset WORLD_SIZE"), std::string::npos) << said;
  EXPECT_EQ(result.exit_code, 1) << said;
}

// `train --resume` reads the run's train.log to carry it on: a FIFO there would hang it for ever.
TEST(StartUp, AResumeRefusesATrainLogThatIsAFifo) {
  ScratchDir dir;
  const std::string train = "train --limit 64 --batch-size 32 --threads 1 --data '" + testing::small_real_dir() +
                            "' --out '" + dir.file("run") + "'";
  ASSERT_EQ(run_vae_cnn(dir, train + " --epochs 1").exit_code, 0);
  std::filesystem::remove(dir.file("run/train.log"));
  ASSERT_EQ(::mkfifo(dir.file("run/train.log").c_str(), 0600), 0);
  testing::expect_one_line_failure(run_vae_cnn(dir, train + " --epochs 2 --resume", "exec timeout -s KILL 60"), 1,
                                   dir.file("run/train.log") + ": is a FIFO", "train.log a FIFO");
}

}  // namespace
}  // namespace vae_cnn
