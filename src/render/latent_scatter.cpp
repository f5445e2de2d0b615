// Layout: title on top, square plot area with ticks at every integer, legend to the right,
// a note under the x-axis title when points fell outside the range.
#include "vae_cnn/render/latent_scatter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>

#include "vae_cnn/data/class_names.hpp"
#include "vae_cnn/render/chart_style.hpp"
#include "vae_cnn/render/title_text.hpp"

namespace vae_cnn {
namespace {

constexpr Rgb kScatterGridLine{225, 225, 225};

std::string tick_text(double value) {
  char text[16];
  std::snprintf(text, sizeof text, "%g", value);
  return with_minus_sign(text);
}

// splitmix64's finaliser: neighbouring indices land far apart.
std::uint64_t mixed_index(std::uint64_t i) {
  i += 0x9E3779B97F4A7C15ull;
  i = (i ^ (i >> 30)) * 0xBF58476D1CE4E5B9ull;
  i = (i ^ (i >> 27)) * 0x94D049BB133111EBull;
  return i ^ (i >> 31);
}

// The square plot area in pixels and the latent range it shows.
struct ScatterFrame {
  int left, top, plot;
  double text, range;
  bool rows_by_digit = false;
  int rows = 10;  ///< rows_by_digit: one per class (one when there are no labels)
  double x(double v) const { return left + (v + range) / (2 * range) * plot; }
  double y(double v) const { return top + (range - v) / (2 * range) * plot; }
  // Digit 0 on top; `spread` in [-0.5, 0.5) moves a point within its row.
  double row_y(int label, double spread) const { return top + (label + 0.5 + 0.7 * spread) / rows * plot; }
  // Where point `index` is drawn.
  double point_y(const ScatterPoint& p, std::size_t index) const;
};

double ScatterFrame::point_y(const ScatterPoint& p, std::size_t index) const {
  if (!rows_by_digit) return y(p.y);
  const double spread = static_cast<double>(mixed_index(index) % 1024) / 1024.0 - 0.5;
  return row_y(std::clamp(p.label, 0, rows - 1), spread);
}

// Ticks at every integer for the ranges a latent space has (±4 by default); for wider ones a step
// of 1, 2 or 5 times a power of ten, so that no range draws more than about 20 of them.
double tick_step(double range) {
  if (range <= 10) return 1.0;
  const double raw = 2 * range / 10, power = std::pow(10.0, std::floor(std::log10(raw)));
  for (const double multiple : {1.0, 2.0, 5.0}) {
    if (raw <= multiple * power) return multiple * power;
  }
  return 10 * power;
}

// A class name short enough for the legend and the rows: at most 14 characters, then an ellipsis.
std::string short_name(const std::string& name) {
  constexpr std::size_t kMostShown = 14;
  if (name.size() <= kMostShown) return name;
  std::size_t cut = kMostShown - 1;
  while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
  return name.substr(0, cut) + "\u2026";
}

std::string class_text(const std::vector<std::string>& names, int label) {
  return label >= 0 && static_cast<std::size_t>(label) < names.size() ? short_name(names[label]) : "";
}

void draw_grid(Image& image, const ScatterFrame& f, const std::vector<std::string>& names, const Font& font) {
  const double step = tick_step(f.range);
  for (double v = std::ceil(-f.range / step) * step; v <= f.range * (1 + 1e-12) + 1e-9; v += step) {
    image.draw_line(f.x(v), f.top, f.x(v), f.top + f.plot, kScatterGridLine, 1.0);
    image.draw_line(f.x(v), f.top + f.plot, f.x(v), f.top + f.plot + f.text * 0.4, kInk, 1.2);
    font.draw(image, f.x(v), f.top + f.plot + f.text * 1.5, tick_text(v), f.text, kInk, Anchor::kCenter);
    if (f.rows_by_digit) continue;
    image.draw_line(f.left, f.y(v), f.left + f.plot, f.y(v), kScatterGridLine, 1.0);
    image.draw_line(f.left - f.text * 0.4, f.y(v), f.left, f.y(v), kInk, 1.2);
    font.draw(image, f.left - f.text * 0.6, f.y(v) + f.text * 0.35, tick_text(v), f.text, kInk, Anchor::kRight);
  }
  if (!f.rows_by_digit) return;
  for (int label = 0; label < f.rows; ++label) {
    if (label > 0) image.draw_line(f.left, f.row_y(label, -0.5 / 0.7), f.left + f.plot, f.row_y(label, -0.5 / 0.7), kScatterGridLine, 1.0);
    image.draw_line(f.left - f.text * 0.4, f.row_y(label, 0), f.left, f.row_y(label, 0), kInk, 1.2);
    font.draw(image, f.left - f.text * 0.6, f.row_y(label, 0) + f.text * 0.35, class_text(names, label), f.text, kInk,
              Anchor::kRight);
  }
}

bool inside(const ScatterPoint& p, const ScatterFrame& f) {
  const bool x_inside = std::isfinite(p.x) && std::abs(p.x) <= f.range;
  return x_inside && (f.rows_by_digit || (std::isfinite(p.y) && std::abs(p.y) <= f.range));
}

// Returns how many points lie outside the range.
int draw_points(Image& image, const ScatterFrame& f, const std::vector<ScatterPoint>& points, double radius) {
  int left_out = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const auto& p = points[i];
    if (!inside(p, f)) {
      ++left_out;
      continue;
    }
    image.fill_circle(f.x(p.x), f.point_y(p, i), radius, class_colour(p.label), 0.55);
  }
  return left_out;
}

// Labels go on top of all points so none is hidden; a white halo keeps them legible on dense areas.
void draw_annotations(Image& image, const ScatterFrame& f, const std::vector<ScatterPoint>& points, int every,
                      double radius, const std::vector<std::string>& names, const Font& font) {
  for (std::size_t i = 0; i < points.size(); ++i) {
    // A hashed pick, not every k-th point: data sets ordered by class (ours cycle 0..9) would
    // otherwise label some digits only.
    if (mixed_index(i) % static_cast<std::uint64_t>(every) != 0) continue;
    const auto& p = points[i];
    if (!inside(p, f)) continue;
    const std::string digit = class_text(names, p.label);
    const double x = f.x(p.x) + radius + 1, y = f.point_y(p, i) - radius;
    for (const double dx : {-1.0, 1.0}) {
      for (const double dy : {-1.0, 1.0}) font.draw(image, x + dx, y + dy, digit, f.text * 0.8, {255, 255, 255});
    }
    const Rgb colour = class_colour(p.label);
    const Rgb darker{static_cast<std::uint8_t>(colour.r * 0.7), static_cast<std::uint8_t>(colour.g * 0.7),
                     static_cast<std::uint8_t>(colour.b * 0.7)};
    font.draw(image, x, y, digit, f.text * 0.8, darker);
  }
}

void draw_frame_titles_legend(Image& image, const ScatterFrame& f, const ScatterOptions& options, const Font& font) {
  const double text = f.text;
  const int left = f.left, top = f.top, plot = f.plot;
  image.draw_line(left, top, left + plot, top, kInk, 1.2);
  image.draw_line(left, top + plot, left + plot, top + plot, kInk, 1.2);
  image.draw_line(left, top, left, top + plot, kInk, 1.2);
  image.draw_line(left + plot, top, left + plot, top + plot, kInk, 1.2);
  draw_title(image, font, left + plot / 2.0, top - text * 1.0, options.title, text * 1.25);
  font.draw(image, left + plot / 2.0, top + plot + text * 3.0, options.x_title, text * 1.1, kInk, Anchor::kCenter);
  font.draw_vertical(image, text * 1.0, top + plot / 2.0, options.y_title, text * 1.1, kInk);
  const double legend_x = left + plot + text * 1.2;
  const int classes = static_cast<int>(options.class_names.size());
  if (classes == 0) return;
  font.draw(image, legend_x, top + text, options.legend_title, text, kInk);
  const int named = classes > kLegendClasses ? kLegendClasses - 1 : classes;
  for (int label = 0; label < named; ++label) {
    const double y = top + text * (2.6 + 1.6 * label);
    image.fill_circle(legend_x + text * 0.5, y - text * 0.35, text * 0.45, class_colour(label));
    font.draw(image, legend_x + text * 1.5, y, class_text(options.class_names, label), text, kInk);
  }
  if (named < classes) {
    font.draw(image, legend_x, top + text * (2.6 + 1.6 * named), "+" + std::to_string(classes - named) + " more", text,
              kInk);
  }
}

void draw_notes(Image& image, const ScatterFrame& f, const ScatterOptions& options, int left_out, std::size_t count,
                const Font& font) {
  const double text = f.text, middle = f.left + f.plot / 2.0;
  if (left_out > 0) {
    font.draw(image, middle, f.top + f.plot + text * 4.6,
              std::to_string(left_out) + " of " + std::to_string(count) + " points lie outside \u00b1" +
                  tick_text(f.range) + " and are not drawn",
              text * 0.9, {150, 40, 40}, Anchor::kCenter);
  }
  if (options.warning.empty()) return;
  const double warning_size = text * 0.9;
  const double width = font.text_width(options.warning, warning_size);
  image.fill_rect(static_cast<int>(middle - width / 2 - text * 0.4), static_cast<int>(f.top + text * 0.5),
                  static_cast<int>(middle + width / 2 + text * 0.4), static_cast<int>(f.top + text * 1.9),
                  {255, 255, 255}, 0.9);
  font.draw(image, middle, f.top + text * 1.5, options.warning, warning_size, {150, 40, 40}, Anchor::kCenter);
}

}  // namespace

