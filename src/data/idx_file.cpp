// IDX parsing with every header field checked before it drives an allocation or a read.
#include "vae_cnn/data/idx_file.hpp"

#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/regular_file.hpp"

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

// Reads raw and gzip files alike (gzip known by its two magic bytes), through inflate itself rather
// than gzread: gzread stops silently at bytes after the gzip stream that are not another gzip
// member, which would accept a file with trailing garbage. Members one after another are read on.
class ByteReader {
 public:
  explicit ByteReader(const std::string& path) : path_(path), input_(kInputBuffer) {
    fd_ = open_regular_file(path, "an IDX file");
    refill(2);
    gzip_ = available() >= 2 && input_[begin_] == 0x1f && input_[begin_ + 1] == 0x8b;
    if (gzip_ && inflateInit2(&stream_, 15 + 16) != Z_OK) {
      ::close(fd_);
      throw std::runtime_error("zlib: inflateInit2 failed");
    }
  }
  ~ByteReader() {
    if (gzip_) inflateEnd(&stream_);
    ::close(fd_);
  }
  ByteReader(const ByteReader&) = delete;
  ByteReader& operator=(const ByteReader&) = delete;

  /// Reads up to `size` bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* destination, std::size_t size) {
    if (!gzip_) return copy_into(destination, size);
    // Inflated ahead a buffer at a time (as gzread does), so a corrupt stream is called corrupt
    // rather than read as a header of garbage.
    std::size_t total = 0;
    while (total < size) {
      if (output_begin_ == output_end_) {
        output_.resize(kInputBuffer);
        output_begin_ = 0;
        output_end_ = inflate_into(output_.data(), output_.size());
        if (output_end_ == 0) break;
      }
      const std::size_t n = std::min(size - total, output_end_ - output_begin_);
      std::memcpy(destination + total, output_.data() + output_begin_, n);
      output_begin_ += n;
      total += n;
    }
    return total;
  }

  bool compressed() const { return gzip_; }

 private:
  static constexpr std::size_t kInputBuffer = std::size_t{1} << 17;

  std::size_t available() const { return end_ - begin_; }

  // Reads from the file until at least `wanted` bytes are buffered or the file ends.
  void refill(std::size_t wanted) {
    if (begin_ > 0) {
      std::copy(input_.begin() + static_cast<std::ptrdiff_t>(begin_), input_.begin() + static_cast<std::ptrdiff_t>(end_),
                input_.begin());
      end_ -= begin_;
      begin_ = 0;
    }
    while (!at_end_ && end_ < wanted) {
      const ssize_t got = ::read(fd_, input_.data() + end_, input_.size() - end_);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) throw DataError(path_, "cannot read: " + file_error_words(errno));
      if (got == 0) at_end_ = true;
      end_ += static_cast<std::size_t>(got > 0 ? got : 0);
    }
  }

  std::size_t copy_into(std::uint8_t* destination, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      if (available() == 0) refill(1);
      if (available() == 0) break;
      const std::size_t n = std::min(size - total, available());
      std::memcpy(destination + total, input_.data() + begin_, n);
      begin_ += n;
      total += n;
    }
    return total;
  }

  std::size_t inflate_into(std::uint8_t* destination, std::size_t size) {
    std::size_t total = 0;
    while (total < size) {
      if (member_ended_) {
        refill(2);
        if (available() == 0) break;  // the last member ended with the file
        if (available() < 2 || input_[begin_] != 0x1f || input_[begin_ + 1] != 0x8b) {
          throw DataError(path_, "data after the end of the gzip stream (" + std::to_string(available()) +
                                     (at_end_ ? "" : " or more") + " bytes that are not another gzip member)");
        }
        inflateReset(&stream_);
        member_ended_ = false;
      }
      if (available() == 0) refill(1);
      stream_.next_in = input_.data() + begin_;
      stream_.avail_in = static_cast<uInt>(available());
      stream_.next_out = destination + total;
      stream_.avail_out = static_cast<uInt>(std::min(size - total, kReadChunk));
      const uInt out_before = stream_.avail_out;
      const int result = inflate(&stream_, Z_NO_FLUSH);
      begin_ = end_ - stream_.avail_in;
      total += out_before - stream_.avail_out;
      if (result == Z_STREAM_END) {
        member_ended_ = true;
      } else if (result == Z_BUF_ERROR) {  // no input left to go on with
        if (at_end_) throw DataError(path_, "truncated gzip stream (unexpected end of file)");
      } else if (result != Z_OK) {
        throw DataError(path_, std::string("corrupt gzip stream: ") + (stream_.msg ? stream_.msg : "unknown error"));
      }
    }
    return total;
  }

  std::string path_;
  int fd_ = -1;
  std::vector<std::uint8_t> input_;
  std::size_t begin_ = 0, end_ = 0;
  std::vector<std::uint8_t> output_;
  std::size_t output_begin_ = 0, output_end_ = 0;
  bool at_end_ = false;
  bool gzip_ = false;
  bool member_ended_ = false;
  z_stream stream_{};
};

std::uint32_t big_endian32(const std::uint8_t* bytes) {
  return (std::uint32_t{bytes[0]} << 24) | (std::uint32_t{bytes[1]} << 16) |
         (std::uint32_t{bytes[2]} << 8) | std::uint32_t{bytes[3]};
}

using DimsCheck = std::function<void(const std::vector<std::uint32_t>&)>;
/// Takes the values of an IDX file chunk by chunk: their offset among the values, and the bytes.
using ValuesSink = std::function<void(std::uint64_t offset, const std::uint8_t* bytes, std::size_t size)>;

