// The first line of an exception's message: LibTorch's errors carry a C++ backtrace and context
// lines after it, which a one-line error on stderr must not.
#pragma once

#include <exception>
#include <string>

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// `text` with control characters written out ("\\n", "\\x1b"): a path holding a newline stays on
/// the one line of its error.
inline std::string printable(const std::string& text) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (byte < 0x20 || byte == 0x7f) out += std::string("\\x") + kHex[byte >> 4] + kHex[byte & 15];
    else out += c;
  }
  return out;
}

/// One line for an exception: LibTorch's errors carry a C++ backtrace and context lines after their
/// first line, which is kept alone; our own messages keep all their text, made printable.
inline std::string first_line_of(const std::exception& error) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  if (torch_error == nullptr) return printable(error.what());
  std::string text = torch_error->what_without_backtrace();
  const auto newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  return printable(text);
}

}  // namespace vae_cnn
