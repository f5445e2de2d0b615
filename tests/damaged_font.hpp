// A copy of DejaVu Sans whose tables a test changes in place; every table's checksum is made right
// again afterwards, so that the font is wrong only where the test damaged it (the table directory
// check alone passes it).
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace vae_cnn::testing {

inline const char* const kDejaVuSansPath = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

class DamagedFont {
 public:
  DamagedFont() {
    std::ifstream in(kDejaVuSansPath, std::ios::binary);
    bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  /// Where table `tag` starts in the file.
  std::uint32_t table(const std::string& tag) const { return get32(record(tag) + 8); }
  std::uint32_t table_length(const std::string& tag) const { return get32(record(tag) + 12); }

  std::uint16_t get16(std::size_t at) const { return static_cast<std::uint16_t>((bytes_.at(at) << 8) | bytes_.at(at + 1)); }
  std::uint32_t get32(std::size_t at) const { return (std::uint32_t{get16(at)} << 16) | get16(at + 2); }
  void put16(std::size_t at, std::uint16_t value) {
    bytes_.at(at) = static_cast<std::uint8_t>(value >> 8);
    bytes_.at(at + 1) = static_cast<std::uint8_t>(value);
  }
  void put32(std::size_t at, std::uint32_t value) {
    put16(at, static_cast<std::uint16_t>(value >> 16));
    put16(at + 2, static_cast<std::uint16_t>(value));
  }

  /// The bytes, with every table's checksum recomputed.
  std::vector<std::uint8_t> bytes() const {
    DamagedFont fixed = *this;
    const std::size_t tables = get16(4);
    for (std::size_t t = 0; t < tables; ++t) {
      const std::size_t entry = 12 + 16 * t;
      const bool head = std::string(bytes_.begin() + entry, bytes_.begin() + entry + 4) == "head";
      const std::uint32_t offset = get32(entry + 8), length = get32(entry + 12);
      std::uint32_t sum = 0;
      for (std::uint32_t i = 0; i < length; i += 4) {
        std::uint32_t word = 0;
        for (std::uint32_t k = 0; k < 4; ++k) {
          const bool inside = i + k < length && !(head && i + k >= 8 && i + k < 12);
          word = (word << 8) | (inside ? bytes_[offset + i + k] : 0);
        }
        sum += word;
      }
      fixed.put32(entry + 4, sum);
    }
    return fixed.bytes_;
  }

  void save(const std::string& path) const {
    const auto data = bytes();
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(data.data()),
                                                static_cast<std::streamsize>(data.size()));
  }

 private:
  std::size_t record(const std::string& tag) const {
    for (std::size_t t = 0; t < get16(4); ++t) {
      if (std::string(bytes_.begin() + 12 + 16 * t, bytes_.begin() + 16 + 16 * t) == tag) return 12 + 16 * t;
    }
    throw std::runtime_error("DejaVu Sans has no table " + tag);
  }

  std::vector<std::uint8_t> bytes_;
};

}  // namespace vae_cnn::testing
