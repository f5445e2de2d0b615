// Redraws are throttled: a bar that redraws every batch would cost a device sync per step.
#include "vae_cnn/cli/progress_bar.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace vae_cnn {
namespace {

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

int terminal_width(std::FILE* stream) {
  winsize size{};
  if (::ioctl(::fileno(stream), TIOCGWINSZ, &size) == 0 && size.ws_col > 20) return size.ws_col;
  return 100;
}

std::string clock_text(double seconds) {
  const auto total = static_cast<long>(std::lround(std::max(0.0, seconds)));
  char text[32];
  if (total >= 3600) std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  else std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

double running_loss_of(const BatchProgress& progress) {
  if (!progress.loss_sum.defined() || progress.images_done == 0) return 0.0;
  return progress.loss_sum.item<double>() / static_cast<double>(progress.images_done);
}

}  // namespace

bool is_terminal(std::FILE* stream) { return ::isatty(::fileno(stream)) == 1; }

ProgressBar::ProgressBar(std::FILE* stream, bool live, std::int64_t total_epochs)
    : stream_(stream), live_(live), total_epochs_(total_epochs) {}

std::string ProgressBar::render(const BatchProgress& progress, std::int64_t total_epochs, double running_loss,
                                int width) {
  const double rate = progress.seconds > 0 ? static_cast<double>(progress.images_done) / progress.seconds : 0.0;
  const double fraction = progress.num_batches > 0 ? static_cast<double>(progress.batch) / progress.num_batches : 0.0;
  const double eta = fraction > 0 ? progress.seconds * (1.0 - fraction) / fraction : 0.0;
  char head[64];
  std::snprintf(head, sizeof head, "epoch %lld/%lld ", static_cast<long long>(progress.epoch),
                static_cast<long long>(total_epochs));
  char tail[128];
  std::snprintf(tail, sizeof tail, " %lld/%lld  %.0f img/s  loss %.3f  ETA %s", static_cast<long long>(progress.batch),
                static_cast<long long>(progress.num_batches), rate, running_loss, clock_text(eta).c_str());
  const int bar_width = std::clamp(width - 1 - static_cast<int>(std::string(head).size() + std::string(tail).size()) - 2, 0, 40);
  const int filled = static_cast<int>(std::floor(fraction * bar_width));
  std::string line = head;
  if (bar_width > 0) line += "[" + std::string(filled, '#') + std::string(bar_width - filled, '-') + "]";
  return line + tail;
}

void ProgressBar::update(const BatchProgress& progress) {
  if (!live_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < kRedrawInterval && progress.batch != progress.num_batches) return;
  last_draw_ = now;
  drawn_ = true;
  const std::string line = render(progress, total_epochs_, running_loss_of(progress), terminal_width(stream_));
  std::fprintf(stream_, "\r\033[K%s", line.c_str());
  std::fflush(stream_);
}

// Off a terminal the epoch's summary line, logged right after, is the one line per epoch.
void ProgressBar::finish_epoch(const BatchProgress&) { clear(); }

void ProgressBar::clear() {
  if (!live_ || !drawn_) return;
  std::fprintf(stream_, "\r\033[K");
  std::fflush(stream_);
  drawn_ = false;
}

}  // namespace vae_cnn
