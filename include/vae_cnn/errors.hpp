// The exceptions vae_cnn throws; the CLI turns each into one line on stderr and an exit code.
#pragma once

#include <stdexcept>
#include <string>

namespace vae_cnn {

/// Input that cannot be used (data, weights, checkpoints): the message names the file and the fault.
class DataError : public std::runtime_error {
 public:
  DataError(const std::string& path, const std::string& fault)
      : std::runtime_error(path + ": " + fault), path_(path) {}
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Output that could not be written (disk full, no permission): names the file and the cause.
class WriteError : public std::runtime_error {
 public:
  WriteError(const std::string& path, const std::string& fault)
      : std::runtime_error(path + ": " + fault) {}
};

/// A folder another vae_cnn run is writing into: exit code 1, naming that run.
class FolderBusyError : public std::runtime_error {
 public:
  FolderBusyError(const std::string& folder, const std::string& fault) : std::runtime_error(folder + ": " + fault) {}
};

/// A run that cannot fit in the memory this machine has (batch or latent size): exit code 1.
class ResourceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A command line the tool cannot act on: exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace vae_cnn
