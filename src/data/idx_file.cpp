// IDX parsing with every header field checked before it drives an allocation or a read.
#include "vae_cnn/data/idx_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"

namespace vae_cnn {
namespace {

// Fashion-MNIST's training images are 47 MB; anything past 1 GiB is a corrupt or hostile header.
constexpr std::uint64_t kMaxValues = std::uint64_t{1} << 30;
constexpr std::size_t kReadChunk = std::size_t{1} << 20;
constexpr std::uint8_t kUnsignedByteType = 0x08;

std::string hex32(std::uint32_t value) {
  char text[11];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

std::string describe_magic(std::uint32_t magic) {
  if (magic == kIdxImagesMagic) return "IDX images";
  if (magic == kIdxLabelsMagic) return "IDX labels";
  return "IDX";
}

std::string dims_text(const std::vector<std::uint32_t>& dims) {
  std::string text;
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? "x" : "") + std::to_string(dims[i]);
  return text;
}

// Reads raw and gzip files alike: zlib passes bytes through unchanged when there is no gzip header.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path) {
    std::error_code error;
    const auto status = std::filesystem::status(path, error);
    if (!std::filesystem::exists(status)) throw DataError(path, "no such file");
    if (std::filesystem::is_directory(status)) throw DataError(path, "is a directory, expected an IDX file");
    if (!std::filesystem::is_regular_file(status)) throw DataError(path, "not a regular file");
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) throw DataError(path, std::string("cannot open: ") + std::strerror(errno));
    gzbuffer(file_, 1 << 17);
  }
  ~ByteReader() { gzclose_r(file_); }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  /// Reads up to `size` bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* destination, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      const auto want = static_cast<unsigned>(std::min(size - total, kReadChunk));
      const int got = gzread(file_, destination + total, want);
      check_stream(got);
      if (got == 0) break;
      total += static_cast<std::size_t>(got);
    }
    return total;
  }

  bool compressed() { return gzdirect(file_) == 0; }

 private:
  void check_stream(int result) {
    int code = Z_OK;
    const char* message = gzerror(file_, &code);
    if (result >= 0 && code == Z_OK) return;
    if (code == Z_ERRNO) throw DataError(path_, std::string("cannot read: ") + std::strerror(errno));
    if (code == Z_BUF_ERROR) throw DataError(path_, "truncated gzip stream (unexpected end of file)");
    throw DataError(path_, std::string("corrupt gzip stream: ") + (message ? message : "unknown error"));
  }

  std::string path_;
  gzFile file_ = nullptr;
};

std::uint32_t big_endian32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

using DimsCheck = std::function<void(const std::vector<std::uint32_t>&)>;

IdxArray read_idx_checked(const std::string& path, std::uint32_t expected_magic, const DimsCheck& check_dims) {
  ByteReader reader(path);
  std::uint8_t word[4];
  const std::size_t magic_bytes = reader.read(word, 4);
  if (magic_bytes == 0) throw DataError(path, "empty file, expected an " + describe_magic(expected_magic) + " header");
  if (magic_bytes < 4) throw DataError(path, "truncated header: " + std::to_string(magic_bytes) + " of 4 magic bytes");
  const std::uint32_t magic = big_endian32(word);
  if (magic != expected_magic) {
    std::string hint;
    if ((magic >> 16) != 0) hint = ": not an IDX file";
    else if (((magic >> 8) & 0xff) != kUnsignedByteType) hint = ": only unsigned-byte IDX data (type 0x08) is supported";
    throw DataError(path, "bad magic " + hex32(magic) + ", expected " + hex32(expected_magic) + " (" +
                              describe_magic(expected_magic) + ")" + hint);
  }

  IdxArray array;
  const std::size_t num_dims = expected_magic & 0xff;
  for (std::size_t i = 0; i < num_dims; ++i) {
    const std::size_t got = reader.read(word, 4);
    if (got < 4) {
      throw DataError(path, "truncated header: it ends inside dimension " + std::to_string(i + 1) + " of " +
                                std::to_string(num_dims));
    }
    const std::uint32_t dim = big_endian32(word);
    if (dim == 0) throw DataError(path, "dimension " + std::to_string(i + 1) + " is 0, expected at least 1");
    array.dims.push_back(dim);
  }
  std::uint64_t num_values = 1;
  for (const std::uint32_t dim : array.dims) {
    num_values *= dim;  // each factor is below 2^32 and the running product below 2^30: no overflow
    if (num_values > kMaxValues) {
      throw DataError(path, "header dimensions " + dims_text(array.dims) + " promise more than the " +
                                std::to_string(kMaxValues) + "-byte limit");
    }
  }
  check_dims(array.dims);

  // Grow with the data actually present, so a header that lies about its size costs nothing.
  while (array.values.size() < num_values) {
    const std::size_t offset = array.values.size();
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(num_values - offset, kReadChunk));
    array.values.resize(offset + chunk);
    const std::size_t got = reader.read(array.values.data() + offset, chunk);
    if (got < chunk) {
      const std::string where = reader.compressed() ? "the decompressed data holds" : "the file holds";
      throw DataError(path, "truncated: header " + dims_text(array.dims) + " promises " +
                                std::to_string(num_values) + " bytes of data, " + where + " only " +
                                std::to_string(offset + got));
    }
  }
  std::uint8_t extra = 0;
  if (reader.read(&extra, 1) != 0) {
    throw DataError(path, "data continues past the " + std::to_string(num_values) + " bytes that header " +
                              dims_text(array.dims) + " promises");
  }
  return array;
}

