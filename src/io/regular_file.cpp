// stat(2) first, so that nothing but a regular file is ever opened (opening a FIFO for reading
// waits for a writer; opening a device can have effects), then open with O_NONBLOCK and fstat the
// descriptor, so that a file replaced between the two steps is caught as well.
#include "vae_cnn/io/regular_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

std::string kind_of(mode_t mode) {
  if (S_ISREG(mode)) return "";
  if (S_ISDIR(mode)) return "a folder";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  return "not a regular file";
}

// "is a folder, expected WHAT" from the kind.
std::string kind_fault(const std::string& kind, const std::string& what) {
  return (kind == "not a regular file" ? kind : "is " + kind) + ", expected " + what;
}

// Closes the descriptor however the read ends.
struct Descriptor {
  int fd;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

std::string file_error_words(int error_number) {
  switch (error_number) {
    case ENOENT: return "no such file";
    case EACCES: return "permission denied";
    case EPERM: return "operation not permitted";
    case ELOOP: return "a loop of symbolic links (or too many of them)";
    case ENOTDIR: return "a part of the path is not a folder";
    case ENAMETOOLONG: return "the name is too long";
    case EISDIR: return "is a folder";
    case EIO: return "input/output error";
    default: return std::strerror(error_number);
  }
}

std::string non_regular_kind(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return "";
  return kind_of(info.st_mode);
}

void require_regular_file(const std::string& path, const std::string& what) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) {
    const int error = errno;
    throw DataError(path, file_error_words(error) + (error == ENOENT ? ", expected " + what : ""));
  }
  const std::string kind = kind_of(info.st_mode);
  if (!kind.empty()) throw DataError(path, kind_fault(kind, what));
}

int open_regular_file(const std::string& path, const std::string& what) {
  require_regular_file(path, what);
  Descriptor file{::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC)};
  if (file.fd < 0) throw DataError(path, "cannot open: " + file_error_words(errno));
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) throw DataError(path, "cannot read: " + file_error_words(errno));
  const std::string kind = kind_of(info.st_mode);
  if (!kind.empty()) throw DataError(path, kind_fault(kind, what));
  const int fd = file.fd;
  file.fd = -1;  // checked: the caller's now
  return fd;
}

std::string read_regular_file(const std::string& path, const std::string& what, std::uint64_t max_bytes) {
  const Descriptor file{open_regular_file(path, what)};
  struct stat info {};
  if (::fstat(file.fd, &info) != 0) throw DataError(path, "cannot read: " + file_error_words(errno));
  const auto size = static_cast<std::uint64_t>(info.st_size);
  if (size > max_bytes) {
    throw DataError(path, "holds " + std::to_string(size) + " bytes, more than the " + std::to_string(max_bytes) +
                              " that " + what + " may hold");
  }
  std::string bytes(static_cast<std::size_t>(size), '\0');
  std::size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = ::read(file.fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw DataError(path, "cannot read: " + file_error_words(errno));
    if (n == 0) break;  // shortened while read: what is there is what the file holds now
    got += static_cast<std::size_t>(n);
  }
  bytes.resize(got);
  return bytes;
}

}  // namespace vae_cnn
