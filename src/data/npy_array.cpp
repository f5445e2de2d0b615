// The .npy header: magic, version, header length, then a Python dict literal read by a tiny parser
// that knows the three keys NumPy writes and nothing else.
#include "vae_cnn/data/npy_array.hpp"

#include <cctype>
#include <cstring>
#include <limits>
#include <utility>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

constexpr char kNpyMagic[] = "\x93NUMPY";
constexpr std::size_t kNpyMagicSize = 6;

// The fields of the header dict, as written: {'descr': '<u1', 'fortran_order': False, 'shape': (2, 3), }
struct NpyHeaderFields {
  std::string descr;
  std::string fortran_order;
  std::vector<std::uint64_t> shape;
  bool has_descr = false, has_shape = false;
};

class NpyHeaderParser {
 public:
  NpyHeaderParser(std::string text, std::string archive, std::string entry)
      : text_(std::move(text)), archive_(std::move(archive)), entry_(std::move(entry)) {}

  NpyHeaderFields parse() {
    NpyHeaderFields fields;
    expect('{');
    while (skip_space(), peek() != '}') {
      const std::string key = quoted();
      skip_space();
      expect(':');
      skip_space();
      if (key == "descr") {
        if (peek() != '\'' && peek() != '"') fail("'descr' is not a plain type (a structured array); expected an integer type");
        fields.descr = quoted();
        fields.has_descr = true;
      } else if (key == "fortran_order") {
        fields.fortran_order = word();
      } else if (key == "shape") {
        fields.shape = tuple();
        fields.has_shape = true;
      } else {
        fail("unexpected key '" + key + "' in the header");
      }
      skip_space();
      if (peek() == ',') ++at_;
    }
    if (!fields.has_descr || !fields.has_shape || fields.fortran_order.empty()) {
      fail("the header lacks 'descr', 'fortran_order' or 'shape'");
    }
    return fields;
  }

  [[noreturn]] void fail(const std::string& fault) const { throw DataError(archive_, entry_ + ": " + fault); }

 private:
  char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
  void skip_space() {
    while (at_ < text_.size() && std::isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
  }
  void expect(char c) {
    skip_space();
    if (peek() != c) fail(std::string("malformed header: expected '") + c + "' at character " + std::to_string(at_));
    ++at_;
  }
  std::string quoted() {
    const char quote = peek();
    if (quote != '\'' && quote != '"') fail("malformed header: expected a quoted key at character " + std::to_string(at_));
    const auto end = text_.find(quote, at_ + 1);
    if (end == std::string::npos) fail("malformed header: an unterminated string");
    std::string value = text_.substr(at_ + 1, end - at_ - 1);
    at_ = end + 1;
    return value;
  }
  std::string word() {
    const std::size_t begin = at_;
    while (std::isalpha(static_cast<unsigned char>(peek()))) ++at_;
    return text_.substr(begin, at_ - begin);
  }
  std::vector<std::uint64_t> tuple() {
    expect('(');
    std::vector<std::uint64_t> values;
    while (skip_space(), peek() != ')') {
      if (!std::isdigit(static_cast<unsigned char>(peek()))) fail("malformed 'shape': expected a size at character " + std::to_string(at_));
      std::uint64_t value = 0;
      while (std::isdigit(static_cast<unsigned char>(peek()))) {
        const auto digit = static_cast<std::uint64_t>(text_[at_++] - '0');
        if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) fail("a 'shape' size overflows 64 bits");
        value = value * 10 + digit;
      }
      values.push_back(value);
      skip_space();
      if (peek() == ',') ++at_;
    }
    ++at_;
    return values;
  }

  std::string text_, archive_, entry_;
  std::size_t at_ = 0;
};

std::uint64_t little_endian(const std::uint8_t* bytes, std::size_t size) {
  std::uint64_t value = 0;
  for (std::size_t i = size; i-- > 0;) value = (value << 8) | bytes[i];
  return value;
}

