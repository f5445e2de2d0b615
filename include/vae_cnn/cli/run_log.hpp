// The log of a training run: each line to the console as it is, and into train.log with a time
// stamp and level. Kept whole in memory so that train.log is rewritten atomically after each epoch
// and a killed run never leaves half a line.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

namespace vae_cnn {

class RunLog {
 public:
  /// Starts from `previous` (the log of the run being resumed).
  explicit RunLog(const std::string& previous = "");
  spdlog::logger& operator*() { return *logger_; }
  spdlog::logger* operator->() { return logger_.get(); }
  /// Stops the console copy (from then on lines go to train.log only).
  void silence_console();
  /// Writes everything logged so far to `path`, atomically.
  void save(const std::string& path) const;

 private:
  std::ostringstream buffer_;
  std::shared_ptr<spdlog::logger> logger_;
};

/// The text of a file, or "" when it cannot be read.
std::string read_text_if_present(const std::string& path);

}  // namespace vae_cnn
