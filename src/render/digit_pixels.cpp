// The model's bytes are planar (channel after channel); a canvas and PNG want each pixel's
// channels together, so colour digits are interleaved here and nowhere else.
#include "vae_cnn/render/digit_pixels.hpp"

#include <stdexcept>

#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/render/png.hpp"

namespace vae_cnn {
namespace {

constexpr std::int64_t kMaxDigitSide = 4096;  // far beyond any data set's images; keeps sizes in int

// Pixel (x, y) of channel c in a planar digit.
std::uint8_t planar_at(const ImageShape& shape, const std::uint8_t* digit, std::int64_t c, std::int64_t x, std::int64_t y) {
  return digit[(c * shape.height + y) * shape.width + x];
}

// Each pixel's channels side by side, as PNG and the canvas hold them.
std::vector<std::uint8_t> interleaved(const ImageShape& shape, const std::uint8_t* digit) {
  if (shape.channels == 1) return {digit, digit + shape.numel()};
  std::vector<std::uint8_t> pixels(static_cast<std::size_t>(shape.numel()));
  std::size_t next = 0;
  for (std::int64_t y = 0; y < shape.height; ++y) {
    for (std::int64_t x = 0; x < shape.width; ++x) {
      for (std::int64_t c = 0; c < shape.channels; ++c) pixels[next++] = planar_at(shape, digit, c, x, y);
    }
  }
  return pixels;
}

}  // namespace

void check_drawable_digit(const std::string& what, const ImageShape& shape) {
  const bool sides = shape.height >= 1 && shape.height <= kMaxDigitSide && shape.width >= 1 && shape.width <= kMaxDigitSide;
  if (!sides || (shape.channels != 1 && shape.channels != 3)) {
    throw std::invalid_argument(what + ": cannot draw digits of shape " + to_string(shape) +
                                ", expected 1 or 3 channels and sides of 1 to " + std::to_string(kMaxDigitSide));
  }
}

void draw_digit(Image& image, PixelPoint origin, const ImageShape& shape, const std::uint8_t* digit, int scale) {
  const int width = static_cast<int>(shape.width), height = static_cast<int>(shape.height);
  if (shape.channels == 1) {
    image.draw_gray(origin.x, origin.y, width, height, digit, scale);
    return;
  }
  for (int y = 0; y < height * scale; ++y) {
    for (int x = 0; x < width * scale; ++x) {
      const Rgb colour{planar_at(shape, digit, 0, x / scale, y / scale), planar_at(shape, digit, 1, x / scale, y / scale),
                       planar_at(shape, digit, 2, x / scale, y / scale)};
      image.blend(origin.x + x, origin.y + y, colour, 1.0);
    }
  }
}

std::vector<std::uint8_t> encode_digit_png(const ImageShape& shape, const std::vector<std::uint8_t>& digit) {
  check_drawable_digit("encode_digit_png", shape);
  if (digit.size() != static_cast<std::size_t>(shape.numel())) {
    throw std::invalid_argument("encode_digit_png: " + std::to_string(digit.size()) + " bytes, expected " +
                                std::to_string(shape.numel()) + " for a digit of shape " + to_string(shape));
  }
  return encode_png(static_cast<int>(shape.width), static_cast<int>(shape.height), static_cast<int>(shape.channels),
                    interleaved(shape, digit.data()));
}

void write_digit_png(const std::string& path, const ImageShape& shape, const std::vector<std::uint8_t>& digit) {
  write_file_atomically(path, encode_digit_png(shape, digit));
}

}  // namespace vae_cnn
