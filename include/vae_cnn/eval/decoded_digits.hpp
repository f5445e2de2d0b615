// Images out of the model as 8-bit grey digits: the manifold, reconstructions and samples.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <vector>

#include "vae_cnn/model/conv_vae.hpp"

namespace vae_cnn {

/// Rows of the manifold: `grid` over the latent plane, 1 (along z[0]) for a latent of one dimension.
int manifold_rows(int grid, std::int64_t latent_dim);

/// [rows·grid, latent] points in the order the manifold is drawn: row 0 (top) holds z[1] = +range,
/// column 0 holds z[0] = -range; the other latent dimensions are 0.
torch::Tensor manifold_latents(int grid, double range, std::int64_t latent_dim);

/// [n, latent] draws from N(0, I) of a generator seeded with `seed`: the same seed, the same points.
torch::Tensor standard_normal_latents(std::int64_t n, std::int64_t latent_dim, std::uint64_t seed);

/// Images [N,1,28,28] (any device) with values in [0,1] as bytes round(v·255), image after image.
std::vector<std::uint8_t> image_bytes(const torch::Tensor& images);

/// Decodes z [N,latent] in batches, without gradients, in eval mode; image_bytes of the result.
std::vector<std::uint8_t> decode_to_bytes(ConvVae& model, const torch::Tensor& z, std::int64_t batch_size = 1024);

/// Decodes each image's latent mean: the deterministic reconstruction [N,1,28,28] in [0,1].
torch::Tensor reconstruct_from_mean(ConvVae& model, const torch::Tensor& images);

/// `steps` (at least 2) evenly spaced points on the straight line from `from` to `to` ([latent]
/// each), both ends included: [steps, latent].
torch::Tensor latent_line(const torch::Tensor& from, const torch::Tensor& to, std::int64_t steps);

/// The digits of an interpolation between two images [1,28,28]: the first image, the decoded
/// latent_line between their latent means (`steps` digits), the second image; bytes as image_bytes.
std::vector<std::uint8_t> interpolation_digits(ConvVae& model, const torch::Tensor& first, const torch::Tensor& second,
                                               std::int64_t steps);

}  // namespace vae_cnn
