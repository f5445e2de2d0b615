// Folders of images (PNG, JPEG, BMP) made at test time from the repository's MNIST digits: the same
// digits as the IDX files give, resized and recoloured as documented, split as documented, and each
// kind of bad folder refused with one line naming the file.
#include <stb_image_write.h>
#include <unistd.h>
#include <zlib.h>

#include <ATen/Parallel.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;
using testing::expect_throw_with;
using testing::ScratchDir;

constexpr std::int64_t kTrainDigits = 150;
constexpr std::int64_t kTestDigits = 50;

DataSplits sample_digits() { return testing::sample_digits(kTrainDigits, kTestDigits); }

std::string five_digits(std::int64_t index) {
  const std::string digits = std::to_string(index);
  return std::string(digits.size() < 5 ? 5 - digits.size() : 0, '0') + digits;
}

// The file name image folders hold the first digit `label` of `data` under.
std::string first_file_of(const Dataset& data, std::int64_t label) {
  return five_digits(torch::nonzero(data.labels == label)[0][0].item<std::int64_t>()) + ".png";
}

// Writes [C,H,W] bytes as an image file of its kind by extension.
void write_image(const fs::path& path, const torch::Tensor& chw) {
  const torch::Tensor hwc = chw.permute({1, 2, 0}).contiguous();
  const int channels = static_cast<int>(chw.size(0));
  const int height = static_cast<int>(chw.size(1));
  const int width = static_cast<int>(chw.size(2));
  const void* data = hwc.data_ptr<std::uint8_t>();
  fs::create_directories(path.parent_path());
  const int ok = path.extension() == ".jpg" ? stbi_write_jpg(path.c_str(), width, height, channels, data, 95)
                 : path.extension() == ".bmp" ? stbi_write_bmp(path.c_str(), width, height, channels, data)
                                              : stbi_write_png(path.c_str(), width, height, channels, data, width * channels);
  ASSERT_NE(ok, 0) << path;
}

// DIR/<split>/<label>/<index>.<extension> for every image of `data`.
void write_class_tree(const fs::path& dir, const Dataset& data, const std::string& extension) {
  for (std::int64_t i = 0; i < data.size(); ++i) {
    const std::string label = std::to_string(data.labels[i].item<std::int64_t>());
    write_image(dir / label / (five_digits(i) + extension), data.pixels[i]);
  }
}

fs::path write_split_tree(const fs::path& dir, const DataSplits& digits, const std::string& extension) {
  write_class_tree(dir / "train", digits.train, extension);
  write_class_tree(dir / "test", digits.test, extension);
  return dir;
}

// The order image folders list a split in: by class, then by file name (here the IDX index).
Dataset in_folder_order(const Dataset& data) {
  const torch::Tensor order = std::get<1>(data.labels.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
  return {data.pixels.index_select(0, order), data.labels.index_select(0, order)};
}

void expect_same(const Dataset& loaded, const Dataset& expected) {
  ASSERT_EQ(loaded.pixels.sizes(), expected.pixels.sizes());
  EXPECT_EQ(loaded.pixels.dtype(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(loaded.pixels, expected.pixels));
  EXPECT_TRUE(torch::equal(loaded.labels, expected.labels));
}

const std::vector<std::string> kDigitNames{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};

TEST(ImageFolder, PngTreeHoldsTheIdxDigits) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  const fs::path root = write_split_tree(dir.path() / "digits", digits, ".png");
  const DataSplits splits = load_data(root.string());
  EXPECT_EQ(splits.name, "digits");
  EXPECT_EQ(splits.form, "image folders");
  EXPECT_EQ(splits.class_names, kDigitNames);
  EXPECT_EQ(splits.resized, 0);
  EXPECT_EQ(splits.ignored_files, 0);
  expect_same(splits.train, in_folder_order(digits.train));
  expect_same(splits.test, in_folder_order(digits.test));
}

// JPEG at quality 95 is lossy: the digits come back within a mean of 2 levels of 255 per pixel.
// stb_image_write stores even grey images as YCbCr, which read as colour: channels 1 asks for grey.
TEST(ImageFolder, JpegTreeHoldsTheDigitsWithinJpegsLoss) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  const std::string root = write_split_tree(dir.path(), digits, ".jpg").string();
  EXPECT_EQ(load_split(root, Split::kTest, DataOptions{}).pixels.size(1), 3);
  DataOptions options;
  options.channels = 1;
  const DataSplits splits = load_data(root, options);
  const Dataset expected = in_folder_order(digits.train);
  ASSERT_EQ(splits.train.pixels.sizes(), expected.pixels.sizes());
  EXPECT_TRUE(torch::equal(splits.train.labels, expected.labels));
  const torch::Tensor error = (splits.train.pixels.to(torch::kFloat32) - expected.pixels.to(torch::kFloat32)).abs();
  EXPECT_LT(error.mean().item<float>(), 2.0f);
  EXPECT_GT(error.mean().item<float>(), 0.0f) << "a JPEG that loses nothing: not the JPEG path";
}

