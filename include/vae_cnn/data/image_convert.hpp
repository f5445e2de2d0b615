// One image's pixels brought to the channels and size a data set is loaded with: no LibTorch, so
// that the conversion can be checked byte by byte.
#pragma once

#include <cstdint>

namespace vae_cnn {

/// The layout of an image's bytes: height rows of width pixels of `channels` bytes each (1 grey,
/// 2 grey + alpha, 3 RGB, 4 RGBA), as image files and NumPy's [H,W,C] arrays hold them.
struct PixelGrid {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::int64_t channels = 0;
};

/// The colour a data set holds: 3 when any image has colour (RGB or RGBA), else 1.
inline std::int64_t own_channels(std::int64_t channels) { return channels >= 3 ? 3 : 1; }

/// Writes the image `hwc` (laid out as `from`) into `chw` as `channels` planes (1 or 3) of
/// side×side bytes, or of its own size when `side` is 0. Alpha is dropped, not blended; grey
/// becomes RGB by copying it into each plane; RGB becomes grey by BT.601 luma,
/// (299·R + 587·G + 114·B + 500) / 1000 in integers. Resizing (stb_image_resize's box filter) gives
/// each new pixel the mean of the source area it covers, rounded half up: shrinking 28→14 gives each
/// 2×2 block's mean. Returns whether the image was resized.
bool convert_image(const std::uint8_t* hwc, const PixelGrid& from, std::int64_t channels, std::int64_t side,
                   std::uint8_t* chw);

}  // namespace vae_cnn
