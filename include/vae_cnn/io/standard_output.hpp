// Standard output is an output like any file: `encode > /dev/full` or a full pipe must not end in
// exit 0 with the data lost.
#pragma once

#include <string>

namespace vae_cnn {

/// Makes a file-size limit (ulimit -f) a write error (EFBIG) instead of death by SIGXFSZ without a word.
void report_file_size_limit_as_error();

/// Throws WriteError naming "standard output" when it is closed (`>&-`): a command that must report
/// there says so before its work, not after it; `why` says what it would have written.
void require_open_standard_output(const std::string& why);

/// Writes `text` to standard output at once; throws WriteError naming "standard output" and the
/// cause (no space, file too large, a closed pipe) when it cannot.
void write_to_standard_output(const std::string& text);

/// Flushes standard output; throws WriteError naming "standard output" and the cause when any write
/// to it failed during the run.
void finish_standard_output();

}  // namespace vae_cnn
