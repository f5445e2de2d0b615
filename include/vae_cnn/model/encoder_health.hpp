// Whether the encoder still reads its input. A run can lose it for good in its first epochs: every
// ReLU unit of the Dense(16) layer goes negative for every image, z_mean becomes a constant, and the
// decoder learns to draw the average digit. The loss alone hides it (the KL term is then ~0).
#pragma once

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/torch_api.hpp"

#include <cstdint>

#include "vae_cnn/model/conv_vae.hpp"

namespace vae_cnn {

/// Variance over images of a latent mean above which the dimension counts as used: Burda et al.'s
/// "active units" threshold (a standard deviation of 0.1 against the prior's 1).
constexpr double kActiveLatentVariance = 0.01;

/// A z_mean spread below which the code carries nothing usable: a hundredth of the prior's. Early
/// in a healthy run the spread is already near 1; encoders that had died measured below 0.02.
constexpr double kDeadEncoderSpread = 0.01;

struct EncoderHealth {
  std::int64_t hidden_units = 0;  ///< units of the Dense layer before the heads (16)
  std::int64_t hidden_alive = 0;  ///< of those, the ones positive for at least one image
  /// The largest standard deviation over images of one z_mean dimension.
  double z_mean_spread = 0;

  /// False when no hidden unit fires, or no latent dimension varies by more than kDeadEncoderSpread:
  /// every image then gets (nearly) the same code.
  bool uses_input() const;
};

/// Measures the encoder on `images` ([N,1,28,28], on the model's device), in eval mode without
/// gradients, `batch_size` images at a time. N must be at least 2.
EncoderHealth encoder_health(ConvVae& model, const ImageSource& images, std::int64_t batch_size);

}  // namespace vae_cnn
