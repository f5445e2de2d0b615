// Layout: title on top, y-axis title turned on the left, plot area with a light grid at the ticks,
// legend in the plot's top-right corner where loss curves (falling) leave room.
#include "vae_cnn/render/line_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <stdexcept>

#include "vae_cnn/render/chart_style.hpp"
#include "vae_cnn/render/title_text.hpp"

namespace vae_cnn {
namespace {

constexpr Rgb kChartGridLine{228, 228, 228};

std::string tick_text(double value, double step) {
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step) - 1e-9));
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, std::abs(value) < step * 1e-6 ? 0.0 : value);
  return with_minus_sign(text);
}

}  // namespace

std::vector<double> nice_ticks(double low, double high, int target, double min_step) {
  if (!std::isfinite(low) || !std::isfinite(high)) return {};
  if (high < low) std::swap(low, high);
  if (high - low < 1e-12) {
    const double pad = std::max(std::abs(low) * 0.05, 0.5);
    low -= pad;
    high += pad;
  }
  const double rough = (high - low) / std::max(1, target - 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(rough)));
  double step = magnitude;
  for (const double factor : {1.0, 2.0, 5.0, 10.0}) {
    step = factor * magnitude;
    if (step >= rough) break;
  }
  step = std::max(step, min_step);
  std::vector<double> ticks;
  const double first = std::floor(low / step + 1e-9);
  for (int i = 0; i < 1000; ++i) {
    const double v = (first + i) * step;  // multiplied, not summed, so no error builds up
    ticks.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
    if (v >= high - step * 1e-9) break;
  }
  return ticks;
}

std::vector<ChartPoint> points_to_draw(const std::vector<double>& x, const std::vector<double>& values, int columns) {
  std::vector<ChartPoint> points;
  const std::size_t n = std::min(x.size(), values.size());
  if (n <= 2 * static_cast<std::size_t>(std::max(columns, 1))) {
    for (std::size_t i = 0; i < n; ++i) points.push_back({x[i], std::isfinite(values[i]) ? values[i] : NAN});
    return points;
  }
  const double low = x.front(), span = std::max(x.back() - x.front(), 1e-300);
  const auto column_of = [&](std::size_t i) {
    return std::clamp(static_cast<long>(std::floor((x[i] - low) / span * columns)), 0L, static_cast<long>(columns) - 1);
  };
  constexpr std::size_t kNone = SIZE_MAX;
  for (std::size_t begin = 0; begin < n;) {
    const long column = column_of(begin);
    std::size_t end = begin, first = kNone, lowest = kNone, highest = kNone, last = kNone, gap = kNone;
    for (; end < n && column_of(end) == column; ++end) {
      if (!std::isfinite(values[end])) {
        if (gap == kNone) gap = end;
        continue;
      }
      if (first == kNone) first = end;
      if (lowest == kNone || values[end] < values[lowest]) lowest = end;
      if (highest == kNone || values[end] > values[highest]) highest = end;
      last = end;
    }
    std::size_t chosen[] = {first, lowest, highest, last, gap};
    std::sort(std::begin(chosen), std::end(chosen));
    for (std::size_t k = 0; k < 5; ++k) {
      if (chosen[k] == kNone || (k > 0 && chosen[k] == chosen[k - 1])) continue;
      points.push_back({x[chosen[k]], chosen[k] == gap ? NAN : values[chosen[k]]});
    }
    begin = end;
  }
  return points;
}