std::vector<std::string> digit_names() { return numbered_class_names(10); }

Rgb class_colour(int label) {
  static const Rgb kPalette[10] = {{0x33, 0x22, 0x88}, {0x88, 0xCC, 0xEE}, {0x44, 0xAA, 0x99}, {0x11, 0x77, 0x33},
                                   {0x99, 0x99, 0x33}, {0xDD, 0xCC, 0x77}, {0xCC, 0x66, 0x77}, {0x88, 0x22, 0x55},
                                   {0xAA, 0x44, 0x99}, {0x55, 0x55, 0x55}};
  return kPalette[((label % 10) + 10) % 10];
}

Image latent_scatter(const std::vector<ScatterPoint>& points, const ScatterOptions& options, const Font& font,
                     int* outside) {
  const int size = options.size;
  const double text = size / 50.0;
  const int left = static_cast<int>(text * 4.5), top = static_cast<int>(text * 3);
  const int rows = std::max<int>(1, static_cast<int>(options.class_names.size()));
  const ScatterFrame frame{left, top, size - top - static_cast<int>(text * 5.5), text, options.range,
                           options.rows_by_digit, rows};
  // The legend's column fits its longest name (short_name keeps each to 14 characters).
  double legend_width = text * 6;
  for (int label = 0; label < std::min(rows, kLegendClasses); ++label) {
    legend_width = std::max(legend_width, text * 2.5 + font.text_width(class_text(options.class_names, label), text));
  }
  Image image(left + frame.plot + static_cast<int>(legend_width) + static_cast<int>(text), size);
  draw_grid(image, frame, options.class_names, font);
  const double radius = std::max(1.5, size / 400.0);
  const int left_out = draw_points(image, frame, points, radius);
  if (options.annotate_every > 0 && !options.class_names.empty()) {
    draw_annotations(image, frame, points, options.annotate_every, radius, options.class_names, font);
  }
  draw_frame_titles_legend(image, frame, options, font);
  draw_notes(image, frame, options, left_out, points.size(), font);
  if (outside != nullptr) *outside = left_out;
  return image;
}

}  // namespace vae_cnn
