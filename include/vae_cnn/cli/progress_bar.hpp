// The live progress line of a training epoch on a terminal; a plain line per epoch otherwise.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {

class ProgressBar {
 public:
  /// Draws on `stream`; live only when `live` (stdout is a terminal).
  ProgressBar(std::FILE* stream, bool live, std::int64_t total_epochs);

  /// Redraws at most ten times a second (reading the running loss synchronises the device).
  void update(const BatchProgress& progress);
  /// Ends the epoch's bar: clears the live line (off a terminal nothing was drawn).
  void finish_epoch(const BatchProgress& last);
  /// Clears a live line so a log line can be printed in its place.
  void clear();

  /// "epoch 3/50 [#####-----] 33/66 2,345 img/s loss 45.21 ETA 0:03", fitted to `width` columns.
  static std::string render(const BatchProgress& progress, std::int64_t total_epochs, double running_loss, int width);

 private:
  std::FILE* stream_;
  bool live_;
  std::int64_t total_epochs_;
  std::chrono::steady_clock::time_point last_draw_{};
  bool drawn_ = false;
};

/// True when `stream` is a terminal.
bool is_terminal(std::FILE* stream);

}  // namespace vae_cnn
