// Ctrl-C and SIGTERM during training: the first asks the run to stop at the next batch boundary,
// a second one ends the process at once.
#pragma once

namespace vae_cnn {

/// Installs the handlers for its lifetime and restores the previous ones afterwards.
class InterruptGuard {
 public:
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// True once SIGINT or SIGTERM has arrived.
  static bool requested();
};

}  // namespace vae_cnn
