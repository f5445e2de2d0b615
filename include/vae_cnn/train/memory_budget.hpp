// Whether a training run fits in the memory left, decided before the first batch.
#pragma once

#include <cstdint>
#include <optional>

namespace vae_cnn {

/// Memory one training step takes beyond the data already loaded: activations and their gradients
/// for `batch_images`, and parameters, gradients and two optimizer moments for `parameters`.
std::uint64_t estimated_training_bytes(std::int64_t batch_images, std::int64_t parameters);

/// Throws ResourceError when a step of `batch_images` (the batch actually used, after capping at
/// the training set's size) with `parameters` needs more than `available` bytes, naming both and
/// the largest batch that would fit. Does nothing when `available` is unknown.
void check_training_fits(std::int64_t batch_images, std::int64_t parameters, std::int64_t latent_dim,
                         std::optional<std::uint64_t> available);

}  // namespace vae_cnn
