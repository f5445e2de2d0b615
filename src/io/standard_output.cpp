// std::cout and spdlog's console sink both write through C's stdout, whose error flag remembers a
// failed write until the end of the run.
#include "vae_cnn/io/standard_output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {

void report_file_size_limit_as_error() { std::signal(SIGXFSZ, SIG_IGN); }

namespace {

[[noreturn]] void throw_standard_output_error(int cause) {
  std::clearerr(stdout);
  throw WriteError("standard output", cause != 0 ? std::string("cannot write: ") + std::strerror(cause)
                                                 : std::string("cannot write: part of the output was lost"));
}

}  // namespace

void require_open_standard_output(const std::string& why) {
  if (::fcntl(STDOUT_FILENO, F_GETFD) == -1 && errno == EBADF) {
    throw WriteError("standard output", "is closed, and " + why +
                                            " (send it to a file or to /dev/null instead of closing it)");
  }
}

void write_to_standard_output(const std::string& text) {
  std::cout.flush();
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    throw_standard_output_error(errno);
  }
}

void finish_standard_output() {
  std::cout.flush();
  errno = 0;
  const bool flush_failed = std::fflush(stdout) != 0;
  const int cause = errno;
  if (!flush_failed && !std::ferror(stdout) && !std::cout.bad()) return;
  throw_standard_output_error(flush_failed ? cause : 0);
}

}  // namespace vae_cnn
