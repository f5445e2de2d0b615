// Channel conversion, area resizing and the [H,W,C] -> [C,H,W] reordering of one image.
#include "vae_cnn/data/image_convert.hpp"

#include <stb_image_resize.h>

#include <cstring>
#include <new>
#include <vector>

namespace vae_cnn {
namespace {

std::uint8_t luma(const std::uint8_t* rgb) {
  const unsigned sum = 299u * rgb[0] + 587u * rgb[1] + 114u * rgb[2];
  return static_cast<std::uint8_t>((sum + 500u) / 1000u);
}

// The image with `channels` (1 or 3) interleaved channels, alpha dropped.
std::vector<std::uint8_t> with_channels(const std::uint8_t* hwc, const PixelGrid& from, std::int64_t channels) {
  const std::int64_t pixels = from.width * from.height;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(pixels * channels));
  const std::int64_t step = from.channels;
  for (std::int64_t i = 0; i < pixels; ++i) {
    const std::uint8_t* source = hwc + i * step;
    std::uint8_t* target = out.data() + i * channels;
    if (channels == 1) {
      target[0] = step >= 3 ? luma(source) : source[0];
    } else if (step >= 3) {
      target[0] = source[0];
      target[1] = source[1];
      target[2] = source[2];
    } else {
      target[0] = target[1] = target[2] = source[0];
    }
  }
  return out;
}

std::vector<std::uint8_t> resized(const std::vector<std::uint8_t>& hwc, const PixelGrid& grid, std::int64_t side) {
  std::vector<std::uint8_t> out(static_cast<std::size_t>(side * side * grid.channels));
  // The box filter in linear space is the area average; clamping the edges keeps border pixels from
  // being darkened by a black or wrapped-around neighbour.
  const int ok = stbir_resize_uint8_generic(hwc.data(), static_cast<int>(grid.width), static_cast<int>(grid.height), 0,
                                            out.data(), static_cast<int>(side), static_cast<int>(side), 0,
                                            static_cast<int>(grid.channels), STBIR_ALPHA_CHANNEL_NONE, 0,
                                            STBIR_EDGE_CLAMP, STBIR_FILTER_BOX, STBIR_COLORSPACE_LINEAR, nullptr);
  if (ok == 0) throw std::bad_alloc();  // stb_image_resize fails only when it cannot allocate
  return out;
}

}  // namespace

bool convert_image(const std::uint8_t* hwc, const PixelGrid& from, std::int64_t channels, std::int64_t side,
                   std::uint8_t* chw) {
  std::vector<std::uint8_t> pixels = with_channels(hwc, from, channels);
  PixelGrid grid{from.width, from.height, channels};
  const bool resize = side > 0 && (from.width != side || from.height != side);
  if (resize) {
    pixels = resized(pixels, grid, side);
    grid.width = grid.height = side;
  }
  const std::int64_t plane = grid.width * grid.height;
  if (channels == 1) {
    std::memcpy(chw, pixels.data(), static_cast<std::size_t>(plane));
    return resize;
  }
  for (std::int64_t i = 0; i < plane; ++i) {
    for (std::int64_t c = 0; c < channels; ++c) chw[c * plane + i] = pixels[static_cast<std::size_t>(i * channels + c)];
  }
  return resize;
}

}  // namespace vae_cnn