// image_size 14 from 28: each pixel is its 2×2 block's mean, rounded half up ((sum + 2) / 4).
TEST(ImageFolder, ShrinkingAveragesEachBlockExactly) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  const std::string root = write_split_tree(dir.path(), digits, ".png").string();
  DataOptions options;
  options.image_size = 14;
  const DataSplits splits = load_data(root, options);
  EXPECT_EQ(splits.resized, kTrainDigits + kTestDigits);
  const torch::Tensor sums =
      in_folder_order(digits.train).pixels.to(torch::kInt64).view({kTrainDigits, 1, 14, 2, 14, 2}).sum({3, 5});
  EXPECT_TRUE(torch::equal(splits.train.pixels.to(torch::kInt64), (sums + 2).div(4, "floor")));
  // The IDX files take the same options and give the same bytes.
  const DataSplits idx = load_data(testing::mnist_sample_dir(), options);
  EXPECT_EQ(idx.form, "IDX files");
  EXPECT_EQ(idx.class_names, kDigitNames);
  EXPECT_EQ(idx.train.pixels.sizes(), (std::vector<std::int64_t>{8337, 1, 14, 14}));
  EXPECT_TRUE(torch::equal(in_folder_order(idx.train.head(kTrainDigits)).pixels, splits.train.pixels));
  options.image_size = 28;
  EXPECT_EQ(load_data(root, options).resized, 0);
}

TEST(ImageFolder, GreyBecomesRgbByCopyingIntoEachPlane) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  DataOptions options;
  options.channels = 3;
  const DataSplits splits = load_data(write_split_tree(dir.path(), digits, ".png").string(), options);
  ASSERT_EQ(splits.test.pixels.sizes(), (std::vector<std::int64_t>{kTestDigits, 3, 28, 28}));
  const torch::Tensor grey = in_folder_order(digits.test).pixels;
  for (int c = 0; c < 3; ++c) EXPECT_TRUE(torch::equal(splits.test.pixels.slice(1, c, c + 1), grey)) << c;
}

// A colour per class, the digit padded 28 -> 32: DIR/<class>/<index>.png, 32×32 RGB.
const std::int64_t kTints[10][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},   {255, 255, 0}, {0, 255, 255},
                                    {255, 0, 255}, {255, 128, 0}, {128, 0, 255}, {90, 200, 90}, {200, 200, 200}};

torch::Tensor tinted(const Dataset& data) {
  const torch::Tensor padded = torch::constant_pad_nd(data.pixels.to(torch::kInt64), {2, 2, 2, 2}, 0);
  std::vector<torch::Tensor> images;
  for (std::int64_t i = 0; i < data.size(); ++i) {
    const auto* tint = kTints[data.labels[i].item<std::int64_t>()];
    const torch::Tensor colour = torch::tensor({tint[0], tint[1], tint[2]}, torch::kInt64).view({3, 1, 1});
    images.push_back((padded[i] * colour + 127).div(255, "floor"));
  }
  return torch::stack(images).to(torch::kUInt8);
}

