// flock(2) rather than a lock file's mere existence: a run killed with -9 cannot remove its file,
// but the kernel releases its lock, so a stale file never needs cleaning up by hand.
#include "vae_cnn/io/folder_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

constexpr std::size_t kMaxHolderBytes = 4096;

std::string read_holder(int fd) {
  char text[kMaxHolderBytes];
  const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
  std::string holder(text, got > 0 ? static_cast<std::size_t>(got) : 0);
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\r')) holder.pop_back();
  const auto newline = holder.find('\n');
  if (newline != std::string::npos) holder.resize(newline);
  return holder.empty() ? "a process that has not said who it is yet" : holder;
}

}  // namespace

FolderLock::FolderLock(const std::string& folder, const std::string& holder)
    : path_((std::filesystem::path(folder) / ".vae_cnn.lock").string()) {
  // O_NOFOLLOW: the lock file is truncated and written below, so a link planted in its place would
  // send that into whatever file it names. O_NONBLOCK: a FIFO planted there must not hang the open.
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
  if (fd_ < 0 && errno == ELOOP) {
    throw WriteError(path_, "is a symbolic link; the lock file is vae_cnn's own and it follows no link there "
                            "(remove the link)");
  }
  if (fd_ < 0) throw WriteError(path_, std::string("cannot create the lock file: ") + std::strerror(errno));
  struct stat info {};
  if (::fstat(fd_, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd_);
    fd_ = -1;
    throw WriteError(path_, "is not a regular file; the lock file is vae_cnn's own (remove what is there)");
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    const std::string running = error == EWOULDBLOCK ? read_holder(fd_) : "";
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) throw WriteError(path_, std::string("cannot lock: ") + std::strerror(error));
    throw FolderBusyError(folder, "another vae_cnn run is writing into this folder (" + running +
                                      "); wait for it to end or choose another --out");
  }
  const std::string line = holder + "\n";
  // The record is for people; failing to write it does not make the lock less held.
  if (::ftruncate(fd_, 0) == 0) {
    [[maybe_unused]] const ssize_t written = ::pwrite(fd_, line.data(), line.size(), 0);
  }
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the flock
}

std::string this_process_and_host() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  return "pid " + std::to_string(::getpid()) + " on " + host;
}

std::string describe_this_process(const std::string& command) {
  const std::time_t now = std::time(nullptr);
  char when[32] = "?";
  std::tm local{};
  if (::localtime_r(&now, &local) != nullptr) std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &local);
  return this_process_and_host() + " since " + when + ": " + command;
}

}  // namespace vae_cnn
