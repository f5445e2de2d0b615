// The latent-space scatter (vae_mean.png): points coloured by digit, with axes, ticks and legend.
#pragma once

#include <string>
#include <vector>

#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

struct ScatterPoint {
  double x = 0, y = 0;
  int label = 0;  ///< 0..K-1, K the number of class names (0 when there are none)
};

/// "0".."9": MNIST's classes, the scatter's default.
std::vector<std::string> digit_names();

struct ScatterOptions {
  double range = 4.0;              ///< axes from -range to +range
  std::string title;
  std::string x_title = "z[0]";
  std::string y_title = "z[1]";
  int size = 900;                  ///< height in pixels; the legend adds width
  int annotate_every = 0;          ///< > 0: about one point in k (a hashed pick) also gets its digit beside it
  std::string warning;             ///< when set, written across the top of the plot area
  /// A latent of one dimension: y is not drawn; each class gets a row of its own (spread a little
  /// within it, so that points do not hide each other) and the y axis names the classes.
  bool rows_by_digit = false;
  /// The classes by label, named in the legend, the rows and the annotations; empty: the images
  /// have no labels, and every point is drawn in one colour without a legend.
  std::vector<std::string> class_names = digit_names();
  std::string legend_title = "digit";
};

/// The most classes the legend names one by one; the rest are counted.
constexpr int kLegendClasses = 20;

/// Paul Tol's colour-blind-safe "muted" qualitative palette, extended to ten classes; labels from 10
/// on take the colours again (the legend says which is which).
Rgb class_colour(int label);

/// Draws the scatter; points outside the range are left out and counted in a note under the plot.
/// `outside` receives that count when given.
Image latent_scatter(const std::vector<ScatterPoint>& points, const ScatterOptions& options, const Font& font,
                     int* outside = nullptr);

}  // namespace vae_cnn
