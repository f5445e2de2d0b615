// Writing files so that a crash or a kill at any instant leaves the old file or the new one, never
// a torn one: the bytes go to a temporary file in the same folder, are flushed to disk, then renamed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// Replaces `path` with `bytes` atomically; throws WriteError naming the file on any failure
/// (no space, no permission, file-size limit), leaving the previous file untouched.
void write_file_atomically(const std::string& path, const std::string& bytes);
void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace vae_cnn
