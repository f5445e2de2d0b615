#include "vae_cnn/train/encoder_alarm.hpp"

#include <cstdio>

namespace vae_cnn {

std::string describe(const EncoderHealth& health) {
  char text[96];
  std::snprintf(text, sizeof text, "%lld/%lld hidden units alive, z_mean spread %.3g",
                static_cast<long long>(health.hidden_alive), static_cast<long long>(health.hidden_units),
                health.z_mean_spread);
  return text;
}

std::optional<std::string> EncoderAlarm::after_epoch(const EpochMetrics& metrics) {
  const EncoderHealth& health = metrics.encoder;
  if (health.hidden_units == 0) return std::nullopt;  // not measured
  const std::string epoch = std::to_string(metrics.epoch);
  if (health.uses_input()) {
    epochs_unused_ = 0;
    if (!sounded_) return std::nullopt;
    sounded_ = false;
    return "note: after epoch " + epoch + " the encoder uses its input again (" + describe(health) + ")";
  }
  ++epochs_unused_;
  if (sounded_ || (health.hidden_alive > 0 && epochs_unused_ < kDeadEpochsBeforeAlarm)) return std::nullopt;
  sounded_ = true;
  const std::string how_long = epochs_unused_ > 1 ? " for " + std::to_string(epochs_unused_) + " epochs" : "";
  std::string outlook = "training rarely recovers from this";
  if (health.hidden_alive == 0) {
    outlook = metrics.restarted_units > 0
                  ? "its " + std::to_string(metrics.restarted_units) +
                        " dead hidden units were restarted, which may bring it back"
                  : "with no hidden unit alive it cannot recover";
  }
  return "warning: after epoch " + epoch + " the encoder has stopped using its input" + how_long + " (" +
         describe(health) + " on the test images): every image gets nearly the same code, so the decoder "
         "can only draw the average digit, and " + outlook + ". Start again with another --seed (or a lower --lr).";
}

}  // namespace vae_cnn
