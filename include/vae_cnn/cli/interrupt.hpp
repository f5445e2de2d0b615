// Ctrl-C and SIGTERM during training: the first asks the run to stop at the next batch boundary,
// a second one ends the process at once.
#pragma once

namespace vae_cnn {

/// Unblocks SIGINT and SIGTERM, which the launcher (main.cpp) blocks before LibTorch loads, so that
/// one arriving in that first half second stays pending instead of killing the process with 143 and
/// no word. A pending one is delivered now, to the handlers if an InterruptGuard is in place,
/// otherwise with its default action. Every command calls it as soon as it is ready to be stopped.
void release_held_interrupts();

/// Installs the handlers for its lifetime (then releases held interrupts to them) and restores the previous ones afterwards.
class InterruptGuard {
 public:
  /// `first_notice` is written to stderr on the first signal (a second one ends the process at
  /// once with 130); it must outlive the guard.
  explicit InterruptGuard(const char* first_notice = "stopping after this batch (press Ctrl-C again to quit at once)");
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  /// True once SIGINT or SIGTERM has arrived.
  static bool requested();
};

}  // namespace vae_cnn
