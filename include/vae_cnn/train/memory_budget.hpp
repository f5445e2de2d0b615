// Whether a training run fits in the memory left, decided before the first batch.
#pragma once

#include <cstdint>
#include <optional>

namespace vae_cnn {

/// 28×28: the images the per-image figure was measured on.
constexpr std::int64_t kMnistImageArea = 28 * 28;

/// Memory one training step takes beyond the data already loaded: activations and their gradients
/// for `batch_images` of `image_area` pixels (H·W: the feature maps scale with it, not with the
/// channels), and parameters, gradients and two optimizer moments for `parameters`.
std::uint64_t estimated_training_bytes(std::int64_t batch_images, std::int64_t parameters,
                                       std::int64_t image_area = kMnistImageArea);

/// Throws ResourceError when a step of `batch_images` (the batch actually used, after capping at
/// the training set's size) with `parameters` needs more than `available` bytes, naming both and
/// the largest batch that would fit. Does nothing when `available` is unknown.
void check_training_fits(std::int64_t batch_images, std::int64_t parameters, std::int64_t latent_dim,
                         std::optional<std::uint64_t> available, std::int64_t image_area = kMnistImageArea);

}  // namespace vae_cnn
