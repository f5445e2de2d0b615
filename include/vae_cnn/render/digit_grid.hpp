// Rows of digits with a title per row (reconstructions.png, samples.png).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/model/image_shape.hpp"
#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

struct DigitGridLayout {
  int columns = 10;
  int scale = 2;     ///< each digit is drawn scale× larger, pixels kept square
  int gap = 4;       ///< pixels between cells
  ImageShape digit;  ///< the shape of each digit: the model's (ConvVae::image_shape)
};

/// Draws row_titles.size() rows of `layout.columns` digits (row-major, each as image_bytes gives it;
/// 0 = black), grey ones white on black like the seed's Greys_r, each row's title on its left, the
/// title above. Throws std::invalid_argument when `digits` does not hold exactly that many, or the
/// digit shape cannot be drawn (render/digit_pixels.hpp).
Image digit_grid(const std::vector<std::uint8_t>& digits, const std::vector<std::string>& row_titles,
                 const std::string& title, const DigitGridLayout& layout, const Font& font);

/// The cell's top-left corner in that picture.
PixelPoint digit_grid_cell(const std::vector<std::string>& row_titles, const DigitGridLayout& layout, const Font& font,
                           int row, int column);

}  // namespace vae_cnn
