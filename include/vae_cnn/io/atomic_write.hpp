// Writing files so that a crash or a kill at any instant leaves the old file or the new one, never
// a torn one: the bytes go to a temporary file in the same folder, are flushed to disk, then renamed.
// Targets that are not regular files are never replaced (see WriteTarget).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// Where the bytes for `path` go. A symbolic link is followed, so that the link stays and the file it
/// names is replaced (atomically, in that file's folder); a FIFO or character device (/dev/stdout,
/// /dev/null) is written in place (`replace` false), never replaced by a regular file. A folder, a
/// socket or a block device is refused (WriteError).
struct WriteTarget {
  std::string path;
  bool replace = true;
};
WriteTarget resolve_write_target(const std::string& path);

/// Replaces `path` with `bytes` atomically, keeping the old file's permissions and owner; throws
/// WriteError naming the file on any failure (no space, no permission, file-size limit), leaving
/// the previous file untouched.
void write_file_atomically(const std::string& path, const std::string& bytes);
void write_file_atomically(const std::string& path, const std::vector<std::uint8_t>& bytes);

/// Throws WriteError when `path` is a symbolic link. The files vae_cnn keeps in its output folder
/// (checkpoint, weights, metrics, log) are its own: a link planted there would send their bytes
/// into whatever file it names, so it is refused instead of followed.
void refuse_planted_link(const std::string& path);

/// Removes the temporary files write_file_atomically left for `path` in processes that no longer
/// run (killed mid-write: `<path>.tmp-<pid>` with no process `pid`); a live writer's stays. Returns
/// how many it removed. Call it holding the folder's lock, so that no new writer is starting.
int remove_abandoned_temporary_files(const std::string& path);

/// Proves `folder` takes a file now (creates, writes and removes a probe, never through a link);
/// throws WriteError naming the folder and the cause.
void check_folder_takes_files(const std::string& folder);

}  // namespace vae_cnn
