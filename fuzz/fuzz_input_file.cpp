#include "fuzz_input_file.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace vae_cnn::fuzzing {

FuzzInputFile::FuzzInputFile(const std::uint8_t* data, std::size_t size) {
  fd_ = ::memfd_create("vae_cnn_fuzz_input", MFD_CLOEXEC);
  if (fd_ < 0) std::abort();
  std::size_t written = 0;
  while (written < size) {
    const ssize_t got = ::write(fd_, data + written, size - written);
    if (got <= 0) std::abort();
    written += static_cast<std::size_t>(got);
  }
  path_ = "/proc/self/fd/" + std::to_string(fd_);
}

FuzzInputFile::~FuzzInputFile() { ::close(fd_); }

void report_escaped_exception(const char* reader, const char* what) {
  std::fprintf(stderr, "%s let through an exception that is not a DataError: %s\n", reader, what);
  std::abort();
}

}  // namespace vae_cnn::fuzzing
