// The latent points of the manifold picture, shared by the decoding (eval) and the drawing (render).
#pragma once

#include <vector>

namespace vae_cnn {

/// The grid's z values along one axis: n points evenly from -range to +range (0 when n is 1).
std::vector<double> manifold_axis(int n, double range);

}  // namespace vae_cnn
