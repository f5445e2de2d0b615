// Choosing the hardware the kernels run on from a device name.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

namespace vae_cnn {

/// The device names there are, as help and errors list them.
constexpr const char* kDeviceChoices = "auto, cpu, cuda or cuda:N";

/// Checks the spelling of a device name without touching any hardware; throws OptionError
/// (field "device").
void check_device_spec(const std::string& spec);

/// "auto" (CUDA when present, else CPU), "cpu", "cuda" or "cuda:N". Throws OptionError for any
/// other spelling and UnavailableError (field "device") when CUDA (or device N) is asked for and absent.
/// "auto" and "cuda" mean GPU `default_index`: a data-parallel rank's LOCAL_RANK, else 0.
torch::Device resolve_device(const std::string& spec, int default_index = 0);

}  // namespace vae_cnn
