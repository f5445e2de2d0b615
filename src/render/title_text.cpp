#include "vae_cnn/render/title_text.hpp"

#include <algorithm>

#include "vae_cnn/render/chart_style.hpp"

namespace vae_cnn {
namespace {

// Drops the last UTF-8 character (its continuation bytes, then its lead byte).
void drop_last_character(std::string& text) {
  while (!text.empty() && (static_cast<unsigned char>(text.back()) & 0xC0) == 0x80) text.pop_back();
  if (!text.empty()) text.pop_back();
}

}  // namespace

void draw_title(Image& image, const Font& font, double centre_x, double baseline, const std::string& title, double size) {
  const double margin = size * 0.5;
  const double room = image.width() - 2 * margin;
  std::string shown = title;
  double width = font.text_width(shown, size);
  if (width > room && width > 0) {
    size = std::max(size * 0.7, size * room / width);
    width = font.text_width(shown, size);
    if (width > room) {
      const std::string ellipsis = "\u2026";
      while (!shown.empty() && font.text_width(shown + ellipsis, size) > room) drop_last_character(shown);
      shown += ellipsis;
      width = font.text_width(shown, size);
    }
  }
  const double lowest = margin + width / 2, highest = image.width() - margin - width / 2;
  const double x = lowest <= highest ? std::clamp(centre_x, lowest, highest) : image.width() / 2.0;
  font.draw(image, x, baseline, shown, size, kInk, Anchor::kCenter);
}

}  // namespace vae_cnn
