// Numbers written for people, shared by every layer that prints one.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
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

/// The whole of `text` as a decimal integer, or nothing (empty, other characters, out of range).
/// Reads to the end of `text`: a value from a request may hold a NUL byte, where a C string stops.
inline std::optional<std::int64_t> whole_number(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE) return std::nullopt;
  return value;
}

/// The whole of `text` as a finite number, or nothing.
inline std::optional<double> finite_number(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) return std::nullopt;
  return value;
}

/// A number as %g writes it: 0.001, 1e+308.
inline std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

}  // namespace vae_cnn
