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

/// A setting naming something this machine does not have (a GPU), by its field as OptionError
/// does: cli/ words it as "--<flag> <value>: <fault>". Exit code 1.
class UnavailableError : public std::runtime_error {
 public:
  UnavailableError(const std::string& field, const std::string& value, const std::string& fault)
      : std::runtime_error(field + " " + value + ": " + fault), field_(field), value_(value), fault_(fault) {}
  const std::string& field() const { return field_; }
  const std::string& value() const { return value_; }
  const std::string& fault() const { return fault_; }

 private:
  std::string field_, value_, fault_;
};

/// A command line the tool cannot act on: exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A setting holding a value it cannot take, named by its field (TrainConfig's member name, or a
/// command's own setting such as "grid"), never by how the shell spells it: cli/ maps the field
/// to its flag and words the one line ("--<flag> must be <expectation>, got <value>: <reason>").
/// Exit code 2.
class OptionError : public UsageError {
 public:
  OptionError(const std::string& field, const std::string& value, const std::string& expectation,
              const std::string& reason = "")
      : UsageError(field + " must be " + expectation + (value.empty() ? "" : ", got " + value) +
                   (reason.empty() ? "" : ": " + reason)),
        field_(field), value_(value), expectation_(expectation), reason_(reason) {}
  const std::string& field() const { return field_; }
  const std::string& value() const { return value_; }
  const std::string& expectation() const { return expectation_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string field_, value_, expectation_, reason_;
};

}  // namespace vae_cnn