namespace {

// The finite values of all series, low and high; 0, 0 when there are none.
std::pair<double, double> value_range(const std::vector<double>& x, const std::vector<ChartSeries>& series) {
  double low = INFINITY, high = -INFINITY;
  for (const auto& s : series) {
    if (s.values.size() != x.size()) {
      throw std::invalid_argument("line_chart: series '" + s.name + "' has " + std::to_string(s.values.size()) +
                                  " values for " + std::to_string(x.size()) + " x values");
    }
    for (const double v : s.values) {
      if (!std::isfinite(v)) continue;
      low = std::min(low, v);
      high = std::max(high, v);
    }
  }
  return std::isfinite(low) ? std::make_pair(low, high) : std::make_pair(0.0, 0.0);
}

// The plot area in pixels and the ticks that span it.
struct ChartFrame {
  std::vector<double> x_ticks, y_ticks;
  double x_step, y_step, x0, x1, y0, y1;
  double text, left, top, right, bottom;
  double x(double v) const { return left + (v - x0) / (x1 - x0) * (right - left); }
  double y(double v) const { return bottom - (v - y0) / (y1 - y0) * (bottom - top); }
};

ChartFrame chart_frame(const std::vector<double>& x, const std::vector<ChartSeries>& series, const ChartOptions& options,
                       const Font& font) {
  ChartFrame f;
  const auto [y_low, y_high] = value_range(x, series);
  const auto x_range = std::minmax_element(x.begin(), x.end());
  f.x_ticks = nice_ticks(*x_range.first, *x_range.second, 8, options.x_min_step);
  f.y_ticks = nice_ticks(y_low, y_high, 7);
  f.x_step = f.x_ticks.size() > 1 ? f.x_ticks[1] - f.x_ticks[0] : 1.0;
  f.y_step = f.y_ticks.size() > 1 ? f.y_ticks[1] - f.y_ticks[0] : 1.0;
  f.x0 = f.x_ticks.front();
  f.x1 = f.x_ticks.back() > f.x0 ? f.x_ticks.back() : f.x0 + 1;
  f.y0 = f.y_ticks.front();
  f.y1 = f.y_ticks.back() > f.y0 ? f.y_ticks.back() : f.y0 + 1;
  f.text = options.height / 40.0;
  double widest_label = 0;
  for (const double v : f.y_ticks) widest_label = std::max(widest_label, font.text_width(tick_text(v, f.y_step), f.text));
  f.left = f.text * 2.6 + widest_label;
  f.top = f.text * 3.0;
  f.right = options.width - f.text * 1.5;
  f.bottom = options.height - f.text * 4.0;
  return f;
}

void draw_axes(Image& image, const ChartFrame& f, const Font& font) {
  const double text = f.text;
  for (const double v : f.x_ticks) {
    image.draw_line(f.x(v), f.top, f.x(v), f.bottom, kChartGridLine, 1.0);
    image.draw_line(f.x(v), f.bottom, f.x(v), f.bottom + text * 0.4, kInk, 1.2);
    font.draw(image, f.x(v), f.bottom + text * 1.5, tick_text(v, f.x_step), text, kInk, Anchor::kCenter);
  }
  for (const double v : f.y_ticks) {
    image.draw_line(f.left, f.y(v), f.right, f.y(v), kChartGridLine, 1.0);
    image.draw_line(f.left - text * 0.4, f.y(v), f.left, f.y(v), kInk, 1.2);
    font.draw(image, f.left - text * 0.6, f.y(v) + text * 0.35, tick_text(v, f.y_step), text, kInk, Anchor::kRight);
  }
  image.stroke_rect(f.left, f.top, f.right, f.bottom, kInk, 1.2);
}

void draw_series(Image& image, const ChartFrame& f, const std::vector<double>& x, const ChartSeries& s, double marker) {
  const int columns = std::max(1, static_cast<int>(f.right - f.left));
  const auto points = points_to_draw(x, s.values, columns);
  const bool markers = x.size() <= 2 * static_cast<std::size_t>(columns);  // every point drawn (points_to_draw)
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!std::isfinite(points[i].y)) continue;
    if (i + 1 < points.size() && std::isfinite(points[i + 1].y)) {
      image.draw_line(f.x(points[i].x), f.y(points[i].y), f.x(points[i + 1].x), f.y(points[i + 1].y), s.colour, 2.0);
    }
    if (markers) image.fill_circle(f.x(points[i].x), f.y(points[i].y), marker, s.colour);
  }
}

void draw_legend(Image& image, const ChartFrame& f, const std::vector<ChartSeries>& series, double marker,
                 const Font& font) {
  const double text = f.text;
  double legend_width = 0;
  for (const auto& s : series) legend_width = std::max(legend_width, font.text_width(s.name, text));
  const double legend_x = f.right - legend_width - text * 3.2, legend_top = f.top + text * 0.6;
  image.fill_rect(static_cast<int>(legend_x - text * 0.5), static_cast<int>(legend_top),
                  static_cast<int>(f.right - text * 0.5),
                  static_cast<int>(legend_top + text * (0.6 + 1.6 * series.size())), {255, 255, 255}, 0.9);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const double y = legend_top + text * (1.5 + 1.6 * static_cast<double>(i));
    image.draw_line(legend_x, y - text * 0.35, legend_x + text * 1.8, y - text * 0.35, series[i].colour, 2.0);
    image.fill_circle(legend_x + text * 0.9, y - text * 0.35, marker, series[i].colour);
    font.draw(image, legend_x + text * 2.3, y, series[i].name, text, kInk);
  }
}

}  // namespace

Image line_chart(const std::vector<double>& x, const std::vector<ChartSeries>& series, const ChartOptions& options,
                 const Font& font) {
  if (x.empty()) throw std::invalid_argument("line_chart: no x values");
  const ChartFrame f = chart_frame(x, series, options, font);
  Image image(options.width, options.height);
  draw_axes(image, f, font);
  const double marker = std::max(2.0, f.text * 0.22);
  for (const auto& s : series) draw_series(image, f, x, s, marker);
  draw_legend(image, f, series, marker, font);
  const double text = f.text;
  draw_title(image, font, (f.left + f.right) / 2, f.top - text * 1.1, options.title, text * 1.2);
  font.draw(image, (f.left + f.right) / 2, f.bottom + text * 3.2, options.x_title, text * 1.1, kInk, Anchor::kCenter);
  font.draw_vertical(image, text * 1.0, (f.top + f.bottom) / 2, options.y_title, text * 1.1, kInk);
  return image;
}

}  // namespace vae_cnn
