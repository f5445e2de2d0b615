// Reading a file the tool is given: only a regular file, and no open that can block. A FIFO named
// where a font or metrics.csv belongs would hang `plot` for ever; a folder, a missing file, a link
// loop and a permission denied each get their own words.
#pragma once

#include <cstdint>
#include <string>

namespace vae_cnn {

/// The words for an errno from finding or opening a file: "no such file", "permission denied",
/// "a loop of symbolic links", "a part of the path is not a folder", ...; strerror's text otherwise.
std::string file_error_words(int error_number);

/// What `path` names when it is not a regular file ("a folder", "a FIFO", "a socket", "a character
/// device", "a block device"), "" when it is one. Symbolic links are followed; `path` must exist.
std::string non_regular_kind(const std::string& path);

/// Throws DataError naming `path` unless it names a regular file (links followed): "no such file,
/// expected WHAT", "is a folder, expected WHAT", "is a FIFO, expected WHAT", "permission denied", ...
void require_regular_file(const std::string& path, const std::string& what);

/// A read-only descriptor of the regular file `path` (the caller closes it), checked as
/// require_regular_file does, opened without blocking and checked again on the open file.
int open_regular_file(const std::string& path, const std::string& what);

/// The whole of the regular file `path`, checked as require_regular_file does, opened without
/// blocking and checked again on the open file (a FIFO swapped in between is caught); throws
/// DataError when it holds more than `max_bytes` or cannot be read.
std::string read_regular_file(const std::string& path, const std::string& what, std::uint64_t max_bytes);

}  // namespace vae_cnn
