// Temporary file + fsync + rename, with every system call's result checked.
#include "vae_cnn/io/atomic_write.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

// Beside the target, so that the rename stays on one file system; a short name of its own when the
// target's name leaves no room for the suffix (file names stop at 255 bytes).
std::string temporary_name_for(const std::string& path) {
  const std::string suffix = ".tmp-" + std::to_string(::getpid());
  const std::size_t slash = path.rfind('/');
  const std::size_t name_length = path.size() - (slash == std::string::npos ? 0 : slash + 1);
  if (name_length + suffix.size() <= 255) return path + suffix;
  return path.substr(0, slash == std::string::npos ? 0 : slash + 1) + ".vae_cnn" + suffix;
}

void write_all(int fd, const char* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw WriteError(path, std::string("cannot write: ") + std::strerror(errno));
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

// Makes the rename itself durable: without it a power cut may bring back the old directory entry.
void sync_parent_folder(const std::string& path) {
  const auto slash = path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;  // best effort: the data is already safely in place
  ::fsync(fd);
  ::close(fd);
}

void write_bytes_atomically(const std::string& path, const char* data, std::size_t size) {
  // A file-size limit (ulimit -f) would otherwise kill the process with SIGXFSZ before we could
  // report it; ignored, write() fails with EFBIG and we say so.
  std::signal(SIGXFSZ, SIG_IGN);
  const std::string temporary = temporary_name_for(path);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw WriteError(path, std::string("cannot create: ") + std::strerror(errno));
  try {
    write_all(fd, data, size, path);
    if (::fsync(fd) != 0) throw WriteError(path, std::string("cannot flush: ") + std::strerror(errno));
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  if (::close(fd) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw WriteError(path, std::string("cannot close: ") + std::strerror(error));
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    throw WriteError(path, std::string("cannot rename into place: ") + std::strerror(error));
  }
  sync_parent_folder(path);
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_bytes_atomically(path, bytes.data(), bytes.size());
}

void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  write_bytes_atomically(path, reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace vae_cnn
