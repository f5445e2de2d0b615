// The first line of an exception's message: LibTorch's errors carry a C++ backtrace and context
// lines after it, which a one-line error on stderr must not.
#pragma once

#include <exception>
#include <string>

#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

inline std::string first_line_of(const std::exception& error) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  std::string text = torch_error != nullptr ? torch_error->what_without_backtrace() : error.what();
  const auto newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  return text;
}

}  // namespace vae_cnn
