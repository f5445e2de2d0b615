// NumPy archives written by NumPy itself (np.savez_compressed as Keras' mnist.npz, np.savez), read
// back as the same digits the IDX files hold, and the archives that must be refused.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;
using testing::expect_throw_with;

constexpr std::int64_t kTrainDigits = 150;
constexpr std::int64_t kTestDigits = 50;

DataSplits sample_digits() { return testing::sample_digits(kTrainDigits, kTestDigits); }

void write_raw(const fs::path& path, const torch::Tensor& values) {
  const torch::Tensor bytes = values.to(torch::kUInt8).contiguous();
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data_ptr<std::uint8_t>()), bytes.numel());
}

// NumPy writes every archive; the hostile ones are edited with zipfile the way a forger would.
constexpr const char* kMakeArchives = R"(import io, sys, zipfile
import numpy as np
d = sys.argv[1]
xtr = np.fromfile(d + '/xtr.raw', np.uint8).reshape(-1, 28, 28)
ytr = np.fromfile(d + '/ytr.raw', np.uint8)
xte = np.fromfile(d + '/xte.raw', np.uint8).reshape(-1, 28, 28)
yte = np.fromfile(d + '/yte.raw', np.uint8)
np.savez_compressed(d + '/mnist.npz', x_train=xtr, y_train=ytr, x_test=xte, y_test=yte)
np.savez(d + '/stored.npz', x_train=xtr, y_train=ytr.astype('>i8'), x_test=xte, y_test=yte.astype(np.int16).reshape(-1, 1))
np.savez(d + '/unlabelled.npz', x_train=xtr, x_test=xte)
def rgb(x):
    return np.stack([x, 255 - x, x // 2], axis=-1)
np.savez(d + '/colour.npz', x_train=rgb(xtr), y_train=ytr, x_test=rgb(xte), y_test=yte)
np.savez(d + '/object.npz', x_train=np.array([None], dtype=object), y_train=ytr, x_test=xte, y_test=yte)
np.savez(d + '/fortran.npz', x_train=np.asfortranarray(xtr), y_train=ytr, x_test=xte, y_test=yte)
np.savez(d + '/float.npz', x_train=xtr.astype(np.float32), y_train=ytr, x_test=xte, y_test=yte)
np.savez(d + '/wide.npz', x_train=xtr.astype(np.int32) * 2, y_train=ytr, x_test=xte, y_test=yte)
np.savez(d + '/fewer_labels.npz', x_train=xtr, y_train=ytr[:-1], x_test=xte, y_test=yte)
np.savez(d + '/other_size.npz', x_train=xtr, y_train=ytr, x_test=xte[:, :20, :20], y_test=yte)
np.savez(d + '/half_labelled.npz', x_train=xtr, y_train=ytr, x_test=xte)
# A .npy header of our own: the forgeries declare shapes their data does not have.
def forged(shape, data):
    h = "{'descr': '|u1', 'fortran_order': False, 'shape': %s, }" % shape
    h += ' ' * ((64 - (10 + len(h) + 1) % 64) % 64) + '\n'
    return b'\x93NUMPY\x01\x00' + len(h).to_bytes(2, 'little') + h.encode('latin1') + data
def forged_archive(name, x_train):
    with zipfile.ZipFile(d + '/' + name, 'w', zipfile.ZIP_DEFLATED) as z:
        z.writestr('x_train.npy', x_train)
        for key, value in (('y_train', ytr[:10]), ('x_test', xte), ('y_test', yte)):
            b = io.BytesIO()
            np.save(b, value)
            z.writestr(key + '.npy', b.getvalue())
forged_archive('truncated.npz', forged('(99, 28, 28)', xtr[:10].tobytes()))
forged_archive('overflow.npz', forged('(4294967296, 4294967296, 28)', xtr[:10].tobytes()))
forged_archive('huge_shape.npz', forged('(99999999999999999999, 28, 28)', xtr[:10].tobytes()))
)";

bool numpy_available() { return std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") == 0; }

// The archives, made once per build of the test binary.
std::string archives() {
  return testing::made_once(fs::path(VAE_CNN_TEST_CACHE) / ("npz_archives-" + testing::build_stamp()),
                            [](const fs::path& scratch) {
    const DataSplits digits = sample_digits();
    write_raw(scratch / "xtr.raw", digits.train.pixels);
    write_raw(scratch / "ytr.raw", digits.train.labels);
    write_raw(scratch / "xte.raw", digits.test.pixels);
    write_raw(scratch / "yte.raw", digits.test.labels);
    std::ofstream(scratch / "make.py") << kMakeArchives;
    const std::string command = "/usr/bin/python3 " + (scratch / "make.py").string() + " " + scratch.string();
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
  });
}

#define SKIP_WITHOUT_NUMPY() \
  if (!numpy_available()) GTEST_SKIP() << "/usr/bin/python3 has no numpy to write the archives"

TEST(NpzArchive, KerasStyleArchiveHoldsTheIdxDigits) {
  SKIP_WITHOUT_NUMPY();
  const DataSplits digits = sample_digits();
  const DataSplits splits = load_data(archives() + "/mnist.npz");
  EXPECT_EQ(splits.name, "mnist");
  EXPECT_EQ(splits.form, "NumPy archive");
  EXPECT_EQ(splits.class_names, (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}));
  EXPECT_EQ(splits.train.pixels.sizes(), (std::vector<std::int64_t>{kTrainDigits, 1, 28, 28}));
  EXPECT_EQ(splits.train.pixels.dtype(), torch::kUInt8);
  EXPECT_TRUE(torch::equal(splits.train.pixels, digits.train.pixels));
  EXPECT_TRUE(torch::equal(splits.train.labels, digits.train.labels));
  EXPECT_TRUE(torch::equal(splits.test.pixels, digits.test.pixels));
  EXPECT_TRUE(torch::equal(splits.test.labels, digits.test.labels));
  EXPECT_EQ(splits.resized, 0);
}

// np.savez stores its entries uncompressed; labels may be any integer type, [N] or [N,1], either
// byte order; x any integer type holding bytes.
TEST(NpzArchive, StoredEntriesWideLabelsAndWideImagesRead) {
  SKIP_WITHOUT_NUMPY();
  const DataSplits digits = sample_digits();
  const DataSplits stored = load_data(archives() + "/stored.npz");
  EXPECT_TRUE(torch::equal(stored.train.pixels, digits.train.pixels));
  EXPECT_TRUE(torch::equal(stored.train.labels, digits.train.labels));
  EXPECT_TRUE(torch::equal(stored.test.labels, digits.test.labels));
  expect_throw_with<DataError>([&] { load_data(archives() + "/wide.npz"); },
                               {archives() + "/wide.npz: x_train.npy: value ", "is outside 0..255"});
  const DataSplits unlabelled = load_data(archives() + "/unlabelled.npz");
  EXPECT_TRUE(unlabelled.class_names.empty());
  EXPECT_EQ(unlabelled.train.labels.max().item<std::int64_t>(), 0);
}

TEST(NpzArchive, ColourImagesKeepTheirChannelsOrBecomeGrey) {
  SKIP_WITHOUT_NUMPY();
  const DataSplits digits = sample_digits();
  const std::string path = archives() + "/colour.npz";
  const DataSplits colour = load_data(path);
  ASSERT_EQ(colour.train.pixels.sizes(), (std::vector<std::int64_t>{kTrainDigits, 3, 28, 28}));
  const torch::Tensor grey = digits.train.pixels.squeeze(1).to(torch::kInt64);
  EXPECT_TRUE(torch::equal(colour.train.pixels.select(1, 0).to(torch::kInt64), grey));
  EXPECT_TRUE(torch::equal(colour.train.pixels.select(1, 1).to(torch::kInt64), 255 - grey));
  EXPECT_TRUE(torch::equal(colour.train.pixels.select(1, 2).to(torch::kInt64), grey.div(2, "floor")));
  DataOptions to_grey;
  to_grey.channels = 1;
  const DataSplits luma = load_data(path, to_grey);
  ASSERT_EQ(luma.train.pixels.sizes(), (std::vector<std::int64_t>{kTrainDigits, 1, 28, 28}));
  // BT.601 luma in integers, rounded: (299 R + 587 G + 114 B + 500) / 1000.
  const torch::Tensor expected = (299 * grey + 587 * (255 - grey) + 114 * grey.div(2, "floor") + 500).div(1000, "floor");
  EXPECT_TRUE(torch::equal(luma.train.pixels.squeeze(1).to(torch::kInt64), expected));
}

TEST(NpzArchive, OneSplitOrSomeImagesOfIt) {
  SKIP_WITHOUT_NUMPY();
  const DataSplits digits = sample_digits();
  const std::string path = archives() + "/mnist.npz";
  const Dataset test = load_split(path, Split::kTest, DataOptions{});
  EXPECT_TRUE(torch::equal(test.pixels, digits.test.pixels));
  const SplitSample sample = load_split_sample(path, Split::kTest, {7, 3, 1000}, DataOptions{});
  EXPECT_EQ(sample.split_size, kTestDigits);
  ASSERT_EQ(sample.images.size(), 2);
  EXPECT_TRUE(torch::equal(sample.images.pixels[0], digits.test.pixels[7]));
  EXPECT_TRUE(torch::equal(sample.images.pixels[1], digits.test.pixels[3]));
  EXPECT_EQ(sample.images.labels[1].item<std::int64_t>(), digits.test.labels[3].item<std::int64_t>());
  EXPECT_EQ(dataset_name("x/mnist.npz"), "mnist");
  EXPECT_EQ(dataset_name("data/cifar10.NPZ"), "cifar10");
}

TEST(NpzArchive, ObjectArraysAreRefusedNeverUnpickled) {
  SKIP_WITHOUT_NUMPY();
  const std::string path = archives() + "/object.npz";
  expect_throw_with<DataError>([&] { load_data(path); },
                               {path + ": x_train.npy: an object array ('|O')", "never unpickled"});
}

TEST(NpzArchive, RefusesWhatIsNotRowMajorBytes) {
  SKIP_WITHOUT_NUMPY();
  const std::string dir = archives();
  expect_throw_with<DataError>([&] { load_data(dir + "/fortran.npz"); },
                               {dir + "/fortran.npz: x_train.npy: fortran_order is True, expected False"});
  expect_throw_with<DataError>([&] { load_data(dir + "/float.npz"); },
                               {dir + "/float.npz: x_train.npy: type '<f4', expected an integer type"});
}

TEST(NpzArchive, RefusesShapesThatDisagreeOverflowOrOutgrowTheEntry) {
  SKIP_WITHOUT_NUMPY();
  const std::string dir = archives();
  expect_throw_with<DataError>([&] { load_data(dir + "/truncated.npz"); },
                               {dir + "/truncated.npz: x_train.npy: its shape declares 77616 bytes of values, "
                                      "the entry holds 7840"});
  expect_throw_with<DataError>([&] { load_data(dir + "/overflow.npz"); },
                               {"x_train.npy: its 'shape' overflows 64 bits"});
  expect_throw_with<DataError>([&] { load_data(dir + "/huge_shape.npz"); },
                               {"x_train.npy: a 'shape' size overflows 64 bits"});
  expect_throw_with<DataError>([&] { load_data(dir + "/fewer_labels.npz"); },
                               {dir + "/fewer_labels.npz: y_train.npy: shape (149), expected (150,) or (150, 1)"});
  expect_throw_with<DataError>([&] { load_data(dir + "/other_size.npz"); },
                               {"x_test.npy: images are 20x20x1 (HxWxC), x_train's are 28x28x1"});
  expect_throw_with<DataError>([&] { load_data(dir + "/half_labelled.npz"); },
                               {"y_test.npy: missing, but its other split's labels are there"});
}

TEST(NpzArchive, RefusesWhatIsNotAnArchive) {
  testing::ScratchDir dir;
  testing::write_bytes(dir.file("junk.npz"), {1, 2, 3, 4});
  expect_throw_with<DataError>([&] { load_data(dir.file("junk.npz")); },
                               {dir.file("junk.npz") + ": not a readable zip archive"});
  expect_throw_with<DataError>([&] { load_data(dir.file("absent.npz")); }, {dir.file("absent.npz"), "no such file"});
}

}  // namespace
}  // namespace vae_cnn
