// Helpers shared by the tests: a scratch folder per test, raw file writing, error-text checks.
#pragma once

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "vae_cnn/data/idx_file.hpp"
#include "vae_cnn/train/train_config.hpp"
#include "vae_cnn/train/train_run.hpp"

namespace vae_cnn::testing {

/// A fresh folder under the system's temporary directory, removed when the test ends.
class ScratchDir {
 public:
  /// `suffix` tells apart two folders of one test.
  explicit ScratchDir(const std::string& suffix = "") {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string("vae_cnn_") + (info ? info->test_suite_name() + std::string("_") + info->name() : "t");
    // A number per folder: two ScratchDirs of one test once shared a path, and a test that
    // compared a run in one with a run in the other compared a file with itself.
    static int made = 0;
    path_ = std::filesystem::temp_directory_path() /
            (name + "_" + std::to_string(::getpid()) + "_" + std::to_string(made++) + suffix);
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

/// Runs `action`, which must throw an exception of type E whose message holds every fragment.
template <typename E>
void expect_throw_with(const std::function<void()>& action, const std::vector<std::string>& fragments) {
  try {
    action();
  } catch (const E& error) {
    const std::string message = error.what();
    for (const auto& fragment : fragments) {
      EXPECT_NE(message.find(fragment), std::string::npos) << "message: " << message << "\nmissing: " << fragment;
    }
    EXPECT_EQ(message.find('\n'), std::string::npos) << "message is not one line: " << message;
    return;
  } catch (const std::exception& other) {
    FAIL() << "threw another exception type: " << other.what();
  }
  FAIL() << "did not throw; expected a message with: " << (fragments.empty() ? "" : fragments.front());
}

/// A loopback port nobody listens on right now: the kernel's pick for a socket bound to port 0.
inline int free_loopback_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// The 10,000-digit MNIST sample kept in the repository (checked by scripts/fetch_data.sh).
inline std::string mnist_sample_dir() { return std::string(VAE_CNN_SOURCE_DIR) + "/data/mnist-sample"; }

/// The first `train` and `test` digits of the repository's MNIST sample, as IDX files give them: what
/// the image-folder and archive tests write in their forms and expect back.
inline DataSplits sample_digits(std::int64_t train, std::int64_t test) {
  DataSplits splits = load_data_dir(mnist_sample_dir());
  splits.train = splits.train.head(train);
  splits.test = splits.test.head(test);
  return splits;
}

/// The whole text of a file ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

/// A number that changes whenever the test binary is rebuilt: folders made for one build are not
/// trusted by the next.
inline std::string build_stamp() {
  namespace fs = std::filesystem;
  return std::to_string(fs::last_write_time(fs::read_symlink("/proc/self/exe")).time_since_epoch().count());
}

/// Makes `folder` with `fill(scratch)` once: the first test to ask fills a folder of its own and
/// renames it into place, so tests running side by side (ctest runs each in its own process) never
/// see half of it.
template <typename Fill>
std::string made_once(const std::filesystem::path& folder, Fill&& fill) {
  namespace fs = std::filesystem;
  if (fs::exists(folder / "complete")) return folder.string();
  const fs::path scratch = folder.string() + ".tmp-" + std::to_string(::getpid());
  fs::remove_all(scratch);
  fs::create_directories(scratch);
  fill(scratch);
  std::ofstream(scratch / "complete") << "made\n";
  std::error_code taken;
  fs::rename(scratch, folder, taken);
  if (taken) fs::remove_all(scratch);  // another test got there first with the same contents
  return folder.string();
}

/// A data folder named mnist with the first 256 training and the first 100 test digits of
/// data/mnist-sample: small runs validate on 100 digits, not all 1,663, after every epoch.
inline std::string small_real_dir() {
  const auto folder = made_once(std::filesystem::path(VAE_CNN_TEST_CACHE) / ("small_real-" + build_stamp()),
                                [](const std::filesystem::path& scratch) {
    std::filesystem::create_directories(scratch / "mnist");
    const struct {
      const char* stem;
      std::uint32_t magic, count;
    } parts[] = {{"train-images-idx3-ubyte", kIdxImagesMagic, 256}, {"train-labels-idx1-ubyte", kIdxLabelsMagic, 256},
                 {"t10k-images-idx3-ubyte", kIdxImagesMagic, 100}, {"t10k-labels-idx1-ubyte", kIdxLabelsMagic, 100}};
    for (const auto& part : parts) {
      IdxArray array = read_idx(locate_idx_file(mnist_sample_dir(), part.stem), part.magic);
      std::size_t per_item = 1;
      for (std::size_t d = 1; d < array.dims.size(); ++d) per_item *= array.dims[d];
      array.dims[0] = part.count;
      array.values.resize(per_item * part.count);
      write_idx((scratch / "mnist" / part.stem).string(), array, IdxCompression::kNone);
    }
  });
  return folder + "/mnist";
}

/// A quick real run: 256 training digits in batches of 64, validated on 100, on one CPU thread
/// (ctest runs tests side by side, one per core).
/// FitOptions of the loops alone: no learning-rate warm-up and no restarts of dead encoder units,
/// which TrainConfig's defaults (the seed's runs) turn on and a test of one mechanism does not want.
inline FitOptions plain_fit_options() {
  FitOptions options;
  options.lr_warmup = 0;
  options.revive_epochs = 0;
  return options;
}

inline TrainConfig small_real_run(const std::string& out_dir, std::int64_t epochs, std::uint64_t seed) {
  TrainConfig config;
  config.data_dir = small_real_dir();
  config.epochs = epochs;
  config.limit = 256;
  config.batch_size = 64;
  config.seed = seed;
  config.threads = 1;
  config.device = "cpu";
  config.out_dir = out_dir;
  // These runs check files and flows, not the default's quality: a warm-up would spend their few steps.
  config.lr_warmup = 0;
  return config;
}

/// The output folder of run_training(config) for `name`, trained once per build of the test binary
/// and shared by the tests that only read it (copy before changing anything in it). ctest runs each
/// test in a process of its own, so the first test to ask trains into a folder of its own and
/// renames it into place: tests running side by side never see half a run.
inline std::string shared_training(const std::string& name, TrainConfig config) {
  return made_once(std::filesystem::path(VAE_CNN_TEST_CACHE) / (name + "-" + build_stamp()),
                   [&](const std::filesystem::path& scratch) {
                     config.out_dir = scratch.string();
                     run_training(config, {});
                   });
}

/// The two BCE epochs of seed 7 on 256 real digits that the plot and hostile-input tests share.
inline std::string bce_seed7_training() {
  TrainConfig config = small_real_run("", 2, 7);
  config.loss = LossKind::kBce;
  return shared_training("plot_bce_seed7", config);
}

/// `bytes` as one gzip member (zlib, best compression).
inline std::vector<std::uint8_t> gzip_member(const std::vector<std::uint8_t>& bytes) {
  z_stream stream{};
  deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::vector<std::uint8_t> out(deflateBound(&stream, bytes.size()) + 32);
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  return out;
}

}  // namespace vae_cnn::testing