// 64-bit FNV-1a, as documented for the held-out split.
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) hash = (hash ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return hash;
}

// The images of each class whose relative paths hash lowest are the test split: round(n × fraction).
std::pair<std::vector<std::int64_t>, std::vector<std::int64_t>> documented_split(const Dataset& data, double fraction) {
  std::vector<std::int64_t> train;
  std::vector<std::int64_t> test;
  for (std::int64_t label = 0; label < 10; ++label) {
    std::vector<std::pair<std::uint64_t, std::int64_t>> ranked;
    for (std::int64_t i = 0; i < data.size(); ++i) {
      if (data.labels[i].item<std::int64_t>() == label) ranked.emplace_back(fnv1a(std::to_string(label) + "/" + five_digits(i) + ".png"), i);
    }
    std::sort(ranked.begin(), ranked.end());
    const auto held = static_cast<std::size_t>(std::llround(static_cast<double>(ranked.size()) * fraction));
    std::vector<std::int64_t> in_test;
    std::vector<std::int64_t> in_train;
    for (std::size_t k = 0; k < ranked.size(); ++k) {
      if (k < held) {
        in_test.push_back(ranked[k].second);
      } else {
        in_train.push_back(ranked[k].second);
      }
    }
    std::sort(in_test.begin(), in_test.end());
    std::sort(in_train.begin(), in_train.end());
    test.insert(test.end(), in_test.begin(), in_test.end());
    train.insert(train.end(), in_train.begin(), in_train.end());
  }
  return {train, test};
}

// Writes the tinted digits into DIR/<class>/, first to last or last to first.
void write_colour_folder(const fs::path& dir, const Dataset& data, const torch::Tensor& colour, bool reversed) {
  for (std::int64_t k = 0; k < data.size(); ++k) {
    const std::int64_t i = reversed ? data.size() - 1 - k : k;
    write_image(dir / std::to_string(data.labels[i].item<std::int64_t>()) / (five_digits(i) + ".png"), colour[i]);
  }
}

TEST(ImageFolder, HeldOutSplitIsTheDocumentedOneWhateverTheFileOrder) {
  const Dataset digits = sample_digits().train;
  const torch::Tensor colour = tinted(digits);
  ScratchDir dir;
  write_colour_folder(dir.path() / "forward", digits, colour, false);
  write_colour_folder(dir.path() / "backward", digits, colour, true);
  DataOptions options;
  options.test_fraction = 0.25;
  const DataSplits forward = load_data((dir.path() / "forward").string(), options);
  EXPECT_EQ(forward.class_names, kDigitNames);
  ASSERT_EQ(forward.train.pixels.sizes(), (std::vector<std::int64_t>{forward.train.size(), 3, 32, 32}))
      << "own channels: 3, as some images have colour";
  const auto [train_rows, test_rows] = documented_split(digits, 0.25);
  const torch::Tensor train_index = torch::tensor(train_rows, torch::kInt64);
  const torch::Tensor test_index = torch::tensor(test_rows, torch::kInt64);
  expect_same(forward.train, {colour.index_select(0, train_index), digits.labels.index_select(0, train_index)});
  expect_same(forward.test, {colour.index_select(0, test_index), digits.labels.index_select(0, test_index)});
  const DataSplits backward = load_data((dir.path() / "backward").string(), options);
  expect_same(backward.test, forward.test);
  expect_same(backward.train, forward.train);
}

