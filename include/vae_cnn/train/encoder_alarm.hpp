// Tells the user, once, that the encoder has stopped reading its input (model/encoder_health.hpp):
// such a run keeps going and its loss looks plausible, but it can only ever draw the average digit.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vae_cnn/eval/epoch_metrics.hpp"
#include "vae_cnn/train/train_config.hpp"

namespace vae_cnn {

/// Epochs in a row an encoder whose hidden units still fire may spread z_mean by less than
/// kDeadEncoderSpread before the alarm goes off: early in a healthy run the KL term can hold the
/// code near 0 for an epoch or two, and the encoder then picks its input up again. With no hidden
/// unit alive nothing can ever reach it again, so that sounds at once.
constexpr std::int64_t kDeadEpochsBeforeAlarm = 3;

class EncoderAlarm {
 public:
  /// The warning to print after this epoch: on the first epoch the encoder counts as dead, and
  /// once more should it come back to life; nothing otherwise.
  std::optional<std::string> after_epoch(const EpochMetrics& metrics);

 private:
  std::int64_t epochs_unused_ = 0;  ///< epochs in a row without using the input
  bool sounded_ = false;
};

/// "12/16 hidden units alive, z_mean spread 0.84": for epoch lines and `eval`.
std::string describe(const EncoderHealth& health);

}  // namespace vae_cnn
