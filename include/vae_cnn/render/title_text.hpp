// Titles that stay inside their picture: a data set's folder name can make one longer than the
// picture is wide, and a centred title then lost both ends.
#pragma once

#include <string>

#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

/// Draws `title` centred on `centre_x` (moved inward as needed) at `baseline`, `size` pixels high;
/// one too wide for the picture is drawn smaller (down to 70 %), and beyond that cut at the end
/// with an ellipsis, always half a line height from either edge.
void draw_title(Image& image, const Font& font, double centre_x, double baseline, const std::string& title, double size);

}  // namespace vae_cnn
