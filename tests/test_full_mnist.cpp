// The whole MNIST that scripts/fetch_data.sh makes (data/mnist) and the 10,000-digit sample kept in
// the repository (data/mnist-sample): the sample is a part of the whole, digit for digit.
#include <filesystem>
#include <string>
#include <unordered_map>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/data/idx_file.hpp"

namespace vae_cnn {
namespace {

constexpr std::size_t kDigitBytes = 28 * 28;

std::string full_mnist_dir() { return std::string(VAE_CNN_SOURCE_DIR) + "/data/mnist"; }

struct Digits {
  IdxImages images;
  std::vector<std::uint8_t> labels;
};

Digits read_digits(const std::string& folder, const std::string& prefix) {
  return {read_idx_images(locate_idx_file(folder, prefix + "-images-idx3-ubyte")),
          read_idx_labels(locate_idx_file(folder, prefix + "-labels-idx1-ubyte"))};
}

std::string digit_bytes(const Digits& digits, std::size_t index) {
  const auto* first = digits.images.pixels.data() + index * kDigitBytes;
  return std::string(reinterpret_cast<const char*>(first), kDigitBytes);
}

class FullMnist : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(full_mnist_dir() + "/train-images-idx3-ubyte.gz"))
        << full_mnist_dir() << " is missing: scripts/fetch_data.sh makes it";
  }
};

TEST_F(FullMnist, HoldsSixtyThousandTrainingAndTenThousandTestDigits) {
  const DataSplits splits = load_data_dir(full_mnist_dir());
  EXPECT_EQ(splits.name, "mnist");
  EXPECT_EQ(splits.train.size(), 60000);
  EXPECT_EQ(splits.test.size(), 10000);
  EXPECT_EQ(splits.train.pixels.dtype(), torch::kUInt8) << "held as the files store it";
  // Every digit appears in both splits, in MNIST's proportions (the training set's 1s most often).
  const auto counts = torch::bincount(splits.train.labels, {}, 10);
  EXPECT_EQ(counts.min().item<std::int64_t>(), 5421) << "fives, the rarest digit of the training set";
  EXPECT_EQ(counts.max().item<std::int64_t>(), 6742) << "ones, the commonest";
}

// Every digit of the sample is in the whole training set, with its label: the 784 bytes of each
// training digit are keyed to its labels, and each sample digit is looked up.
TEST_F(FullMnist, EverySampleDigitIsATrainingDigitWithTheSameLabel) {
  const Digits full = read_digits(full_mnist_dir(), "train");
  std::unordered_multimap<std::string, std::uint8_t> labels_of;
  labels_of.reserve(full.labels.size());
  for (std::size_t i = 0; i < full.labels.size(); ++i) labels_of.emplace(digit_bytes(full, i), full.labels[i]);
  std::size_t looked_up = 0;
  for (const char* prefix : {"train", "t10k"}) {
    const Digits sample = read_digits(testing::mnist_sample_dir(), prefix);
    for (std::size_t i = 0; i < sample.labels.size(); ++i, ++looked_up) {
      const auto [first, last] = labels_of.equal_range(digit_bytes(sample, i));
      ASSERT_NE(first, last) << prefix << " digit " << i << " of the sample is not in the full training set";
      bool same_label = false;
      for (auto it = first; it != last; ++it) same_label = same_label || it->second == sample.labels[i];
      EXPECT_TRUE(same_label) << prefix << " digit " << i << " is labelled " << int(sample.labels[i]) << " in the sample only";
    }
  }
  EXPECT_EQ(looked_up, 10000u);
}

}  // namespace
}  // namespace vae_cnn
