// The .npy arrays inside a NumPy archive, parsed by hand: no package Debian ships parses .npy from
// C++ (cnpy and xtensor's reader are not packaged), and the format is a magic, a version and a
// one-line Python dict. Only integer arrays are accepted: object arrays hold pickles, which are
// never unpickled.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// An integer array of a .npy file: its checked header and where its values lie.
struct NpyArray {
  std::vector<std::uint64_t> shape;
  char kind = 'u';                     ///< 'u' unsigned or 'i' signed
  std::size_t item_size = 1;           ///< bytes a value: 1, 2, 4 or 8
  bool big_endian = false;
  std::uint64_t count = 0;             ///< values: the product of the shape
  const std::uint8_t* data = nullptr;  ///< the first value, inside the bytes parse_npy was given

  /// Value `index` (row-major); an unsigned value beyond int64 comes back as INT64_MAX.
  std::int64_t value(std::uint64_t index) const;
  /// Whether the values are bytes as they stand (unsigned, one byte each).
  bool is_bytes() const { return kind == 'u' && item_size == 1; }
};

/// Parses `bytes`, the .npy entry `entry` of the archive `archive` (both named in errors): format
/// version 1.0, 2.0 or 3.0; 'descr' an integer type; 'fortran_order' False; 'shape' whose values
/// fill the rest of the entry exactly. Throws DataError(archive, "<entry>: <fault>") otherwise.
NpyArray parse_npy(const std::string& archive, const std::string& entry, const std::vector<std::uint8_t>& bytes);

}  // namespace vae_cnn
