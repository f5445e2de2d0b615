// A small RGB canvas with the drawing primitives the charts need; all drawing is anti-aliased by
// coverage so points and lines read well at any density.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& other) const { return r == other.r && g == other.g && b == other.b; }
};

/// A pixel position: where a cell of a picture starts, for instance.
struct PixelPoint {
  int x = 0, y = 0;
};

/// width × height RGB pixels, rows top to bottom.
class Image {
 public:
  Image(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<std::uint8_t>& bytes() const { return rgb_; }

  /// The pixel at (x, y); both must be inside.
  Rgb at(int x, int y) const;
  /// Mixes `color` into (x, y) with opacity `alpha` in [0,1]; outside pixels are ignored.
  void blend(int x, int y, Rgb color, double alpha);

  /// Fills [x0,x1) × [y0,y1), clipped to the canvas.
  void fill_rect(int x0, int y0, int x1, int y1, Rgb color, double alpha = 1.0);
  /// A disc centred at (cx, cy) with anti-aliased edge.
  void fill_circle(double cx, double cy, double radius, Rgb color, double alpha = 1.0);
  /// A line of the given width with anti-aliased edges.
  void draw_line(double x0, double y0, double x1, double y1, Rgb color, double width = 1.0, double alpha = 1.0);
  /// A filled triangle with anti-aliased edges (arrowheads, markers).
  void fill_triangle(double x0, double y0, double x1, double y1, double x2, double y2, Rgb color, double alpha = 1.0);
  /// The outline of [x0,x1] × [y0,y1] drawn with lines of the given width.
  void stroke_rect(double x0, double y0, double x1, double y1, Rgb color, double width = 1.0);
  /// Copies a grey image (0 = black) scaled by an integer factor with its top-left at (x, y).
  void draw_gray(int x, int y, int gray_width, int gray_height, const std::uint8_t* gray, int scale = 1);

  /// Writes the canvas as PNG, atomically; throws WriteError.
  void save_png(const std::string& path) const;

 private:
  int width_;
  int height_;
  std::vector<std::uint8_t> rgb_;
};

}  // namespace vae_cnn
