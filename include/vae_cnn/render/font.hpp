// Text on an Image through stb_truetype, with DejaVu Sans from Debian's fonts-dejavu-core.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

/// Where a text's anchor point lies on the text's box.
enum class Anchor { kLeft, kCenter, kRight };

class Font {
 public:
  /// Loads a TrueType file; throws DataError naming the file when it is missing or not a font.
  explicit Font(const std::string& path);
  ~Font();
  Font(Font&&) noexcept;
  Font& operator=(Font&&) noexcept;

  /// DejaVu Sans: $VAE_CNN_FONT if set, else the fonts-dejavu-core file; the error says how to get it.
  static Font load_default();

  /// Width in pixels of `text` at `pixel_height`.
  double text_width(const std::string& text, double pixel_height) const;

  /// Draws `text` with its baseline at y and its anchor (left, centre or right) at x.
  void draw(Image& image, double x, double y, const std::string& text, double pixel_height, Rgb color,
            Anchor anchor = Anchor::kLeft) const;

  /// Draws `text` turned 90° anticlockwise (for a y-axis title), centred on (x, y).
  void draw_vertical(Image& image, double x, double y, const std::string& text, double pixel_height, Rgb color) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vae_cnn
