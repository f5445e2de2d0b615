// Identity through stat(2): the comparison a user means by "the same file" whatever path reaches it
// (relative or absolute, through links or bind mounts), which comparing spellings cannot give.
#include "vae_cnn/io/named_files.hpp"

#include <sys/stat.h>

#include <filesystem>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {

void require_file_name(const std::string& option, const std::string& value, const std::string& what) {
  if (value.empty()) throw UsageError(option + ": the file name is empty, expected " + what);
}

bool same_file(const std::string& first, const std::string& second) {
  struct stat a {};
  struct stat b {};
  if (first.empty() || second.empty()) return false;
  if (::stat(first.c_str(), &a) != 0 || ::stat(second.c_str(), &b) != 0) return false;
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

std::vector<NamedFile> files_of_data(const std::string& option, const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_regular_file(path, error)) return {{option, path}};
  std::vector<NamedFile> files;
  for (std::filesystem::recursive_directory_iterator entry(path, error), end; !error && entry != end;
       entry.increment(error)) {
    files.push_back({option, entry->path().string()});
  }
  return files;
}

void refuse_output_over_input(const NamedFile& output, const std::vector<NamedFile>& inputs) {
  for (const NamedFile& input : inputs) {
    if (!same_file(output.path, input.path)) continue;
    throw UsageError(output.option + " " + output.path + " is the same file as " + input.option + " " + input.path +
                     ": writing it would replace an input of this command; choose another output");
  }
}

}  // namespace vae_cnn
