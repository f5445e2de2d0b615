// What one epoch of training measured, on the training split and on the test split after it.
#pragma once

#include <cstdint>

#include "vae_cnn/model/encoder_health.hpp"

namespace vae_cnn {

/// Means per image over one epoch (train) and over the test split after it (validation).
struct EpochMetrics {
  std::int64_t epoch = 0;  ///< 1-based
  double loss = 0, reconstruction = 0, kl = 0;
  double val_loss = 0, val_reconstruction = 0, val_kl = 0;
  double seconds = 0;            ///< wall time of the training pass (validation excluded)
  double images_per_second = 0;  ///< training images / seconds
  /// Measured on the test split after the epoch; hidden_units 0 when it was not (fewer than 2
  /// test images, or an epoch read back from metrics.csv, which does not record it).
  EncoderHealth encoder;
  /// Dead hidden units started again after this epoch (unit_revival.hpp); not recorded
  /// in metrics.csv.
  std::int64_t restarted_units = 0;
};

}  // namespace vae_cnn