// RGB -> grey by BT.601 luma in integers: (299 R + 587 G + 114 B + 500) / 1000.
TEST(ImageFolder, ColourBecomesGreyByLuma) {
  const Dataset digits = sample_digits().train.head(40);
  const torch::Tensor colour = tinted(digits);
  ScratchDir dir;
  write_colour_folder(dir.path(), digits, colour, false);
  DataOptions options;
  options.channels = 1;
  const Dataset grey = load_split(dir.path().string(), Split::kTrain, options);
  const Dataset rgb = load_split(dir.path().string(), Split::kTrain, DataOptions{});
  ASSERT_EQ(grey.pixels.size(1), 1);
  const torch::Tensor planes = rgb.pixels.to(torch::kInt64);
  const torch::Tensor luma = (299 * planes.select(1, 0) + 587 * planes.select(1, 1) + 114 * planes.select(1, 2) + 500)
                                 .div(1000, "floor");
  EXPECT_TRUE(torch::equal(grey.pixels.squeeze(1).to(torch::kInt64), luma));
}

TEST(ImageFolder, ImagesWithoutClassFoldersAreUnlabelled) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  for (std::int64_t i = 0; i < 30; ++i) write_image(dir.path() / "split" / "train" / (five_digits(i) + ".png"), digits.train.pixels[i]);
  for (std::int64_t i = 0; i < 10; ++i) write_image(dir.path() / "split" / "test" / (five_digits(i) + ".png"), digits.test.pixels[i]);
  const DataSplits split = load_data((dir.path() / "split").string());
  EXPECT_TRUE(split.class_names.empty());
  EXPECT_EQ(split.train.labels.abs().sum().item<std::int64_t>(), 0);
  EXPECT_TRUE(torch::equal(split.train.pixels, digits.train.pixels.slice(0, 0, 30)));
  EXPECT_TRUE(torch::equal(split.test.pixels, digits.test.pixels.slice(0, 0, 10)));
  for (std::int64_t i = 0; i < 30; ++i) write_image(dir.path() / "flat" / (five_digits(i) + ".png"), digits.train.pixels[i]);
  const DataSplits flat = load_data((dir.path() / "flat").string());
  EXPECT_TRUE(flat.class_names.empty());
  EXPECT_EQ(flat.test.size(), 5) << "round(30 / 6)";
  EXPECT_EQ(flat.train.size(), 25);
}

TEST(ImageFolder, OneSplitOrSomeImagesOfIt) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  const std::string root = write_split_tree(dir.path(), digits, ".png").string();
  const Dataset expected = in_folder_order(digits.test);
  expect_same(load_split(root, Split::kTest, DataOptions{}), expected);
  const SplitSample sample = load_split_sample(root, Split::kTest, {4, 2, 500}, DataOptions{});
  EXPECT_EQ(sample.split_size, kTestDigits);
  ASSERT_EQ(sample.images.size(), 2);
  EXPECT_TRUE(torch::equal(sample.images.pixels[0], expected.pixels[4]));
  EXPECT_TRUE(torch::equal(sample.images.pixels[1], expected.pixels[2]));
  EXPECT_EQ(sample.images.labels[0].item<std::int64_t>(), expected.labels[4].item<std::int64_t>());
  EXPECT_EQ(dataset_name(root + "/"), dir.path().filename().string());
}

TEST(ImageFolder, FilesThatAreNotImagesArePassedOverAndCounted) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  const std::string root = write_split_tree(dir.path(), digits, ".png").string();
  std::ofstream(dir.path() / "train" / "3" / "README.txt") << "digits\n";
  std::ofstream(dir.path() / "test" / "labels.csv") << "1,2\n";
  std::ofstream(dir.path() / "notes.md") << "root files are not read\n";
  fs::copy_file(dir.path() / "train" / "3" / first_file_of(digits.train, 3), dir.path() / "train" / "3" / "UPPER.PNG");
  // What tools leave beside images: hidden, never decoded, and no class.
  std::ofstream(dir.path() / "train" / "3" / ".DS_Store") << "finder\n";
  std::ofstream(dir.path() / "train" / "3" / "._00007.png") << "a resource fork, not a PNG\n";
  write_image(dir.path() / "train" / ".ipynb_checkpoints" / "00000.png", digits.train.pixels[0]);
  const DataSplits splits = load_data(root);
  EXPECT_EQ(splits.ignored_files, 4);
  EXPECT_EQ(splits.class_names, kDigitNames);
  EXPECT_EQ(splits.train.size(), kTrainDigits + 1) << "extensions in any case are images";
  expect_same(splits.test, in_folder_order(digits.test));
}

