// A latent point written as text ("0.5,-1.2"), read the same way for `decode --z` and the
// explorer's requests.
#pragma once

#include <string>
#include <vector>

namespace vae_cnn {

/// The numbers of `text` as the model's float32 holds them exactly as given or as 0: UsageError
/// "<label>: 'x' (value 2 of '0.5,x') is not a finite number" for an empty, non-numeric, infinite
/// or NaN field, "... is too large ..." beyond float32 (it would become infinite) and "... is too
/// small ..." for a nonzero value below float32's normal range. Reads to the end of `text`: a
/// value from a request may hold a NUL byte, where a C string would stop.
std::vector<double> parse_latent_values(const std::string& label, const std::string& text);

}  // namespace vae_cnn