// Checks the header, then hands the values to `keep` one chunk at a time and checks that the data
// ends where the header says; returns the dimensions. Holds one chunk, whatever the file holds.
std::vector<std::uint32_t> stream_idx(const std::string& path, std::uint32_t expected_magic, const DimsCheck& check_dims,
                                      const ValuesSink& keep) {
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

  std::vector<std::uint8_t> chunk(static_cast<std::size_t>(std::min<std::uint64_t>(num_values, kReadChunk)));
  for (std::uint64_t offset = 0; offset < num_values;) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(num_values - offset, kReadChunk));
    const std::size_t got = reader.read(chunk.data(), want);
    if (got < want) {
      const std::string where = reader.compressed() ? "the decompressed data holds" : "the file holds";
      throw DataError(path, "truncated: header " + dims_text(array.dims) + " promises " +
                                std::to_string(num_values) + " bytes of data, " + where + " only " +
                                std::to_string(offset + got));
    }
    keep(offset, chunk.data(), got);
    offset += got;
  }
  std::uint8_t extra = 0;
  if (reader.read(&extra, 1) != 0) {
    throw DataError(path, "data continues past the " + std::to_string(num_values) + " bytes that header " +
                              dims_text(array.dims) + " promises");
  }
  return array.dims;
}

// The whole file in memory, grown with the data actually present, so that a header that lies
// about its size costs nothing.
IdxArray read_idx_checked(const std::string& path, std::uint32_t expected_magic, const DimsCheck& check_dims) {
  IdxArray array;
  array.dims = stream_idx(path, expected_magic, check_dims, [&](std::uint64_t, const std::uint8_t* bytes, std::size_t size) {
    array.values.insert(array.values.end(), bytes, bytes + size);
  });
  return array;
}

DimsCheck images_of_28x28(const std::string& path) {
  return [path](const std::vector<std::uint32_t>& dims) {
    if (dims[1] != kImageSide || dims[2] != kImageSide) {
      throw DataError(path, "images are " + std::to_string(dims[1]) + "x" + std::to_string(dims[2]) +
                                ", expected 28x28");
    }
  };
}

void check_label(const std::string& path, std::uint8_t label, std::uint64_t index) {
  if (label >= kNumClasses) {
    throw DataError(path, "label " + std::to_string(label) + " at index " + std::to_string(index) + " is outside 0-9");
  }
}

// Copies the items `indices` (each `item_size` values) out of a chunk at `offset` into `out`, where
// item k goes at k·item_size.
void copy_selected(const std::vector<std::uint64_t>& indices, std::uint64_t item_size, std::uint64_t offset,
                   const std::uint8_t* bytes, std::size_t size, std::vector<std::uint8_t>& out) {
  for (std::size_t k = 0; k < indices.size(); ++k) {
    const std::uint64_t begin = std::max(indices[k] * item_size, offset);
    const std::uint64_t end = std::min((indices[k] + 1) * item_size, offset + size);
    if (begin >= end) continue;
    std::memcpy(out.data() + k * item_size + (begin - indices[k] * item_size), bytes + (begin - offset), end - begin);
  }
}

// The items of `out` (item_size values each, one per index) whose index is below `count`, in order.
void keep_indices_below(const std::vector<std::uint64_t>& indices, std::uint64_t count, std::uint64_t item_size,
                        std::vector<std::uint8_t>& out) {
  std::size_t kept = 0;
  for (std::size_t k = 0; k < indices.size(); ++k) {
    if (indices[k] >= count) continue;
    std::memmove(out.data() + kept * item_size, out.data() + k * item_size, item_size);
    ++kept;
  }
  out.resize(kept * item_size);
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
  IdxArray array = read_idx_checked(path, kIdxImagesMagic, images_of_28x28(path));
  IdxImages images;
  images.count = array.dims[0];
  images.rows = array.dims[1];
  images.cols = array.dims[2];
  images.pixels = std::move(array.values);
  return images;
}

std::vector<std::uint8_t> read_idx_labels(const std::string& path) {
  IdxArray array = read_idx(path, kIdxLabelsMagic);
  for (std::size_t i = 0; i < array.values.size(); ++i) check_label(path, array.values[i], i);
  return std::move(array.values);
}

IdxImages read_idx_images_at(const std::string& path, const std::vector<std::uint64_t>& indices) {
  constexpr std::uint64_t kImageBytes = std::uint64_t{kImageSide} * kImageSide;
  IdxImages images;
  images.pixels.assign(indices.size() * kImageBytes, 0);
  const DimsCheck check_shape = images_of_28x28(path);
  const auto dims = stream_idx(
      path, kIdxImagesMagic, check_shape, [&](std::uint64_t offset, const std::uint8_t* bytes, std::size_t size) {
        copy_selected(indices, kImageBytes, offset, bytes, size, images.pixels);
      });
  images.count = dims[0];
  images.rows = dims[1];
  images.cols = dims[2];
  keep_indices_below(indices, images.count, kImageBytes, images.pixels);
  return images;
}

std::vector<std::uint8_t> read_idx_labels_at(const std::string& path, const std::vector<std::uint64_t>& indices,
                                             std::uint64_t* count) {
  std::vector<std::uint8_t> labels(indices.size(), 0);
  const auto dims = stream_idx(path, kIdxLabelsMagic, [](const std::vector<std::uint32_t>&) {},
                               [&](std::uint64_t offset, const std::uint8_t* bytes, std::size_t size) {
                                 for (std::size_t i = 0; i < size; ++i) check_label(path, bytes[i], offset + i);
                                 copy_selected(indices, 1, offset, bytes, size, labels);
                               });
  if (count != nullptr) *count = dims[0];
  keep_indices_below(indices, dims[0], 1, labels);
  return labels;
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
