// The files a command is told about on its command line: each must be named (not ""), and no output
// may be one of the command's own inputs, which writing it would destroy.
#pragma once

#include <string>
#include <vector>

namespace vae_cnn {

/// A file as the command line named it, for messages: {"-w", "runs/a/vae_cnn.mnist.pt"}.
struct NamedFile {
  std::string option;
  std::string path;
};

/// Throws UsageError "OPTION: the file name is empty, expected WHAT" when `value` is "".
void require_file_name(const std::string& option, const std::string& value, const std::string& what = "a file name");

/// Whether `first` and `second` both exist and are one file or folder: compared by identity (device
/// and inode, symbolic links followed), not by spelling, so `./x.pt`, `x.pt` and a link to it agree.
bool same_file(const std::string& first, const std::string& second);

/// The files a command reads as its data, each as named by `option` ("--data"): what an output must
/// not replace. `path` itself when it is a file (a .npz archive); for a folder every file under it
/// (image folders nest), symbolic links to folders not followed. Empty when nothing can be listed.
std::vector<NamedFile> files_of_data(const std::string& option, const std::string& path);

/// Throws UsageError naming both when `output` is one of `inputs`: writing it would replace what
/// the command reads. An output that does not exist yet is no input.
void refuse_output_over_input(const NamedFile& output, const std::vector<NamedFile>& inputs);

}  // namespace vae_cnn
