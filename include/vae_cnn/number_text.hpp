// Numbers written for people, shared by every layer that prints one.
#pragma once

#include <cstdint>
#include <string>

namespace vae_cnn {

/// 134165 -> "134,165"; -1234 -> "-1,234".
inline std::string with_thousands(std::int64_t value) {
  std::string digits = std::to_string(value);
  const int first_digit = value < 0 ? 1 : 0;
  for (int i = static_cast<int>(digits.size()) - 3; i > first_digit; i -= 3) {
    digits.insert(static_cast<std::size_t>(i), ",");
  }
  return digits;
}

}  // namespace vae_cnn
