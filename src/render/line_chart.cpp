// Layout: title on top, y-axis title turned on the left, plot area with a light grid at the ticks,
// legend in the plot's top-right corner where loss curves (falling) leave room.
#include "vae_cnn/render/line_chart.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "vae_cnn/render/chart_style.hpp"

namespace vae_cnn {
namespace {

constexpr Rgb kGrid{228, 228, 228};

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

Image line_chart(const std::vector<double>& x, const std::vector<ChartSeries>& series, const ChartOptions& options,
                 const Font& font) {
  if (x.empty()) throw std::invalid_argument("line_chart: no x values");
  double y_low = INFINITY, y_high = -INFINITY;
  for (const auto& s : series) {
    if (s.values.size() != x.size()) throw std::invalid_argument("line_chart: series '" + s.name + "' has " +
                                                                  std::to_string(s.values.size()) + " values for " +
                                                                  std::to_string(x.size()) + " x values");
    for (const double v : s.values) {
      if (!std::isfinite(v)) continue;
      y_low = std::min(y_low, v);
      y_high = std::max(y_high, v);
    }
  }
  if (!std::isfinite(y_low)) y_low = y_high = 0.0;
  const auto x_range = std::minmax_element(x.begin(), x.end());
  const auto x_ticks = nice_ticks(*x_range.first, *x_range.second, 8, options.x_min_step);
  const auto y_ticks = nice_ticks(y_low, y_high, 7);
  const double x_step = x_ticks.size() > 1 ? x_ticks[1] - x_ticks[0] : 1.0;
  const double y_step = y_ticks.size() > 1 ? y_ticks[1] - y_ticks[0] : 1.0;
  const double x0 = x_ticks.front(), x1 = x_ticks.back() > x0 ? x_ticks.back() : x0 + 1;
  const double y0 = y_ticks.front(), y1 = y_ticks.back() > y0 ? y_ticks.back() : y0 + 1;

  const double text = options.height / 40.0;
  double widest_label = 0;
  for (const double v : y_ticks) widest_label = std::max(widest_label, font.text_width(tick_text(v, y_step), text));
  const double left = text * 2.6 + widest_label, top = text * 3.0;
  const double right = options.width - text * 1.5, bottom = options.height - text * 4.0;
  Image image(options.width, options.height);
  auto to_x = [&](double v) { return left + (v - x0) / (x1 - x0) * (right - left); };
  auto to_y = [&](double v) { return bottom - (v - y0) / (y1 - y0) * (bottom - top); };

  for (const double v : x_ticks) {
    image.draw_line(to_x(v), top, to_x(v), bottom, kGrid, 1.0);
    image.draw_line(to_x(v), bottom, to_x(v), bottom + text * 0.4, kInk, 1.2);
    font.draw(image, to_x(v), bottom + text * 1.5, tick_text(v, x_step), text, kInk, Anchor::kCenter);
  }
  for (const double v : y_ticks) {
    image.draw_line(left, to_y(v), right, to_y(v), kGrid, 1.0);
    image.draw_line(left - text * 0.4, to_y(v), left, to_y(v), kInk, 1.2);
    font.draw(image, left - text * 0.6, to_y(v) + text * 0.35, tick_text(v, y_step), text, kInk, Anchor::kRight);
  }
  image.stroke_rect(left, top, right, bottom, kInk, 1.2);

  const double marker = std::max(2.0, text * 0.22);
  for (const auto& s : series) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      if (!std::isfinite(s.values[i])) continue;
      if (i + 1 < x.size() && std::isfinite(s.values[i + 1])) {
        image.draw_line(to_x(x[i]), to_y(s.values[i]), to_x(x[i + 1]), to_y(s.values[i + 1]), s.colour, 2.0);
      }
      image.fill_circle(to_x(x[i]), to_y(s.values[i]), marker, s.colour);
    }
  }

  double legend_width = 0;
  for (const auto& s : series) legend_width = std::max(legend_width, font.text_width(s.name, text));
  const double legend_x = right - legend_width - text * 3.2, legend_top = top + text * 0.6;
  image.fill_rect(static_cast<int>(legend_x - text * 0.5), static_cast<int>(legend_top),
                  static_cast<int>(right - text * 0.5), static_cast<int>(legend_top + text * (0.6 + 1.6 * series.size())),
                  {255, 255, 255}, 0.9);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const double y = legend_top + text * (1.5 + 1.6 * static_cast<double>(i));
    image.draw_line(legend_x, y - text * 0.35, legend_x + text * 1.8, y - text * 0.35, series[i].colour, 2.0);
    image.fill_circle(legend_x + text * 0.9, y - text * 0.35, marker, series[i].colour);
    font.draw(image, legend_x + text * 2.3, y, series[i].name, text, kInk);
  }

  font.draw(image, (left + right) / 2, top - text * 1.1, options.title, text * 1.2, kInk, Anchor::kCenter);
  font.draw(image, (left + right) / 2, bottom + text * 3.2, options.x_title, text * 1.1, kInk, Anchor::kCenter);
  font.draw_vertical(image, text * 1.0, (top + bottom) / 2, options.y_title, text * 1.1, kInk);
  return image;
}

}  // namespace vae_cnn
