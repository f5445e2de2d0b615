#include "vae_cnn/cli/run_log.hpp"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <cstdint>
#include <filesystem>
#include <fstream>

#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/regular_file.hpp"

namespace vae_cnn {

RunLog::RunLog(const std::string& previous) {
  buffer_ << previous;
  auto console = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  console->set_pattern("%v");
  auto file = std::make_shared<spdlog::sinks::ostream_sink_mt>(buffer_);
  file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger_ = std::make_shared<spdlog::logger>("train", spdlog::sinks_init_list{console, file});
  logger_->set_level(spdlog::level::info);
  logger_->flush_on(spdlog::level::info);
}

void RunLog::silence_console() { logger_->sinks().front()->set_level(spdlog::level::off); }

void RunLog::save(const std::string& path) const { write_file_atomically(path, buffer_.str()); }

std::string read_text_if_present(const std::string& path) {
  std::error_code unknown;
  if (std::filesystem::symlink_status(path, unknown).type() == std::filesystem::file_type::not_found) return "";
  // Checked like every file the tool reads: a FIFO named train.log would hang --resume for ever.
  constexpr std::uint64_t kMaxLogBytes = 1ull << 30;
  return read_regular_file(path, "the run's log (train.log)", kMaxLogBytes);
}

}  // namespace vae_cnn
