// Every digit centre gets a tick; labels are thinned to every k-th tick so they never overlap.
#include "vae_cnn/render/digit_manifold.hpp"

#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>

namespace vae_cnn {
namespace {

constexpr int kDigit = 28;
constexpr Rgb kInk{40, 40, 40};

std::string one_decimal(double value) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f", std::abs(value) < 0.05 ? 0.0 : value);
  std::string out = text;
  if (!out.empty() && out[0] == '-') out = "\u2212" + out.substr(1);
  return out;
}

}  // namespace

std::vector<double> manifold_axis(int n, double range) {
  std::vector<double> values(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = n == 1 ? 0.0 : -range + 2.0 * range * i / (n - 1);
  return values;
}

Image digit_manifold(const std::vector<std::uint8_t>& digits, int grid, double range, const std::string& title,
                     const Font& font) {
  if (grid < 1 || digits.size() != static_cast<std::size_t>(grid) * grid * kDigit * kDigit) {
    throw std::invalid_argument("digit_manifold: expected " + std::to_string(grid) + "x" + std::to_string(grid) +
                                " digits of 28x28, got " + std::to_string(digits.size()) + " bytes");
  }
  const int side = grid * kDigit;
  const double text = std::max(11.0, side / 60.0);
  const int left = static_cast<int>(text * 5), top = static_cast<int>(text * 2.8);
  const int bottom = static_cast<int>(text * 4.5), right = static_cast<int>(text * 2);
  Image image(left + side + right, top + side + bottom);
  for (int row = 0; row < grid; ++row) {
    for (int col = 0; col < grid; ++col) {
      const std::uint8_t* digit = digits.data() + (static_cast<std::size_t>(row) * grid + col) * kDigit * kDigit;
      image.draw_gray(left + col * kDigit, top + row * kDigit, kDigit, kDigit, digit);
    }
  }
  const auto values = manifold_axis(grid, range);
  const double label_width = font.text_width(one_decimal(-range), text) + text * 0.6;
  const int every = std::max(1, static_cast<int>(std::ceil(label_width / kDigit)));
  for (int i = 0; i < grid; ++i) {
    const double centre_x = left + i * kDigit + kDigit / 2.0;
    const double centre_y = top + i * kDigit + kDigit / 2.0;
    image.draw_line(centre_x, top + side, centre_x, top + side + text * 0.4, kInk, 1.0);
    image.draw_line(left - text * 0.4, centre_y, left, centre_y, kInk, 1.0);
    // Both ends are labelled; a regular label too close to the last one gives way to it.
    const bool labelled = i == grid - 1 || (i % every == 0 && grid - 1 - i >= every);
    if (!labelled) continue;
    font.draw(image, centre_x, top + side + text * 1.5, one_decimal(values[static_cast<std::size_t>(i)]), text, kInk,
              Anchor::kCenter);
    // Row i shows z[1] = values[grid - 1 - i]: the top row is +range.
    font.draw(image, left - text * 0.6, centre_y + text * 0.35, one_decimal(values[static_cast<std::size_t>(grid - 1 - i)]),
              text, kInk, Anchor::kRight);
  }
  font.draw(image, left + side / 2.0, top - text * 0.9, title, text * 1.2, kInk, Anchor::kCenter);
  font.draw(image, left + side / 2.0, top + side + text * 3.3, "z[0]", text * 1.1, kInk, Anchor::kCenter);
  font.draw_vertical(image, text * 0.9, top + side / 2.0, "z[1]", text * 1.1, kInk);
  return image;
}

}  // namespace vae_cnn
