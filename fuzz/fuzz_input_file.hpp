// The fuzz input as a file: both readers take a path, as the command line gives them one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace vae_cnn::fuzzing {

/// An anonymous in-memory file (memfd) holding the input, named by its /proc/self/fd path.
class FuzzInputFile {
 public:
  FuzzInputFile(const std::uint8_t* data, std::size_t size);
  ~FuzzInputFile();
  FuzzInputFile(const FuzzInputFile&) = delete;
  FuzzInputFile& operator=(const FuzzInputFile&) = delete;
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

/// Ends the process with a message: a reader let through an exception other than the DataError
/// it promises, which the fuzzer must report as a finding.
[[noreturn]] void report_escaped_exception(const char* reader, const char* what);

}  // namespace vae_cnn::fuzzing
