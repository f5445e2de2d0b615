// stb_truetype rasterises each glyph to an 8-bit coverage bitmap, which is blended onto the
// canvas as alpha: anti-aliased text without a font engine to install.
#define STB_TRUETYPE_IMPLEMENTATION
#include <stb_truetype.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/render/font.hpp"

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

std::uint32_t big_endian_u32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

// stb_truetype trusts the table directory and reads wherever it points, so a truncated or damaged
// font file made `plot` read past the buffer (and crash). Every table must lie inside the file and
// add up to its recorded checksum (TrueType's sum of big-endian words; the head table counts its
// checkSumAdjustment field as 0). Returns what is wrong, or "" when nothing is.
std::string font_table_problem(const std::vector<unsigned char>& data) {
  if (data.size() < 12) return "truncated (no table directory)";
  const std::size_t tables = (std::size_t{data[4]} << 8) | data[5];
  if (tables == 0 || data.size() < 12 + 16 * tables) return "truncated (table directory cut short)";
  for (std::size_t t = 0; t < tables; ++t) {
    const unsigned char* record = data.data() + 12 + 16 * t;
    const std::string tag(reinterpret_cast<const char*>(record), 4);
    const std::uint64_t offset = big_endian_u32(record + 8), length = big_endian_u32(record + 12);
    if (offset + length > data.size()) {
      return "truncated or damaged: table '" + tag + "' reaches byte " + std::to_string(offset + length) + " of " +
             std::to_string(data.size());
    }
    std::uint32_t sum = 0;
    for (std::uint64_t i = 0; i < length; i += 4) {
      unsigned char word[4] = {0, 0, 0, 0};
      for (std::uint64_t k = 0; k < 4 && i + k < length; ++k) {
        const bool adjustment = tag == "head" && i + k >= 8 && i + k < 12;
        word[k] = adjustment ? 0 : data[offset + i + k];
      }
      sum += big_endian_u32(word);
    }
    if (sum != big_endian_u32(record + 4)) return "damaged: table '" + tag + "' does not match its checksum";
  }
  return "";
}

}  // namespace

struct Font::State {
  std::vector<unsigned char> data;
  stbtt_fontinfo info{};
};

Font::Font(const std::string& path) : state_(std::make_unique<State>()) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot open the font file");
  state_->data.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  const std::string problem = font_table_problem(state_->data);
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
  const std::string path = override_path && *override_path ? override_path : kDejaVuSans;
  std::ifstream probe(path);
  if (!probe) {
    throw DataError(path, "DejaVu Sans not found; install fonts-dejavu-core (scripts/install_deps.sh) or set VAE_CNN_FONT");
  }
  return Font(path);
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
