// Signal handlers may only touch lock-free atomics and call async-signal-safe functions: the
// handler sets a flag (or, the second time, writes a line and _exits) and the loop polls the flag.
#include "vae_cnn/cli/interrupt.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "vae_cnn/cli/cli.hpp"

namespace vae_cnn {
namespace {

std::atomic<bool> g_stop_requested{false};
std::atomic<const char*> g_first_notice{""};
struct sigaction g_previous_int {};
struct sigaction g_previous_term {};

void write_stderr(const char* text, std::size_t size) {
  const ssize_t ignored = ::write(STDERR_FILENO, text, size);
  (void)ignored;
}

extern "C" void on_stop_signal(int) {
  if (g_stop_requested.exchange(true)) {
    static const char kNow[] = "\nvae_cnn: interrupted again, exiting now\n";
    write_stderr(kNow, sizeof kNow - 1);
    ::_exit(kExitInterrupted);
  }
  static const char kPrefix[] = "\nvae_cnn: ";
  write_stderr(kPrefix, sizeof kPrefix - 1);
  const char* notice = g_first_notice.load();
  write_stderr(notice, std::strlen(notice));
  write_stderr("\n", 1);
}

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void release_held_interrupts() {
  const sigset_t set = stop_signals();
  ::sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

InterruptGuard::InterruptGuard(const char* first_notice) {
  static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag must be safe in a signal handler");
  static_assert(std::atomic<const char*>::is_always_lock_free, "the notice must be safe in a signal handler");
  g_stop_requested = false;
  g_first_notice = first_notice;
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, &g_previous_int);
  ::sigaction(SIGTERM, &action, &g_previous_term);
  release_held_interrupts();
}

InterruptGuard::~InterruptGuard() {
  ::sigaction(SIGINT, &g_previous_int, nullptr);
  ::sigaction(SIGTERM, &g_previous_term, nullptr);
}

bool InterruptGuard::requested() { return g_stop_requested.load(); }

}  // namespace vae_cnn
