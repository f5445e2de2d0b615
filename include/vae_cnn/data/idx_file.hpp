// Strict reading and writing of IDX files (the MNIST format), raw or gzip, without LibTorch, so
// that the parser can be fuzzed and tested on its own.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

constexpr std::uint32_t kIdxImagesMagic = 0x00000803;  ///< unsigned bytes, 3 dimensions
constexpr std::uint32_t kIdxLabelsMagic = 0x00000801;  ///< unsigned bytes, 1 dimension
constexpr std::uint32_t kImageSide = 28;
constexpr std::uint8_t kNumClasses = 10;

/// An IDX array of unsigned bytes: dimensions and row-major values.
struct IdxArray {
  std::vector<std::uint32_t> dims;
  std::vector<std::uint8_t> values;
};

/// Grey-level images, count × rows × cols bytes (0 = black).
struct IdxImages {
  std::uint32_t count = 0;
  std::uint32_t rows = 0;
  std::uint32_t cols = 0;
  std::vector<std::uint8_t> pixels;
};

enum class IdxCompression { kNone, kGzip };

/// Reads an IDX file of unsigned bytes whose magic number must be `expected_magic`; gzip is
/// recognised by content (members one after another are read on; other bytes after the gzip
/// stream are refused). Throws DataError naming the file and the fault; the header's sizes are
/// checked against limits and against the data actually present before anything is allocated.
IdxArray read_idx(const std::string& path, std::uint32_t expected_magic);

/// Reads an IDX3 image file: 28×28 images, at least one.
IdxImages read_idx_images(const std::string& path);

/// Reads an IDX1 label file: digits 0–9, at least one.
std::vector<std::uint8_t> read_idx_labels(const std::string& path);

/// The images `indices` of an IDX3 image file, streamed: memory for those images only, however many
/// the file holds (a 1 MB gzip file can unpack to a gigabyte), while the whole file is checked as
/// read_idx_images checks it. `count` is the file's image count; `pixels` holds the images whose
/// index is below it, in the order asked.
IdxImages read_idx_images_at(const std::string& path, const std::vector<std::uint64_t>& indices);

/// The labels `indices` of an IDX1 label file, streamed and checked as read_idx_labels does; those
/// of indices below the file's count (stored in `count` when given), in the order asked.
std::vector<std::uint8_t> read_idx_labels_at(const std::string& path, const std::vector<std::uint64_t>& indices,
                                             std::uint64_t* count = nullptr);

/// The bytes of an IDX file holding `array` (big-endian header, then the values), optionally
/// gzip-compressed.
std::vector<std::uint8_t> encode_idx(const IdxArray& array, IdxCompression compression);

/// Writes `array` as an IDX file atomically; throws WriteError on failure.
void write_idx(const std::string& path, const IdxArray& array, IdxCompression compression);

}  // namespace vae_cnn
