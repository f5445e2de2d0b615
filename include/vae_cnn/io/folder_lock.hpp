// An advisory lock on an output folder, so that two runs never write into the same one.
#pragma once

#include <string>

namespace vae_cnn {

/// Holds an exclusive flock(2) on `<folder>/.vae_cnn.lock` while alive. The kernel drops the lock
/// when the holder exits, however it exits, so the file a killed run leaves behind blocks nobody.
class FolderLock {
 public:
  /// Takes the lock and records `holder` (who is writing, shown to a run that finds the folder
  /// taken). Throws FolderBusyError naming the running holder when another process has it, and
  /// WriteError when the lock file cannot be created.
  FolderLock(const std::string& folder, const std::string& holder);
  ~FolderLock();
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;

  /// The lock file's path.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  int fd_ = -1;
};

/// "pid N on HOST since TIME: COMMAND", the description a lock holder records.
std::string describe_this_process(const std::string& command);

/// "pid N on HOST": how other processes name this one.
std::string this_process_and_host();

}  // namespace vae_cnn
