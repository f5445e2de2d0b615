// Coverage-based anti-aliasing: each pixel takes the colour in proportion to how much of it the
// shape covers, estimated from the distance of its centre to the shape's edge.
#include "vae_cnn/render/image.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "vae_cnn/render/png.hpp"

namespace vae_cnn {
namespace {

double coverage_from_distance(double signed_distance) {
  // Distance of the pixel centre outside the edge, in pixels: -0.5 fully in, +0.5 fully out.
  return std::clamp(0.5 - signed_distance, 0.0, 1.0);
}

}  // namespace

Image::Image(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width <= 0 || height <= 0 || width > 16384 || height > 16384) {
    throw std::invalid_argument("Image: size " + std::to_string(width) + "x" + std::to_string(height) +
                                " is outside 1..16384");
  }
  rgb_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  for (std::size_t i = 0; i < rgb_.size(); i += 3) {
    rgb_[i] = background.r;
    rgb_[i + 1] = background.g;
    rgb_[i + 2] = background.b;
  }
}

Rgb Image::at(int x, int y) const {
  const std::size_t i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
  return {rgb_[i], rgb_[i + 1], rgb_[i + 2]};
}

void Image::blend(int x, int y, Rgb color, double alpha) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_ || alpha <= 0) return;
  alpha = std::min(alpha, 1.0);
  const std::size_t i = (static_cast<std::size_t>(y) * static_cast<std::size_t>(width_) + static_cast<std::size_t>(x)) * 3;
  const std::uint8_t channels[3] = {color.r, color.g, color.b};
  for (int c = 0; c < 3; ++c) {
    const double mixed = rgb_[i + c] * (1.0 - alpha) + channels[c] * alpha;
    rgb_[i + c] = static_cast<std::uint8_t>(std::lround(mixed));
  }
}

void Image::fill_rect(int x0, int y0, int x1, int y1, Rgb color, double alpha) {
  for (int y = std::max(0, y0); y < std::min(height_, y1); ++y) {
    for (int x = std::max(0, x0); x < std::min(width_, x1); ++x) blend(x, y, color, alpha);
  }
}

void Image::fill_circle(double cx, double cy, double radius, Rgb color, double alpha) {
  const int x0 = static_cast<int>(std::floor(cx - radius - 1));
  const int x1 = static_cast<int>(std::ceil(cx + radius + 1));
  const int y0 = static_cast<int>(std::floor(cy - radius - 1));
  const int y1 = static_cast<int>(std::ceil(cy + radius + 1));
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) {
      const double distance = std::hypot(x + 0.5 - cx, y + 0.5 - cy) - radius;
      blend(x, y, color, alpha * coverage_from_distance(distance));
    }
  }
}

void Image::draw_line(double x0, double y0, double x1, double y1, Rgb color, double width, double alpha) {
  const double dx = x1 - x0;
  const double dy = y1 - y0;
  const double length_squared = dx * dx + dy * dy;
  const double half = width / 2.0;
  const int left = static_cast<int>(std::floor(std::min(x0, x1) - half - 1));
  const int right = static_cast<int>(std::ceil(std::max(x0, x1) + half + 1));
  const int top = static_cast<int>(std::floor(std::min(y0, y1) - half - 1));
  const int bottom = static_cast<int>(std::ceil(std::max(y0, y1) + half + 1));
  for (int y = top; y <= bottom; ++y) {
    for (int x = left; x <= right; ++x) {
      const double px = x + 0.5, py = y + 0.5;
      const double t = length_squared > 0 ? std::clamp(((px - x0) * dx + (py - y0) * dy) / length_squared, 0.0, 1.0) : 0.0;
      const double distance = std::hypot(px - (x0 + t * dx), py - (y0 + t * dy)) - half;
      blend(x, y, color, alpha * coverage_from_distance(distance));
    }
  }
}

void Image::fill_triangle(double x0, double y0, double x1, double y1, double x2, double y2, Rgb color,
                          double alpha) {
  const double xs[3] = {x0, x1, x2}, ys[3] = {y0, y1, y2};
  // Orientation decides which side of each edge is inside.
  const double orientation = (x1 - x0) * (y2 - y0) - (y1 - y0) * (x2 - x0) > 0 ? 1.0 : -1.0;
  const int left = static_cast<int>(std::floor(std::min({x0, x1, x2}) - 1));
  const int right = static_cast<int>(std::ceil(std::max({x0, x1, x2}) + 1));
  const int top = static_cast<int>(std::floor(std::min({y0, y1, y2}) - 1));
  const int bottom = static_cast<int>(std::ceil(std::max({y0, y1, y2}) + 1));
  for (int y = top; y <= bottom; ++y) {
    for (int x = left; x <= right; ++x) {
      const double px = x + 0.5, py = y + 0.5;
      // The largest signed distance outside any edge approximates the distance to a convex shape.
      double outside = -1e9;
      for (int e = 0; e < 3; ++e) {
        const double ax = xs[e], ay = ys[e], bx = xs[(e + 1) % 3], by = ys[(e + 1) % 3];
        const double length = std::hypot(bx - ax, by - ay);
        if (length <= 0) continue;
        const double cross = ((bx - ax) * (py - ay) - (by - ay) * (px - ax)) / length;
        outside = std::max(outside, -orientation * cross);
      }
      blend(x, y, color, alpha * coverage_from_distance(outside));
    }
  }
}

void Image::stroke_rect(double x0, double y0, double x1, double y1, Rgb color, double width) {
  draw_line(x0, y0, x1, y0, color, width);
  draw_line(x1, y0, x1, y1, color, width);
  draw_line(x1, y1, x0, y1, color, width);
  draw_line(x0, y1, x0, y0, color, width);
}

void Image::draw_gray(int x, int y, int gray_width, int gray_height, const std::uint8_t* gray, int scale) {
  for (int gy = 0; gy < gray_height * scale; ++gy) {
    for (int gx = 0; gx < gray_width * scale; ++gx) {
      const std::uint8_t v = gray[(gy / scale) * gray_width + gx / scale];
      blend(x + gx, y + gy, {v, v, v}, 1.0);
    }
  }
}

void Image::save_png(const std::string& path) const { write_png(path, width_, height_, 3, rgb_); }

}  // namespace vae_cnn
