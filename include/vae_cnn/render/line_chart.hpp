// A line chart of a few series over a shared x axis (loss.png): axes, "nice" ticks, legend.
#pragma once

#include <string>
#include <vector>

#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

struct ChartSeries {
  std::string name;
  Rgb colour;
  std::vector<double> values;  ///< one per x; non-finite values leave a gap
};

struct ChartOptions {
  std::string title;
  std::string x_title;
  std::string y_title;
  int width = 960;
  int height = 600;
  double x_min_step = 0.0;  ///< 1 keeps ticks on whole numbers
};

/// About `target` round tick values (steps of 1, 2 or 5 times a power of ten) covering [low, high].
/// Never closer than `min_step` (1 for a whole-number axis such as epochs).
std::vector<double> nice_ticks(double low, double high, int target = 6, double min_step = 0.0);

struct ChartPoint {
  double x, y;
};

/// The points of one series (`values` over `x`, x ascending) as a chart `columns` pixels wide draws
/// them: every point when there are at most 2·columns of them; else, per column, its first, lowest,
/// highest and last finite points and its first non-finite one (as y = NaN, which breaks the line),
/// in x order, so the work of drawing is bounded by the width and no peak is lost.
std::vector<ChartPoint> points_to_draw(const std::vector<double>& x, const std::vector<double>& values, int columns);

/// Draws every series as a line (points_to_draw) with a marker at each point when all are drawn; throws std::invalid_argument when a
/// series' length differs from x's or x is empty.
Image line_chart(const std::vector<double>& x, const std::vector<ChartSeries>& series, const ChartOptions& options,
                 const Font& font);

}  // namespace vae_cnn
