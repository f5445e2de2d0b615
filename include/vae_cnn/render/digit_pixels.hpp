// One digit as the model gives it (image_bytes: channel after channel, each row by row) drawn into
// a picture or written as a PNG file of its own. A digit is grey (1 channel) or colour (3: RGB).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/model/image_shape.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

/// Throws std::invalid_argument naming `what` unless digits of `shape` can be drawn: 1 or 3
/// channels, height and width from 1 to 4096.
void check_drawable_digit(const std::string& what, const ImageShape& shape);

/// Draws `digit` (shape.numel() bytes, as above) `scale`× larger, pixels kept square, with its
/// top-left at `origin`; 0 is black.
void draw_digit(Image& image, PixelPoint origin, const ImageShape& shape, const std::uint8_t* digit, int scale = 1);

/// The PNG file of one digit: shape.width × shape.height, grey or RGB. Throws std::invalid_argument
/// when `digit` does not hold shape.numel() bytes.
std::vector<std::uint8_t> encode_digit_png(const ImageShape& shape, const std::vector<std::uint8_t>& digit);

/// Writes encode_digit_png's bytes atomically; throws WriteError naming the file.
void write_digit_png(const std::string& path, const ImageShape& shape, const std::vector<std::uint8_t>& digit);

}  // namespace vae_cnn