void append_big_endian32(std::vector<std::uint8_t>& bytes, std::uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8) bytes.push_back(static_cast<std::uint8_t>(value >> shift));
}

std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& raw) {
  z_stream stream{};
  // windowBits 15 + 16 asks zlib for a gzip header and trailer rather than a zlib one.
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("zlib: deflateInit2 failed");
  }
  std::vector<std::uint8_t> out(deflateBound(&stream, raw.size()) + 32);
  stream.next_in = const_cast<Bytef*>(raw.data());
  stream.avail_in = static_cast<uInt>(raw.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("zlib: deflate did not finish");
  return out;
}

}  // namespace

IdxArray read_idx(const std::string& path, std::uint32_t expected_magic) {
  return read_idx_checked(path, expected_magic, [](const std::vector<std::uint32_t>&) {});
}

IdxImages read_idx_images(const std::string& path) {
  IdxArray array = read_idx_checked(path, kIdxImagesMagic, [&](const std::vector<std::uint32_t>& dims) {
    if (dims[1] != kImageSide || dims[2] != kImageSide) {
      throw DataError(path, "images are " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                                ", expected 28x28");
    }
  });
  IdxImages images;
  images.count = array.dims[0];
  images.rows = array.dims[1];
  images.cols = array.dims[2];
  images.pixels = std::move(array.values);
  return images;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path) {
  IdxArray array = read_idx(path, kIdxLabelsMagic);
  const auto bad = std::find_if(array.values.begin(), array.values.end(),
                                [](std::uint8_t label) { return label >= kNumClasses; });
  if (bad != array.values.end()) {
    throw DataError(path, "label " + std::to_string(*bad) + " at index " +
                              std::to_string(bad - array.values.begin()) + " is outside 0-9");
  }
  return std::move(array.values);
}

std::vector<std::uint8_t> encode_idx(const IdxArray& array, IdxCompression compression) {
  if (array.dims.empty() || array.dims.size() > 255) throw std::invalid_argument("encode_idx: 1 to 255 dimensions");
  std::uint64_t num_values = 1;
  for (const std::uint32_t dim : array.dims) num_values *= dim;
  if (num_values != array.values.size()) {
    throw std::invalid_argument("encode_idx: dimensions " + dims_text(array.dims) + " need " +
                                std::to_string(num_values) + " values, got " + std::to_string(array.values.size()));
  }
  std::vector<std::uint8_t> bytes;
  bytes.reserve(4 * (array.dims.size() + 1) + array.values.size());
  append_big_endian32(bytes, (std::uint32_t{kUnsignedByteType} << 8) | static_cast<std::uint32_t>(array.dims.size()));
  for (const std::uint32_t dim : array.dims) append_big_endian32(bytes, dim);
  bytes.insert(bytes.end(), array.values.begin(), array.values.end());
  return compression == IdxCompression::kGzip ? gzip(bytes) : bytes;
}

void write_idx(const std::string& path, const IdxArray& array, IdxCompression compression) {
  write_file_atomically(path, encode_idx(array, compression));
}

}  // namespace vae_cnn