// The header text and the offset of the first value, after the magic, version and length.
std::string npy_header_text(const NpyHeaderParser& parser, const std::vector<std::uint8_t>& bytes,
                            std::size_t* data_offset) {
  if (bytes.size() < kNpyMagicSize + 4 || std::memcmp(bytes.data(), kNpyMagic, kNpyMagicSize) != 0) {
    parser.fail("not a .npy array (no \\x93NUMPY magic)");
  }
  const int major = bytes[6];
  if (major < 1 || major > 3) parser.fail("format version " + std::to_string(major) + "." + std::to_string(bytes[7]) + ", expected 1.0, 2.0 or 3.0");
  const std::size_t length_size = major == 1 ? 2 : 4;
  const std::size_t begin = 8 + length_size;
  if (bytes.size() < begin) parser.fail("truncated header");
  const std::uint64_t length = little_endian(bytes.data() + 8, length_size);
  if (length > bytes.size() - begin) {
    parser.fail("header of " + std::to_string(length) + " bytes, the entry holds " + std::to_string(bytes.size() - begin));
  }
  *data_offset = begin + static_cast<std::size_t>(length);
  return std::string(reinterpret_cast<const char*>(bytes.data() + begin), static_cast<std::size_t>(length));
}

void read_descr(const NpyHeaderParser& parser, const std::string& descr, NpyArray& array) {
  if (descr.size() >= 2 && descr[1] == 'O') {
    parser.fail("an object array ('" + descr + "'): its values are pickled Python objects, which are never unpickled");
  }
  const bool known_order = descr.size() >= 3 && (descr[0] == '<' || descr[0] == '>' || descr[0] == '|' || descr[0] == '=');
  const std::string size = known_order ? descr.substr(2) : "";
  const bool integer = known_order && (descr[1] == 'u' || descr[1] == 'i') &&
                       (size == "1" || size == "2" || size == "4" || size == "8");
  if (!integer) parser.fail("type '" + descr + "', expected an integer type (such as '|u1' or '<i8')");
  array.kind = descr[1];
  array.item_size = static_cast<std::size_t>(size[0] - '0');
  array.big_endian = descr[0] == '>';
}

}  // namespace

std::int64_t NpyArray::value(std::uint64_t index) const {
  const std::uint8_t* at = data + index * item_size;
  std::uint64_t raw = 0;
  for (std::size_t i = 0; i < item_size; ++i) {
    raw |= std::uint64_t{at[big_endian ? item_size - 1 - i : i]} << (8 * i);
  }
  if (kind == 'u') {
    return raw > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) ? std::numeric_limits<std::int64_t>::max()
                                                                                      : static_cast<std::int64_t>(raw);
  }
  const unsigned bits = static_cast<unsigned>(8 * item_size);
  if (bits < 64 && (raw >> (bits - 1)) != 0) raw |= ~std::uint64_t{0} << bits;  // sign-extend
  return static_cast<std::int64_t>(raw);
}

NpyArray parse_npy(const std::string& archive, const std::string& entry, const std::vector<std::uint8_t>& bytes) {
  NpyHeaderParser probe("", archive, entry);
  std::size_t offset = 0;
  const std::string text = npy_header_text(probe, bytes, &offset);
  NpyHeaderParser parser(text, archive, entry);
  const NpyHeaderFields fields = parser.parse();
  NpyArray array;
  read_descr(parser, fields.descr, array);
  if (fields.fortran_order != "False") parser.fail("fortran_order is " + fields.fortran_order + ", expected False (row-major)");
  array.shape = fields.shape;
  std::uint64_t count = 1;
  for (const std::uint64_t size : array.shape) {
    if (size != 0 && count > std::numeric_limits<std::uint64_t>::max() / size / array.item_size) {
      parser.fail("its 'shape' overflows 64 bits");
    }
    count *= size;
  }
  array.count = count;
  const std::uint64_t declared = count * array.item_size;
  const std::uint64_t held = bytes.size() - offset;
  if (declared != held) {
    parser.fail("its shape declares " + std::to_string(declared) + " bytes of values, the entry holds " + std::to_string(held));
  }
  array.data = bytes.data() + offset;
  return array;
}

}  // namespace vae_cnn
