// Data folders as tensors: layout, raw-vs-gzip choice, count agreement and the real MNIST digits.
#include "vae_cnn/data/dataset.hpp"

#include <filesystem>

#include "test_support.hpp"
#include "vae_cnn/data/idx_file.hpp"
#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

void write_split(const ScratchDir& dir, const std::string& prefix, std::uint32_t count, IdxCompression compression,
                 std::uint8_t fill = 255) {
  const std::string suffix = compression == IdxCompression::kGzip ? ".gz" : "";
  IdxArray images{{count, 28, 28}, std::vector<std::uint8_t>(count * 784, fill)};
  IdxArray labels{{count}, std::vector<std::uint8_t>(count)};
  for (std::uint32_t i = 0; i < count; ++i) labels.values[i] = static_cast<std::uint8_t>((i * 3) % 10);
  write_idx(dir.file(prefix + "-images-idx3-ubyte" + suffix), images, compression);
  write_idx(dir.file(prefix + "-labels-idx1-ubyte" + suffix), labels, compression);
}

TEST(Dataset, LoadsBothSplitsAsTensors) {
  ScratchDir dir;
  write_split(dir, "train", 7, IdxCompression::kGzip, 51);
  write_split(dir, "t10k", 3, IdxCompression::kNone, 255);
  const DataSplits splits = load_data_dir(dir.path().string());
  EXPECT_EQ(splits.train.size(), 7);
  EXPECT_EQ(splits.test.size(), 3);
  EXPECT_EQ(splits.train.pixels.sizes(), (std::vector<std::int64_t>{7, 1, 28, 28}));
  EXPECT_EQ(splits.train.pixels.dtype(), torch::kUInt8);
  EXPECT_EQ(splits.train.labels.dtype(), torch::kInt64);
  EXPECT_FLOAT_EQ(splits.train.images().max().item<float>(), 0.2f);
  EXPECT_FLOAT_EQ(splits.test.images().min().item<float>(), 1.0f);
  EXPECT_EQ(splits.train.labels[2].item<std::int64_t>(), 6);
}

// Bytes become floats a batch at a time; any range or any rows give the values converting the whole
// set would give, bit for bit (training from a seed must not depend on the batch it converts).
TEST(Dataset, ImagesOfAnyRangeOrRowsAreTheWholeSetsValues) {
  const Dataset data = Dataset::from_unit_floats(torch::arange(0, 256, torch::kFloat32).div(255).view({4, 1, 8, 8}),
                                                 torch::arange(4, torch::kLong));
  EXPECT_EQ(data.pixels.dtype(), torch::kUInt8);
  EXPECT_EQ(data.pixels.view(-1)[200].item<int>(), 200) << "floats k/255 are stored as the byte k";
  const torch::Tensor all = data.images();
  EXPECT_EQ(all.dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(all.view(-1), torch::arange(0, 256, torch::kFloat32).div_(255.0f)));
  EXPECT_TRUE(torch::equal(data.images(1, 3), all.slice(0, 1, 3)));
  const torch::Tensor rows = torch::tensor({3, 0, 3}, torch::kLong);
  EXPECT_TRUE(torch::equal(data.images_at(rows), all.index_select(0, rows)));
  EXPECT_EQ(data.head(2).size(), 2);
  EXPECT_EQ(data.image_options().dtype(), torch::kFloat32);
}

TEST(Dataset, RawFileWinsOverGzip) {
  ScratchDir dir;
  write_split(dir, "train", 2, IdxCompression::kGzip, 0);
  write_split(dir, "train", 4, IdxCompression::kNone, 0);
  bool raw_won = false;
  EXPECT_EQ(locate_idx_file(dir.path().string(), "train-images-idx3-ubyte", &raw_won),
            dir.file("train-images-idx3-ubyte"));
  EXPECT_TRUE(raw_won);
  EXPECT_EQ(load_split(dir.path().string(), Split::kTrain).size(), 4);
}

TEST(Dataset, RejectsLabelCountThatDiffersFromImages) {
  ScratchDir dir;
  write_split(dir, "t10k", 5, IdxCompression::kNone);
  write_idx(dir.file("t10k-labels-idx1-ubyte"), IdxArray{{4}, {1, 2, 3, 4}}, IdxCompression::kNone);
  expect_throw_with<DataError>([&] { load_split(dir.path().string(), Split::kTest); },
                               {dir.file("t10k-labels-idx1-ubyte"), "holds 4 labels, expected 5"});
}