// Netpbm written by hand: "P5" (grey) or "P6" (RGB), width, height, maxval 255, then the bytes.
void write_netpbm(const fs::path& path, const torch::Tensor& chw) {
  const torch::Tensor hwc = chw.permute({1, 2, 0}).contiguous();
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << (chw.size(0) == 1 ? "P5" : "P6") << "\n" << chw.size(2) << " " << chw.size(1) << "\n255\n";
  out.write(reinterpret_cast<const char*>(hwc.data_ptr<std::uint8_t>()), hwc.numel());
  ASSERT_TRUE(out.good()) << path;
}

// BMP (through stb_image_write), PGM and PPM hold the same digits as PNG does.
TEST(ImageFolder, BmpPgmAndPpmReadAsPngDoes) {
  const Dataset digits = sample_digits().train.head(20);
  ScratchDir dir;
  for (std::int64_t i = 0; i < digits.size(); ++i) {
    const fs::path stem = dir.path() / "mixed" / std::to_string(digits.labels[i].item<std::int64_t>()) / five_digits(i);
    if (i % 3 == 0) write_image(stem.string() + ".bmp", digits.pixels[i]);
    if (i % 3 == 1) write_netpbm(stem.string() + ".pgm", digits.pixels[i]);
    if (i % 3 == 2) write_netpbm(stem.string() + ".ppm", digits.pixels[i].expand({3, 28, 28}));
  }
  DataOptions options;
  options.channels = 1;
  options.test_fraction = 0.5;
  const DataSplits splits = load_data((dir.path() / "mixed").string(), options);
  EXPECT_EQ(splits.train.size() + splits.test.size(), 20);
  DataOptions own_colour = options;
  own_colour.channels = 0;
  EXPECT_EQ(load_data((dir.path() / "mixed").string(), own_colour).train.pixels.size(1), 3) << "a PPM is colour";
  // Every image loaded is one of the digits, byte for byte (luma of equal R, G and B is the grey).
  const torch::Tensor all = torch::cat({splits.train.pixels, splits.test.pixels}).view({20, -1});
  for (std::int64_t i = 0; i < 20; ++i) {
    const torch::Tensor same = all.eq(digits.pixels[i].view({1, -1})).all(1);
    EXPECT_TRUE(same.any().item<bool>()) << "digit " << i << " is missing";
  }
}

TEST(ImageFolder, OptionsOutOfBoundsAreRefusedByField) {
  DataOptions options;
  options.channels = 2;
  expect_throw_with<OptionError>([&] { load_data(testing::mnist_sample_dir(), options); }, {"channels must be 0, 1 or 3", "got 2"});
  options = DataOptions{};
  options.test_fraction = 1;
  expect_throw_with<OptionError>([&] { load_data(testing::mnist_sample_dir(), options); }, {"test_fraction must be above 0 and below 1, got 1"});
  options = DataOptions{};
  options.image_size = -1;
  expect_throw_with<OptionError>([&] { load_data(testing::mnist_sample_dir(), options); }, {"image_size must be between 0 and 16384"});
}

