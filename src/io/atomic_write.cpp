// Temporary file + fsync + rename, with every system call's result checked.
#include "vae_cnn/io/atomic_write.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <signal.h>
#include <cstring>
#include <filesystem>

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

std::string folder_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? "" : path.substr(0, slash + 1);
}

// A pipe or a terminal-like device takes the bytes as they come: no temporary file, no rename.
void write_in_place(const std::string& target, const std::string& path, const char* data, std::size_t size) {
  const int fd = ::open(target.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) throw WriteError(path, std::string("cannot open: ") + std::strerror(errno));
  try {
    write_all(fd, data, size, path);
  } catch (...) {
    ::close(fd);
    throw;
  }
  if (::close(fd) != 0) throw WriteError(path, std::string("cannot close: ") + std::strerror(errno));
}

// O_EXCL and O_NOFOLLOW: a link or file planted under the temporary name is never written through.
// One left by a killed run of the same pid (or planted) is removed, then created afresh.
int create_temporary(const std::string& temporary, const std::string& path) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd >= 0) return fd;
    if (errno != EEXIST || attempt > 0) break;
    ::unlink(temporary.c_str());  // removes a link itself, never its target
  }
  throw WriteError(path, std::string("cannot create: ") + std::strerror(errno));
}

// A replaced file keeps its permissions and owner (a 600 checkpoint must not come back 644). The
// owner first: chown may clear set-id bits, which the mode then puts back. Changing the owner needs
// privileges a user rarely has; then at least the group is kept where allowed.
void keep_mode_and_owner(int fd, const std::string& path) {
  struct stat old {};
  if (::lstat(path.c_str(), &old) != 0 || !S_ISREG(old.st_mode)) return;  // a new file: umask decides
  if (::fchown(fd, old.st_uid, old.st_gid) != 0) {
    [[maybe_unused]] const int group_kept = ::fchown(fd, static_cast<uid_t>(-1), old.st_gid);
  }
  if (::fchmod(fd, old.st_mode & 07777) != 0) {
    throw WriteError(path, std::string("cannot keep the file's permissions: ") + std::strerror(errno));
  }
}

void replace_regular_file(const std::string& path, const char* data, std::size_t size) {
  const std::string temporary = temporary_name_for(path);
  const int fd = create_temporary(temporary, path);
  try {
    keep_mode_and_owner(fd, path);
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

void write_bytes_atomically(const std::string& path, const char* data, std::size_t size) {
  // A file-size limit (ulimit -f) would otherwise kill the process with SIGXFSZ before we could
  // report it; ignored, write() fails with EFBIG and we say so.
  std::signal(SIGXFSZ, SIG_IGN);
  const WriteTarget target = resolve_write_target(path);
  if (target.replace) {
    replace_regular_file(target.path, data, size);
  } else {
    write_in_place(target.path, path, data, size);
  }
}

}  // namespace

WriteTarget resolve_write_target(const std::string& path) {
  struct stat followed {};
  if (::stat(path.c_str(), &followed) == 0) {
    // Through the original path, which also serves /dev/stdout when standard output is a pipe.
    if (S_ISFIFO(followed.st_mode) || S_ISCHR(followed.st_mode)) return {path, false};
    if (S_ISDIR(followed.st_mode)) throw WriteError(path, "is a folder, expected a file name");
    if (!S_ISREG(followed.st_mode)) throw WriteError(path, "is a socket or block device, expected a file name");
  }
  // A regular file or none yet: the links are followed by hand rather than with realpath(), because
  // a link to a file not yet written is a valid target.
  constexpr int kMostLinksFollowed = 40;  // the kernel's own limit (ELOOP)
  std::string current = path;
  for (int links = 0; links <= kMostLinksFollowed; ++links) {
    struct stat info {};
    if (::lstat(current.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) return {current, true};
    std::string link(static_cast<std::size_t>(info.st_size > 0 ? info.st_size : 4096) + 1, '\0');
    const ssize_t length = ::readlink(current.c_str(), link.data(), link.size());
    if (length <= 0) throw WriteError(path, std::string("cannot read the symbolic link: ") + std::strerror(errno));
    link.resize(static_cast<std::size_t>(length));
    current = link.front() == '/' ? link : folder_of(current) + link;
  }
  throw WriteError(path, "too many levels of symbolic links");
}

void refuse_planted_link(const std::string& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0 && S_ISLNK(info.st_mode)) {
    throw WriteError(path, "is a symbolic link where vae_cnn keeps a file of its own; it follows no link there "
                           "(remove the link)");
  }
}

void check_folder_takes_files(const std::string& folder) {
  const std::string probe =
      (folder.empty() ? std::string(".") : folder) + "/.vae_cnn.write-test-" + std::to_string(::getpid());
  std::signal(SIGXFSZ, SIG_IGN);
  const int fd = create_temporary(probe, folder);
  try {
    write_all(fd, "ok\n", 3, folder);
  } catch (...) {
    ::close(fd);
    ::unlink(probe.c_str());
    throw;
  }
  ::close(fd);
  ::unlink(probe.c_str());
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  write_bytes_atomically(path, bytes.data(), bytes.size());
}

void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  write_bytes_atomically(path, reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

int remove_abandoned_temporary_files(const std::string& path) {
  const std::filesystem::path target(path);
  const std::string prefix = target.filename().string() + ".tmp-";
  std::error_code error;
  int removed = 0;
  for (std::filesystem::directory_iterator entry(target.parent_path().empty() ? "." : target.parent_path(), error), end;
       !error && entry != end; entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string digits = name.substr(prefix.size());
    if (digits.empty() || digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(digits));
    // ESRCH alone means no such process; EPERM is a live process of another user.
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno != ESRCH) continue;
    std::error_code gone;
    if (std::filesystem::remove(entry->path(), gone)) ++removed;
  }
  return removed;
}

}  // namespace vae_cnn
