// The latent-space scatter (vae_mean.png): points coloured by digit, with axes, ticks and legend.
#pragma once

#include <string>
#include <vector>

#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

struct ScatterPoint {
  double x = 0, y = 0;
  int label = 0;  ///< 0..9
};

struct ScatterOptions {
  double range = 4.0;              ///< axes from -range to +range
  std::string title;
  std::string x_title = "z[0]";
  std::string y_title = "z[1]";
  int size = 900;                  ///< height in pixels; the legend adds width
  int annotate_every = 0;          ///< > 0: about one point in k (a hashed pick) also gets its digit beside it
  std::string warning;             ///< when set, written across the top of the plot area
  /// A latent of one dimension: y is not drawn; each digit gets a row of its own (spread a little
  /// within it, so that points do not hide each other) and the y axis names the digits.
  bool rows_by_digit = false;
};

/// Paul Tol's colour-blind-safe "muted" qualitative palette, extended to ten classes.
Rgb class_colour(int label);

/// Draws the scatter; points outside the range are left out and counted in a note under the plot.
/// `outside` receives that count when given.
Image latent_scatter(const std::vector<ScatterPoint>& points, const ScatterOptions& options, const Font& font,
                     int* outside = nullptr);

}  // namespace vae_cnn
