// Outputs that are not plain files, through the real binary: a symbolic link keeps pointing at the
// file it names, a FIFO gets the bytes, and standard output that cannot take them is an error.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>

#include "cli_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

const std::string kPngSignature = "\x89PNG\r\n\x1a\n";

std::string shared_weights_file() {
  return testing::shared_training("output_targets_seed3", testing::small_real_run("", 1, 3)) + "/vae_cnn.mnist.pt";
}

int entries_in(const std::string& folder) {
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(folder)) ++entries;
  return entries;
}

TEST(OutputTargets, ASymbolicLinkStaysALinkAndItsTargetIsWritten) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("pictures"));
  std::filesystem::create_symlink("pictures/digit.png", dir.file("link.png"));  // relative, target not there yet
  auto result = run_vae_cnn(dir, "decode -w '" + shared_weights_file() + "' -z 0.5,-1 -o '" + dir.file("link.png") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("link.png")));
  EXPECT_EQ(slurp(dir.file("pictures/digit.png")).substr(0, 8), kPngSignature);
  EXPECT_EQ(entries_in(dir.file("pictures")), 1) << "no temporary file left beside the target";

  // Written again through a chain of two links: still links, the file replaced. Replaced means a new
  // inode: the old file is still open here, so the kernel cannot hand its number to the new one.
  std::filesystem::create_symlink(dir.file("link.png"), dir.file("link2.png"));
  const int old_file = ::open(dir.file("pictures/digit.png").c_str(), O_RDONLY | O_CLOEXEC);
  ASSERT_GE(old_file, 0);
  struct stat before {};
  ASSERT_EQ(::fstat(old_file, &before), 0);
  result = run_vae_cnn(dir, "encode -w '" + shared_weights_file() + "' --data '" + testing::mnist_sample_dir() +
                                "' -o '" + dir.file("link2.png") + "'");
  ::close(old_file);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("link2.png")));
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("link.png")));
  struct stat after {};
  ASSERT_EQ(::stat(dir.file("pictures/digit.png").c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino) << "pictures/digit.png was not replaced";
  EXPECT_EQ(slurp(dir.file("pictures/digit.png")).rfind("index,label,", 0), 0u);
}

TEST(OutputTargets, AFifoGetsTheBytesAndStaysAFifo) {
  ScratchDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  // Opened without blocking before the writer starts, so that a binary that never opens the FIFO
  // (and renames a file over it instead) ends the test rather than hanging it.
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  auto binary = std::async(std::launch::async, [&] {
    return run_vae_cnn(dir, "decode -w '" + shared_weights_file() + "' -z 0,0 -o '" + fifo + "'");
  });
  std::string received;
  char buffer[4096];
  for (bool finished = false;;) {
    const ssize_t got = ::read(reader, buffer, sizeof buffer);
    if (got > 0) {
      received.append(buffer, static_cast<std::size_t>(got));
      continue;
    }
    if (finished) break;
    finished = binary.wait_for(std::chrono::milliseconds(10)) == std::future_status::ready;
  }
  ::close(reader);
  const auto result = binary.get();
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(received.substr(0, 8), kPngSignature) << received.size() << " bytes through the FIFO";
  struct stat info {};
  ASSERT_EQ(::lstat(fifo.c_str(), &info), 0);
  EXPECT_TRUE(S_ISFIFO(info.st_mode)) << "the FIFO was replaced by a file";
}

TEST(OutputTargets, DevicesAreWrittenInPlaceAndOtherKindsRefused) {
  // Classification only: a binary that got it wrong, run as root, would replace /dev/null itself.
  EXPECT_FALSE(resolve_write_target("/dev/null").replace);
  EXPECT_FALSE(resolve_write_target("/dev/stdout").replace);
  ScratchDir dir;
  EXPECT_TRUE(resolve_write_target(dir.file("new.png")).replace);
  try {
    resolve_write_target(dir.path());
    ADD_FAILURE() << "a folder accepted as an output file";
  } catch (const WriteError& error) {
    EXPECT_NE(std::string(error.what()).find("is a folder"), std::string::npos) << error.what();
  }
  // /dev/full takes nothing: written in place, the write fails and says why.
  try {
    write_file_atomically("/dev/full", std::string("bytes"));
    ADD_FAILURE() << "writing /dev/full succeeded";
  } catch (const WriteError& error) {
    EXPECT_NE(std::string(error.what()).find("No space left on device"), std::string::npos) << error.what();
  }
  struct stat info {};
  ASSERT_EQ(::stat("/dev/full", &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode));
}

TEST(OutputTargets, StandardOutputThatTakesNothingIsAnError) {
  ScratchDir dir;
  const std::string encode =
      "'" + std::string(VAE_CNN_BINARY) + "' encode -w '" + shared_weights_file() + "' --data '" + testing::mnist_sample_dir() + "'";
  const auto run_shell = [&](const std::string& command) {
    const int status = std::system((command + " 2>'" + dir.file("err.txt") + "'").c_str());
    testing::RunResult result;
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    result.err = slurp(dir.file("err.txt"));
    return result;
  };
  testing::expect_one_line_failure(run_shell(encode + " >/dev/full"), 1,
                                   "standard output: cannot write: No space left on device", "stdout /dev/full");
  testing::expect_one_line_failure(run_shell(encode + " --help >/dev/full"), 1, "standard output", "--help > /dev/full");
  // Under a file-size limit the kernel would end the process by SIGXFSZ (exit 153) without a word.
  testing::expect_one_line_failure(run_shell("ulimit -f 4; " + encode + " >'" + dir.file("codes.csv") + "'"), 1,
                                   "standard output: cannot write: File too large", "stdout under ulimit -f");
}

}  // namespace
}  // namespace vae_cnn
