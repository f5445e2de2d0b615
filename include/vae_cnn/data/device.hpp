// Choosing where tensors live from the --device option.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

namespace vae_cnn {

/// Checks the spelling of a --device value without touching any hardware; throws UsageError.
void check_device_spec(const std::string& spec);

/// "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N". Throws UsageError for any
/// other spelling and std::runtime_error when CUDA (or device N) is asked for and absent.
/// "auto" and "cuda" mean GPU `default_index`: a data-parallel rank's LOCAL_RANK, else 0.
torch::Device resolve_device(const std::string& spec, int default_index = 0);

}  // namespace vae_cnn