TEST(Dataset, NamesTheMissingFile) {
  ScratchDir dir;
  write_split(dir, "train", 2, IdxCompression::kNone);
  expect_throw_with<DataError>([&] { load_data_dir(dir.path().string()); },
                               {dir.file("t10k-images-idx3-ubyte"), "missing"});
  expect_throw_with<DataError>([&] { load_data_dir(dir.file("absent")); }, {dir.file("absent"), "no such data folder"});
}

// A link loop, a raw file that is a link to nothing beside its .gz, and a file given as the folder
// each get their own words (exists() alone calls the first missing and passes over the second).
TEST(Dataset, ALinkLoopADanglingLinkAndAFileAsTheFolderAreNamed) {
  ScratchDir dir;
  write_split(dir, "t10k", 5, IdxCompression::kGzip);
  std::filesystem::create_symlink(dir.file("t10k-images-idx3-ubyte"), dir.file("t10k-images-idx3-ubyte"));
  expect_throw_with<DataError>([&] { load_split(dir.path().string(), Split::kTest); },
                               {dir.file("t10k-images-idx3-ubyte") + ": a loop of symbolic links"});
  std::filesystem::remove(dir.file("t10k-images-idx3-ubyte"));
  std::filesystem::create_symlink(dir.file("gone"), dir.file("t10k-labels-idx1-ubyte"));
  expect_throw_with<DataError>([&] { load_split(dir.path().string(), Split::kTest); },
                               {dir.file("t10k-labels-idx1-ubyte") + ": a symbolic link to nothing (" + dir.file("gone")});
  expect_throw_with<DataError>([&] { load_split(dir.file("t10k-images-idx3-ubyte.gz"), Split::kTest); },
                               {dir.file("t10k-images-idx3-ubyte.gz") + ": is a file, not a data folder"});
}

TEST(Dataset, NameIsTheFolderName) {
  EXPECT_EQ(dataset_name("data/mnist"), "mnist");
  EXPECT_EQ(dataset_name("data/fashion-mnist/"), "fashion-mnist");
}

TEST(Dataset, RealMnistHoldsTenThousandDigitsOfEveryClass) {
  const DataSplits splits = load_data_dir(testing::mnist_sample_dir());
  EXPECT_EQ(splits.name, "mnist-sample");
  EXPECT_EQ(splits.train.size() + splits.test.size(), 10000);
  EXPECT_EQ(splits.train.size(), 8337);
  EXPECT_EQ(splits.test.size(), 1663);
  for (const Dataset* part : {&splits.train, &splits.test}) {
    const auto counts = torch::bincount(part->labels, /*weights=*/{}, /*minlength=*/10);
    EXPECT_EQ(counts.size(0), 10);
    EXPECT_GT(counts.min().item<std::int64_t>(), 100) << counts;
    EXPECT_GE(part->images().min().item<float>(), 0.0f);
    EXPECT_LE(part->images().max().item<float>(), 1.0f);
    // Real handwriting: about a fifth of MNIST's pixels are ink.
    const double ink = part->images().gt(0.5).to(torch::kFloat64).mean().item<double>();
    EXPECT_GT(ink, 0.08);
    EXPECT_LT(ink, 0.25);
  }
  // The split is interleaved over digits, so a prefix (as --limit takes) holds them all.
  EXPECT_EQ(std::get<0>(torch::_unique(splits.train.labels.slice(0, 0, 10))).size(0), 10);
}

// The full-size data set scripts/fetch_data.sh links from Debian: gzip files, 60,000 + 10,000.
TEST(Dataset, FullSizeFashionMnistLoadsFromGzip) {
  const std::string folder = std::string(VAE_CNN_SOURCE_DIR) + "/data/fashion-mnist";
  if (!std::filesystem::exists(folder)) GTEST_SKIP() << folder << " is missing: run scripts/fetch_data.sh";
  const DataSplits splits = load_data_dir(folder);
  EXPECT_EQ(splits.name, "fashion-mnist");
  EXPECT_EQ(splits.train.size(), 60000);
  EXPECT_EQ(splits.test.size(), 10000);
  ASSERT_EQ(splits.files.size(), 4u);
  for (const auto& file : splits.files) EXPECT_EQ(file.path.substr(file.path.size() - 3), ".gz") << file.path;
  const auto counts = torch::bincount(splits.train.labels, /*weights=*/{}, /*minlength=*/10);
  EXPECT_EQ(counts.min().item<std::int64_t>(), 6000) << counts;
  EXPECT_EQ(counts.max().item<std::int64_t>(), 6000) << counts;
}

}  // namespace
}  // namespace vae_cnn
