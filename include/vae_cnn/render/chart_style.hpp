// What every picture shares: the ink of axes, ticks and text, and how numbers are written on them.
#pragma once

#include <string>

#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

/// Near-black: softer than pure black next to coloured points and grey digits.
inline constexpr Rgb kInk{40, 40, 40};

/// `text` (a printed number) with a leading hyphen replaced by a real minus sign (U+2212), which
/// is as wide as a plus sign and lines up in tick labels.
inline std::string with_minus_sign(std::string text) {
  if (!text.empty() && text[0] == '-') text = "\u2212" + text.substr(1);
  return text;
}

}  // namespace vae_cnn
