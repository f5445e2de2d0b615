// The manifold picture (digits_over_latent.png): decoded digits on a grid over the latent plane.
#pragma once

#include <cstdint>
#include <vector>

#include "vae_cnn/eval/latent_grid.hpp"
#include "vae_cnn/model/image_shape.hpp"
#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

/// Draws `rows`×`grid` digits of shape `digit` (the model's; row-major as shown: row 0 on top holds
/// z[1] = +range, column 0 holds z[0] = -range; each as image_bytes gives it, 0 = black), grey ones
/// white on black, with ticks at digit centres labelled with their z values to one decimal, axis
/// titles and a title. `rows` is `grid` for the latent plane, or 1 for a latent of one dimension:
/// one row along z[0], with no z[1] axis.
Image digit_manifold(const std::vector<std::uint8_t>& digits, const ImageShape& digit, int grid, int rows, double range,
                     const std::string& title, const Font& font);

/// The top-left pixel of cell (row, column) in a digit_manifold picture of `grid` × `grid` digits of
/// shape `digit` (the model's default shape unless given).
PixelPoint manifold_cell(int grid, int row, int column, const ImageShape& digit = ImageShape{});

}  // namespace vae_cnn
