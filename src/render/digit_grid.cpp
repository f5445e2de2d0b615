// The left margin grows with the longest row title; with no titles the grid starts at the margin.
#include "vae_cnn/render/digit_grid.hpp"

#include <algorithm>
#include <stdexcept>

#include "vae_cnn/render/chart_style.hpp"
#include "vae_cnn/render/digit_pixels.hpp"

namespace vae_cnn {
namespace {

struct Frame {
  double text = 0;
  int left = 0, top = 0;
  int cell_width = 0, cell_height = 0;
};

Frame frame_for(const std::vector<std::string>& row_titles, const DigitGridLayout& layout, const Font& font) {
  Frame frame;
  frame.cell_width = static_cast<int>(layout.digit.width) * layout.scale;
  frame.cell_height = static_cast<int>(layout.digit.height) * layout.scale;
  frame.text = std::max(13.0, frame.cell_height * 0.3);
  double widest = 0;
  for (const auto& title : row_titles) widest = std::max(widest, font.text_width(title, frame.text));
  const int margin = static_cast<int>(frame.text);
  frame.left = margin + (widest > 0 ? static_cast<int>(widest + frame.text) : 0);
  frame.top = static_cast<int>(frame.text * 2.6);
  return frame;
}

}  // namespace

PixelPoint digit_grid_cell(const std::vector<std::string>& row_titles, const DigitGridLayout& layout, const Font& font,
                           int row, int column) {
  const Frame frame = frame_for(row_titles, layout, font);
  return {frame.left + column * (frame.cell_width + layout.gap), frame.top + row * (frame.cell_height + layout.gap)};
}

Image digit_grid(const std::vector<std::uint8_t>& digits, const std::vector<std::string>& row_titles,
                 const std::string& title, const DigitGridLayout& layout, const Font& font) {
  const int rows = static_cast<int>(row_titles.size());
  check_drawable_digit("digit_grid", layout.digit);
  const auto digit_bytes = static_cast<std::size_t>(layout.digit.numel());
  if (rows < 1 || layout.columns < 1 || layout.scale < 1 || layout.gap < 0 ||
      digits.size() != static_cast<std::size_t>(rows) * layout.columns * digit_bytes) {
    throw std::invalid_argument("digit_grid: expected " + std::to_string(rows) + "x" + std::to_string(layout.columns) +
                                " digits of shape " + to_string(layout.digit) + ", got " + std::to_string(digits.size()) +
                                " bytes");
  }
  const Frame frame = frame_for(row_titles, layout, font);
  const int margin = static_cast<int>(frame.text);
  const int grid_width = layout.columns * frame.cell_width + (layout.columns - 1) * layout.gap;
  const int grid_height = rows * frame.cell_height + (rows - 1) * layout.gap;
  const int width = std::max(frame.left + grid_width + margin,
                             static_cast<int>(font.text_width(title, frame.text * 1.2)) + 2 * margin);
  Image image(width, frame.top + grid_height + margin);
  for (int row = 0; row < rows; ++row) {
    for (int column = 0; column < layout.columns; ++column) {
      const std::uint8_t* digit = digits.data() + (static_cast<std::size_t>(row) * layout.columns + column) * digit_bytes;
      draw_digit(image, digit_grid_cell(row_titles, layout, font, row, column), layout.digit, digit, layout.scale);
    }
    const double centre_y = frame.top + row * (frame.cell_height + layout.gap) + frame.cell_height / 2.0;
    font.draw(image, frame.left - frame.text * 0.6, centre_y + frame.text * 0.35, row_titles[static_cast<std::size_t>(row)],
              frame.text, kInk, Anchor::kRight);
  }
  font.draw(image, width / 2.0, frame.top - frame.text * 1.0, title, frame.text * 1.2, kInk, Anchor::kCenter);
  return image;
}

}  // namespace vae_cnn
