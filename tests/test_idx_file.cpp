// The IDX reader and writer: round trips, and a refusal with a clear message for each fault.
#include "vae_cnn/data/idx_file.hpp"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <numeric>

#include "test_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/regular_file.hpp"

namespace vae_cnn {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;
using testing::write_bytes;

IdxArray some_images(std::uint32_t count) {
  IdxArray array{{count, 28, 28}, std::vector<std::uint8_t>(count * 784)};
  for (std::size_t i = 0; i < array.values.size(); ++i) array.values[i] = static_cast<std::uint8_t>(i * 7 % 256);
  return array;
}

IdxArray some_labels(std::uint32_t count) {
  IdxArray array{{count}, std::vector<std::uint8_t>(count)};
  for (std::uint32_t i = 0; i < count; ++i) array.values[i] = static_cast<std::uint8_t>(i % 10);
  return array;
}

std::vector<std::uint8_t> header(std::uint32_t magic, std::vector<std::uint32_t> dims) {
  std::vector<std::uint8_t> bytes;
  auto push = [&](std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) bytes.push_back(static_cast<std::uint8_t>(v >> s));
  };
  push(magic);
  for (auto d : dims) push(d);
  return bytes;
}

TEST(IdxFile, RoundTripsRawAndGzip) {
  ScratchDir dir;
  for (const auto compression : {IdxCompression::kNone, IdxCompression::kGzip}) {
    const std::string suffix = compression == IdxCompression::kGzip ? ".gz" : "";
    const IdxArray images = some_images(5);
    const IdxArray labels = some_labels(5);
    write_idx(dir.file("img" + suffix), images, compression);
    write_idx(dir.file("lab" + suffix), labels, compression);

    const IdxImages read_images = read_idx_images(dir.file("img" + suffix));
    EXPECT_EQ(read_images.count, 5u);
    EXPECT_EQ(read_images.rows, 28u);
    EXPECT_EQ(read_images.cols, 28u);
    EXPECT_EQ(read_images.pixels, images.values);
    EXPECT_EQ(read_idx_labels(dir.file("lab" + suffix)), labels.values);
  }
}

TEST(IdxFile, GzipOutputIsRealGzipAndSmaller) {
  const IdxArray images{{3, 28, 28}, std::vector<std::uint8_t>(3 * 784, 0)};
  const auto gz = encode_idx(images, IdxCompression::kGzip);
  ASSERT_GE(gz.size(), 2u);
  EXPECT_EQ(gz[0], 0x1f);
  EXPECT_EQ(gz[1], 0x8b);
  EXPECT_LT(gz.size(), encode_idx(images, IdxCompression::kNone).size());
}

TEST(IdxFile, RawEncodingHasTheStandardHeader) {
  const auto bytes = encode_idx(some_labels(3), IdxCompression::kNone);
  const std::vector<std::uint8_t> expected{0, 0, 8, 1, 0, 0, 0, 3, 0, 1, 2};
  EXPECT_EQ(bytes, expected);
}

TEST(IdxFile, RejectsMissingFile) {
  ScratchDir dir;
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("nope")); }, {dir.file("nope"), "no such file"});
}

TEST(IdxFile, RejectsDirectory) {
  ScratchDir dir;
  expect_throw_with<DataError>([&] { read_idx_labels(dir.path().string()); }, {dir.path().string(), "is a folder, expected an IDX file"});
}

TEST(IdxFile, RejectsEmptyFile) {
  ScratchDir dir;
  write_bytes(dir.file("empty"), {});
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("empty")); }, {dir.file("empty"), "empty file"});
}

TEST(IdxFile, RejectsTruncatedHeader) {
  ScratchDir dir;
  auto bytes = header(kIdxImagesMagic, {10, 28, 28});
  bytes.resize(9);
  write_bytes(dir.file("h"), bytes);
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("h")); }, {dir.file("h"), "truncated header"});
}

TEST(IdxFile, RejectsWrongMagicNamingBoth) {
  ScratchDir dir;
  write_idx(dir.file("labels"), some_labels(4), IdxCompression::kNone);
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("labels")); },
                               {dir.file("labels"), "bad magic 0x00000801", "expected 0x00000803"});
  write_bytes(dir.file("text"), {'h', 'e', 'l', 'l', 'o', '\n'});
  expect_throw_with<DataError>([&] { read_idx_labels(dir.file("text")); }, {"bad magic", "not an IDX file"});
}