TEST(ImageFolderErrors, UndecodableFilesAreNamed) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  write_split_tree(dir.path(), digits, ".png");
  const fs::path junk = dir.path() / "train" / "7" / "junk.png";
  testing::write_bytes(junk.string(), {'n', 'o', 't', ' ', 'a', ' ', 'p', 'n', 'g'});
  expect_throw_with<DataError>([&] { load_data(dir.path().string()); }, {junk.string() + ": cannot be read as an image"});
  fs::remove(junk);
  // Two bad files read on two threads, each half of the files to one: the one first in the
  // folder's order is named every time, though the other thread meets its bad file sooner.
  // Files are listed train then test, by class and name; the halves meet at file 101 of 202.
  std::int64_t last_in_first_half = -1;
  std::int64_t label = 0;
  for (std::int64_t seen = 0; label < 10; ++label) {
    seen += (digits.train.labels == label).sum().item<std::int64_t>();
    if (seen + 1 > 101) break;
    last_in_first_half = label;
  }
  ASSERT_GE(last_in_first_half, 0);
  const fs::path early = dir.path() / "train" / std::to_string(last_in_first_half) / "zz.png";
  const fs::path late = dir.path() / "test" / "0" / "-first-of-test.png";  // '-' sorts before digits
  testing::write_bytes(early.string(), {'n', 'o', 'p', 'e'});
  testing::write_bytes(late.string(), {'n', 'o', 'p', 'e'});
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  for (int run = 0; run < 5; ++run) {
    expect_throw_with<DataError>([&] { load_data(dir.path().string()); }, {early.string() + ": cannot be read"});
  }
  at::set_num_threads(threads);
  fs::remove(early);
  fs::remove(late);
  // A whole header over half the data: read, then refused when decoded.
  const fs::path cut = dir.path() / "test" / "1" / "cut.png";
  fs::copy_file(dir.path() / "test" / "1" / first_file_of(digits.test, 1), cut);
  fs::resize_file(cut, fs::file_size(cut) / 2);
  expect_throw_with<DataError>([&] { load_data(dir.path().string()); }, {cut.string() + ": cannot be decoded"});
}

TEST(ImageFolderErrors, FoldersWithoutImagesAreNamed) {
  ScratchDir dir;
  fs::create_directories(dir.path() / "empty");
  std::ofstream(dir.path() / "empty" / "notes.txt") << "no images\n";
  expect_throw_with<DataError>([&] { load_data((dir.path() / "empty").string()); },
                               {(dir.path() / "empty").string() + ": holds no data (expected the four MNIST IDX files"});
  fs::create_directories(dir.path() / "split" / "train" / "a");
  fs::create_directories(dir.path() / "split" / "test");
  expect_throw_with<DataError>([&] { load_data((dir.path() / "split").string()); },
                               {(dir.path() / "split" / "train" / "a").string() + ": holds no images"});
  const DataSplits digits = sample_digits();
  write_split_tree(dir.path() / "tree", digits, ".png");
  fs::create_directories(dir.path() / "tree" / "train" / "nothing");
  expect_throw_with<DataError>([&] { load_data((dir.path() / "tree").string()); },
                               {(dir.path() / "tree" / "train" / "nothing").string() + ": holds no images"});
}

TEST(ImageFolderErrors, ATestClassTheTrainingSplitLacksIsNamed) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  write_split_tree(dir.path(), digits, ".png");
  write_image(dir.path() / "test" / "cat" / "00000.png", digits.test.pixels[0]);
  expect_throw_with<DataError>([&] { load_data(dir.path().string()); },
                               {(dir.path() / "test" / "cat").string() + ": a class the training split lacks"});
}

TEST(ImageFolderErrors, ImagesOfDifferentSizesNameTwoFilesUnlessResized) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  write_split_tree(dir.path(), digits, ".png");
  const fs::path odd = dir.path() / "train" / "5" / "wide.png";
  write_image(odd, torch::zeros({1, 28, 30}, torch::kUInt8));
  const std::string first = (dir.path() / "train" / "0" / first_file_of(digits.train, 0)).string();
  expect_throw_with<DataError>([&] { load_data(dir.path().string()); },
                               {odd.string() + ": is 30x28 pixels, but " + first + " is 28x28", "image_size"});
  DataOptions options;
  options.image_size = 28;
  const DataSplits splits = load_data(dir.path().string(), options);
  EXPECT_EQ(splits.resized, 1);
  EXPECT_EQ(splits.train.size(), kTrainDigits + 1);
}

