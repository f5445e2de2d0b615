// Every digit centre gets a tick; labels are thinned to every k-th tick so they never overlap.
#include "vae_cnn/render/digit_manifold.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

#include "vae_cnn/render/chart_style.hpp"
#include "vae_cnn/render/digit_pixels.hpp"
#include "vae_cnn/render/title_text.hpp"

namespace vae_cnn {
namespace {

std::string one_decimal(double value) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f", std::abs(value) < 0.05 ? 0.0 : value);
  return with_minus_sign(text);
}

struct Margins {
  double text = 0;
  int left = 0, top = 0, bottom = 0, right = 0;
};

// The text grows with the picture's width, so labels stay in proportion to the digits.
Margins margins_for(int grid, const ImageShape& digit) {
  Margins m;
  m.text = std::max(11.0, grid * static_cast<int>(digit.width) / 60.0);
  m.left = static_cast<int>(m.text * 5);
  m.top = static_cast<int>(m.text * 2.8);
  m.bottom = static_cast<int>(m.text * 4.5);
  m.right = static_cast<int>(m.text * 2);
  return m;
}

}  // namespace

PixelPoint manifold_cell(int grid, int row, int column, const ImageShape& digit) {
  const Margins m = margins_for(grid, digit);
  return {m.left + column * static_cast<int>(digit.width), m.top + row * static_cast<int>(digit.height)};
}

Image digit_manifold(const std::vector<std::uint8_t>& digits, const ImageShape& digit, int grid, int rows, double range,
                     const std::string& title, const Font& font) {
  check_drawable_digit("digit_manifold", digit);
  const auto digit_bytes = static_cast<std::size_t>(digit.numel());
  if (grid < 1 || (rows != grid && rows != 1) || digits.size() != static_cast<std::size_t>(rows) * grid * digit_bytes) {
    throw std::invalid_argument("digit_manifold: expected " + std::to_string(rows) + "x" + std::to_string(grid) +
                                " digits of shape " + to_string(digit) + " (rows 1 or " + std::to_string(grid) +
                                "), got " + std::to_string(digits.size()) + " bytes");
  }
  const bool plane = rows > 1;
  const int digit_width = static_cast<int>(digit.width), digit_height = static_cast<int>(digit.height);
  const int side = grid * digit_width, height = rows * digit_height;
  const Margins m = margins_for(grid, digit);
  const double text = m.text;
  const int left = m.left, top = m.top;
  Image image(left + side + m.right, top + height + m.bottom);
  const auto values = manifold_axis(grid, range);
  const double label_width = font.text_width(one_decimal(-range), text) + text * 0.6;
  const int every = std::max(1, static_cast<int>(std::ceil(label_width / digit_width)));
  for (int i = 0; i < grid; ++i) {
    const double centre_x = left + i * digit_width + digit_width / 2.0;
    const double centre_y = top + i * digit_height + digit_height / 2.0;
    image.draw_line(centre_x, top + height, centre_x, top + height + text * 0.4, kInk, 1.0);
    if (plane) image.draw_line(left - text * 0.4, centre_y, left, centre_y, kInk, 1.0);
    // Both ends are labelled; a regular label too close to the last one gives way to it.
    const bool labelled = i == grid - 1 || (i % every == 0 && grid - 1 - i >= every);
    if (!labelled) continue;
    font.draw(image, centre_x, top + height + text * 1.5, one_decimal(values[static_cast<std::size_t>(i)]), text, kInk,
              Anchor::kCenter);
    // Row i shows z[1] = values[grid - 1 - i]: the top row is +range.
    if (plane) {
      font.draw(image, left - text * 0.6, centre_y + text * 0.35, one_decimal(values[static_cast<std::size_t>(grid - 1 - i)]),
                text, kInk, Anchor::kRight);
    }
  }
  // The digits go on last: a tick's anti-aliased end must not bleed into a cell's edge pixels.
  for (int row = 0; row < rows; ++row) {
    for (int col = 0; col < grid; ++col) {
      const std::uint8_t* bytes = digits.data() + (static_cast<std::size_t>(row) * grid + col) * digit_bytes;
      draw_digit(image, manifold_cell(grid, row, col, digit), digit, bytes);
    }
  }
  draw_title(image, font, left + side / 2.0, top - text * 0.9, title, text * 1.2);
  font.draw(image, left + side / 2.0, top + height + text * 3.3, "z[0]", text * 1.1, kInk, Anchor::kCenter);
  if (plane) font.draw_vertical(image, text * 0.9, top + height / 2.0, "z[1]", text * 1.1, kInk);
  return image;
}

}  // namespace vae_cnn