TEST(IdxFile, RejectsZeroDimension) {
  ScratchDir dir;
  write_bytes(dir.file("zero"), header(kIdxImagesMagic, {0, 28, 28}));
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("zero")); }, {dir.file("zero"), "dimension 1 is 0"});
}

TEST(IdxFile, RejectsAbsurdDimensionsBeforeReading) {
  ScratchDir dir;
  write_bytes(dir.file("huge"), header(kIdxImagesMagic, {0xffffffffu, 28, 28}));
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("huge")); },
                               {dir.file("huge"), "4294967295x28x28", "limit"});
}

TEST(IdxFile, RejectsCountsBeyondTheFile) {
  ScratchDir dir;
  auto bytes = header(kIdxImagesMagic, {100, 28, 28});
  bytes.resize(bytes.size() + 3 * 784, 1);
  write_bytes(dir.file("short"), bytes);
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("short")); },
                               {dir.file("short"), "truncated", "promises 78400 bytes", "only 2352"});
}

TEST(IdxFile, RejectsTrailingData) {
  ScratchDir dir;
  auto bytes = encode_idx(some_labels(4), IdxCompression::kNone);
  bytes.push_back(3);
  write_bytes(dir.file("long"), bytes);
  expect_throw_with<DataError>([&] { read_idx_labels(dir.file("long")); }, {dir.file("long"), "continues past"});
}

TEST(IdxFile, RejectsImagesThatAreNot28x28) {
  ScratchDir dir;
  write_idx(dir.file("32"), IdxArray{{2, 32, 32}, std::vector<std::uint8_t>(2 * 32 * 32)}, IdxCompression::kNone);
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("32")); }, {dir.file("32"), "32x32", "expected 28x28"});
}

TEST(IdxFile, RejectsLabelOutsideDigits) {
  ScratchDir dir;
  write_idx(dir.file("lab"), IdxArray{{3}, {1, 12, 3}}, IdxCompression::kGzip);
  expect_throw_with<DataError>([&] { read_idx_labels(dir.file("lab")); },
                               {dir.file("lab"), "label 12 at index 1", "outside 0-9"});
}

TEST(IdxFile, RejectsCorruptGzip) {
  ScratchDir dir;
  auto gz = encode_idx(some_images(2), IdxCompression::kGzip);
  for (std::size_t i = 12; i < gz.size() - 8; i += 5) gz[i] ^= 0x5a;
  write_bytes(dir.file("bad.gz"), gz);
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("bad.gz")); }, {dir.file("bad.gz"), "gzip"});
}

TEST(IdxFile, RejectsTruncatedGzip) {
  ScratchDir dir;
  auto gz = encode_idx(some_images(50), IdxCompression::kGzip);
  gz.resize(gz.size() / 2);
  write_bytes(dir.file("cut.gz"), gz);
  expect_throw_with<DataError>([&] { read_idx_images(dir.file("cut.gz")); }, {dir.file("cut.gz"), "truncated"});
}

TEST(IdxFile, EncodeRefusesInconsistentArray) {
  EXPECT_THROW(encode_idx(IdxArray{{2, 3}, {1, 2, 3}}, IdxCompression::kNone), std::invalid_argument);
}

// Tests run as root, for whom no permission is ever denied: the words for EACCES are checked here,
// on the function that turns errno into words for every file the tool reads.
TEST(RegularFile, ErrnoBecomesWordsThatNameTheFault) {
  EXPECT_EQ(file_error_words(ENOENT), "no such file");
  EXPECT_EQ(file_error_words(EACCES), "permission denied");
  EXPECT_EQ(file_error_words(ELOOP), "a loop of symbolic links (or too many of them)");
  EXPECT_EQ(file_error_words(ENOTDIR), "a part of the path is not a folder");
  EXPECT_EQ(file_error_words(ENAMETOOLONG), "the name is too long");
}

