// stb_truetype rasterises each glyph to an 8-bit coverage bitmap, which is blended onto the
// canvas as alpha: anti-aliased text without a font engine to install.
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/regular_file.hpp"
#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/font_tables.hpp"

namespace vae_cnn {
namespace {

const char* const kDejaVuSans = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

// Decodes UTF-8 so that labels like "z[0]" and "−4" render; invalid bytes become '?'.
std::vector<int> code_points(const std::string& text) {
  std::vector<int> points;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    int length = byte < 0x80 ? 1 : (byte >> 5) == 0x6 ? 2 : (byte >> 4) == 0xe ? 3 : (byte >> 3) == 0x1e ? 4 : 0;
    if (length == 0 || i + length > text.size()) {
      points.push_back('?');
      ++i;
      continue;
    }
    int point = length == 1 ? byte : byte & (0xff >> (length + 1));
    for (int k = 1; k < length; ++k) point = (point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3f);
    points.push_back(point);
    i += length;
  }
  return points;
}

}  // namespace

struct Font::State {
  std::vector<unsigned char> data;
  stbtt_fontinfo info{};
};

Font::Font(const std::string& path) : state_(std::make_unique<State>()) {
  const std::string bytes = read_regular_file(path, "a TrueType font file", kMaxFontFileBytes);
  state_->data.assign(bytes.begin(), bytes.end());
  const std::string problem = truetype_problem(state_->data);
  if (!problem.empty()) throw DataError(path, "not a usable TrueType font: " + problem);
  const int offset = stbtt_GetFontOffsetForIndex(state_->data.data(), 0);
  if (offset < 0 || stbtt_InitFont(&state_->info, state_->data.data(), offset) == 0) {
    throw DataError(path, "not a TrueType font");
  }
}

Font::~Font() = default;
Font::Font(Font&&) noexcept = default;
Font& Font::operator=(Font&&) noexcept = default;

Font Font::load_default() {
  const char* override_path = std::getenv("VAE_CNN_FONT");
  if (override_path != nullptr && *override_path != '\0') {
    require_regular_file(override_path, "a TrueType font file (named by VAE_CNN_FONT; unset, DejaVu Sans of "
                                        "fonts-dejavu-core is used)");
    return Font(override_path);
  }
  std::error_code error;
  if (!std::filesystem::exists(kDejaVuSans, error)) {
    throw DataError(kDejaVuSans, "DejaVu Sans not found; install fonts-dejavu-core (scripts/install_deps.sh) or set VAE_CNN_FONT");
  }
  return Font(kDejaVuSans);
}

double Font::text_width(const std::string& text, double pixel_height) const {
  const float scale = stbtt_ScaleForPixelHeight(&state_->info, static_cast<float>(pixel_height));
  double width = 0;
  const auto points = code_points(text);
  for (std::size_t i = 0; i < points.size(); ++i) {
    int advance = 0, bearing = 0;
    stbtt_GetCodepointHMetrics(&state_->info, points[i], &advance, &bearing);
    width += advance * scale;
    if (i + 1 < points.size()) width += scale * stbtt_GetCodepointKernAdvance(&state_->info, points[i], points[i + 1]);
  }
  return width;
}

void Font::draw(Image& image, double x, double y, const std::string& text, double pixel_height, Rgb color,
                Anchor anchor) const {
  const float scale = stbtt_ScaleForPixelHeight(&state_->info, static_cast<float>(pixel_height));
  double pen = x;
  if (anchor == Anchor::kCenter) pen -= text_width(text, pixel_height) / 2.0;
  if (anchor == Anchor::kRight) pen -= text_width(text, pixel_height);
  const auto points = code_points(text);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const float shift_x = static_cast<float>(pen - std::floor(pen));
    int width = 0, height = 0, x_offset = 0, y_offset = 0;
    unsigned char* bitmap = stbtt_GetCodepointBitmapSubpixel(&state_->info, scale, scale, shift_x, 0.0f, points[i],
                                                             &width, &height, &x_offset, &y_offset);
    if (bitmap == nullptr) width = height = 0;  // an empty glyph, or its bitmap could not be allocated
    const int origin_x = static_cast<int>(std::floor(pen)) + x_offset;
    const int origin_y = static_cast<int>(std::lround(y)) + y_offset;
    for (int row = 0; row < height; ++row) {
      for (int col = 0; col < width; ++col) image.blend(origin_x + col, origin_y + row, color, bitmap[row * width + col] / 255.0);
    }
    stbtt_FreeBitmap(bitmap, nullptr);
    int advance = 0, bearing = 0;
    stbtt_GetCodepointHMetrics(&state_->info, points[i], &advance, &bearing);
    pen += advance * scale;
    if (i + 1 < points.size()) pen += scale * stbtt_GetCodepointKernAdvance(&state_->info, points[i], points[i + 1]);
  }
}

void Font::draw_vertical(Image& image, double x, double y, const std::string& text, double pixel_height,
                         Rgb color) const {
  // Draw horizontally on a scratch canvas, then copy it turned 90° anticlockwise.
  const int width = static_cast<int>(std::ceil(text_width(text, pixel_height))) + 2;
  const int height = static_cast<int>(std::ceil(pixel_height * 1.3)) + 2;
  Image scratch(width, height, {255, 255, 255});
  draw(scratch, 1, std::round(pixel_height), text, pixel_height, {0, 0, 0});
  const int left = static_cast<int>(std::lround(x - height / 2.0));
  const int top = static_cast<int>(std::lround(y - width / 2.0));
  for (int sy = 0; sy < height; ++sy) {
    for (int sx = 0; sx < width; ++sx) {
      const double ink = 1.0 - scratch.at(sx, sy).r / 255.0;
      image.blend(left + sy, top + (width - 1 - sx), color, ink);
    }
  }
}

}  // namespace vae_cnn
