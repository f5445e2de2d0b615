// The zip container of weights and checkpoints, checked whole before LibTorch reads a byte of it:
// LibTorch's reader takes the directory's word for every record and skips the CRC-32 check, so a
// flipped bit reached the model unnoticed.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace vae_cnn {

/// Reads every record of the zip archive in `data` and checks it against the archive's directory
/// (CRC-32, sizes, local headers). Returns a description of the first fault, naming the record, or
/// nothing when every record is intact.
std::optional<std::string> zip_records_fault(const char* data, std::size_t size);

}  // namespace vae_cnn