// A FIFO would block the open (nobody writes it); a folder, a link loop and a missing file each get
// their own words, and a file larger than asked is refused before it is read.
TEST(RegularFile, OnlyARegularFileIsOpenedAndEachOtherThingIsNamed) {
  ScratchDir dir;
  ASSERT_EQ(::mkfifo(dir.file("fifo").c_str(), 0600), 0);
  std::filesystem::create_directories(dir.file("folder"));
  std::filesystem::create_symlink(dir.file("loop_b"), dir.file("loop_a"));
  std::filesystem::create_symlink(dir.file("loop_a"), dir.file("loop_b"));
  write_bytes(dir.file("file"), std::vector<std::uint8_t>(200, 'v'));
  const auto read = [&](const std::string& name, std::uint64_t limit = 1000) {
    return [&dir, name, limit] { read_regular_file(dir.file(name), "a font", limit); };
  };
  expect_throw_with<DataError>(read("fifo"), {dir.file("fifo") + ": is a FIFO, expected a font"});
  expect_throw_with<DataError>(read("folder"), {dir.file("folder") + ": is a folder, expected a font"});
  expect_throw_with<DataError>(read("loop_a"), {dir.file("loop_a") + ": a loop of symbolic links"});
  expect_throw_with<DataError>(read("missing"), {dir.file("missing") + ": no such file, expected a font"});
  expect_throw_with<DataError>(read("file", 100), {dir.file("file") + ": holds 200 bytes, more than the 100 that a font may hold"});
  EXPECT_EQ(read_regular_file(dir.file("file"), "a font", 200), std::string(200, 'v'));
  EXPECT_EQ(non_regular_kind(dir.file("fifo")), "a FIFO");
  EXPECT_EQ(non_regular_kind(dir.file("file")), "");
}

// zlib's gzread stops at bytes after the gzip stream without a word, which would accept a file
// with garbage appended. Further gzip members are data (gzip's own rule); anything else is refused.
TEST(IdxFile, RejectsDataAfterTheGzipStreamButReadsFurtherMembers) {
  ScratchDir dir;
  const auto labels = some_labels(20);
  auto gz = encode_idx(labels, IdxCompression::kGzip);
  auto garbage = gz;
  for (const char c : std::string("garbage")) garbage.push_back(static_cast<std::uint8_t>(c));
  write_bytes(dir.file("garbage.gz"), garbage);
  expect_throw_with<DataError>([&] { read_idx_labels(dir.file("garbage.gz")); },
                               {dir.file("garbage.gz"), "data after the end of the gzip stream (7"});
  // The same file as two gzip members, one after the other (what `cat a.gz b.gz` makes).
  const auto raw = encode_idx(labels, IdxCompression::kNone);
  const std::size_t half = raw.size() / 2;
  auto members = testing::gzip_member({raw.begin(), raw.begin() + static_cast<std::ptrdiff_t>(half)});
  const auto second = testing::gzip_member({raw.begin() + static_cast<std::ptrdiff_t>(half), raw.end()});
  members.insert(members.end(), second.begin(), second.end());
  write_bytes(dir.file("members.gz"), members);
  EXPECT_EQ(read_idx_labels(dir.file("members.gz")), labels.values);
}

// Streaming only some images: the same bytes as reading all, for indices in any order, and the
// whole file still checked (a truncated file is refused even when the images asked are in it).
TEST(IdxFile, ReadsOnlyTheImagesAskedAndChecksTheWholeFile) {
  ScratchDir dir;
  const IdxArray images = some_images(3000);  // 2.35 MB: the images asked lie in different chunks
  write_idx(dir.file("i.gz"), images, IdxCompression::kGzip);
  const IdxImages some = read_idx_images_at(dir.file("i.gz"), {2999, 0, 1337, 5000, 1337});
  EXPECT_EQ(some.count, 3000u);
  ASSERT_EQ(some.pixels.size(), 4u * 784);
  std::size_t k = 0;
  for (const std::size_t index : {2999, 0, 1337, 1337}) {
    EXPECT_TRUE(std::equal(some.pixels.begin() + static_cast<std::ptrdiff_t>(k * 784),
                           some.pixels.begin() + static_cast<std::ptrdiff_t>((k + 1) * 784),
                           images.values.begin() + static_cast<std::ptrdiff_t>(index * 784)))
        << "image " << index;
    ++k;
  }
  std::uint64_t count = 0;
  write_idx(dir.file("l"), some_labels(3000), IdxCompression::kNone);
  EXPECT_EQ(read_idx_labels_at(dir.file("l"), {13, 4000}, &count), std::vector<std::uint8_t>{3});
  EXPECT_EQ(count, 3000u);
  auto cut = encode_idx(images, IdxCompression::kNone);
  cut.resize(cut.size() - 1);
  write_bytes(dir.file("cut"), cut);
  expect_throw_with<DataError>([&] { read_idx_images_at(dir.file("cut"), {0}); }, {dir.file("cut"), "truncated"});
  write_idx(dir.file("bad_label"), IdxArray{{3}, {1, 12, 3}}, IdxCompression::kNone);
  expect_throw_with<DataError>([&] { read_idx_labels_at(dir.file("bad_label"), {0}); }, {"label 12 at index 1"});
}

}  // namespace
}  // namespace vae_cnn
