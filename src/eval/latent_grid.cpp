// Computed as -range + 2·range·i/(n-1) rather than by repeated addition, so both ends are exact.
#include "vae_cnn/eval/latent_grid.hpp"

namespace vae_cnn {

std::vector<double> manifold_axis(int n, double range) {
  std::vector<double> values(static_cast<std::size_t>(n > 0 ? n : 0));
  for (int i = 0; i < n; ++i) values[static_cast<std::size_t>(i)] = n == 1 ? 0.0 : -range + 2.0 * range * i / (n - 1);
  return values;
}

}  // namespace vae_cnn