void append_big_endian(std::vector<std::uint8_t>& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(value >> shift));
}

// A PNG signature and IHDR chunk (grey, 8 bits) declaring width × height, and no pixel data.
std::vector<std::uint8_t> png_header(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
  append_big_endian(png, width);
  append_big_endian(png, height);
  for (const std::uint8_t byte : {8, 0, 0, 0, 0}) png.push_back(byte);
  // The CRC covers the chunk's type and data: the 17 bytes after the length.
  append_big_endian(png, static_cast<std::uint32_t>(crc32(0, png.data() + 12, 17)));
  return png;
}

// A BMP file and info header (24 bits a pixel) declaring width × height, and no pixel data.
std::vector<std::uint8_t> bmp_header(std::uint32_t width, std::uint32_t height) {
  std::vector<std::uint8_t> bmp(54, 0);
  const auto put = [&](std::size_t at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) bmp[at + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(value >> (8 * i));
  };
  bmp[0] = 'B';
  bmp[1] = 'M';
  put(2, 54);
  put(10, 54);
  put(14, 40);
  put(18, width);
  put(22, height);
  bmp[26] = 1;
  bmp[28] = 24;
  return bmp;
}

// Headers that would decode to gigabytes are refused from the header alone: a decoder that got as
// far as the (absent) pixels would say "cannot be decoded" instead.
TEST(ImageFolderErrors, DecompressionBombsAreRefusedFromTheirHeaders) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  write_split_tree(dir.path(), digits, ".png");
  DataOptions options;
  options.image_size = 28;  // past max_image_side, so only the bomb limits stand in the way
  const struct {
    const char* name;
    std::vector<std::uint8_t> bytes;
    const char* size;
  } bombs[] = {{"wide.png", png_header(20000, 8), "20000x8"},
               {"square.png", png_header(9000, 9000), "9000x9000"},
               {"square.bmp", bmp_header(9000, 9000), "9000x9000"}};
  for (const auto& bomb : bombs) {
    const fs::path path = dir.path() / "train" / "4" / bomb.name;
    testing::write_bytes(path.string(), bomb.bytes);
    expect_throw_with<DataError>([&] { load_data(dir.path().string(), options); },
                                 {path.string() + ": its header declares " + bomb.size + " pixels", "refused undecoded"});
    fs::remove(path);
  }
  // Below the bomb limits but above max_image_side: refused too, unless resized.
  const fs::path large = dir.path() / "train" / "4" / "large.png";
  write_image(large, torch::zeros({1, 300, 300}, torch::kUInt8));
  expect_throw_with<DataError>([&] { load_data(dir.path().string()); },
                               {large.string() + ": is 300x300 pixels, larger than 256 a side", "give an image size"});
  EXPECT_EQ(load_data(dir.path().string(), options).resized, 1);
}

// Links back to a folder already searched end the search there; a link to another class is not
// read as this class; a link that loops on itself is named.
TEST(ImageFolderErrors, SymbolicLinkLoopsEnd) {
  const DataSplits digits = sample_digits();
  ScratchDir dir;
  write_split_tree(dir.path(), digits, ".png");
  fs::create_directory_symlink(".", dir.path() / "train" / "3" / "again");
  fs::create_directory_symlink("../..", dir.path() / "train" / "3" / "up");
  fs::create_directory_symlink("../4", dir.path() / "train" / "3" / "four");
  fs::create_directory_symlink(dir.path() / "train", dir.path() / "test" / "2" / "train");
  const DataSplits splits = load_data(dir.path().string());
  expect_same(splits.train, in_folder_order(digits.train));
  expect_same(splits.test, in_folder_order(digits.test));
  fs::create_symlink("self", dir.path() / "train" / "self");
  expect_throw_with<DataError>([&] { load_data(dir.path().string()); },
                               {(dir.path() / "train" / "self").string() + ": a loop of symbolic links"});
}

}  // namespace
}  // namespace vae_cnn
