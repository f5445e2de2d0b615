// What a user who asks for bf16 on the CPU should know before spending a run on it.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

#include "vae_cnn/io/cpu_features.hpp"
#include "vae_cnn/kernels/autocast_scope.hpp"

namespace vae_cnn {

/// One line for the training log when `precision` on `device` trains slower than fp32 would, with
/// the reason; "" when there is nothing to say (fp32, or a GPU).
std::string slower_precision_note(Precision precision, torch::Device device, const CpuFeatures& cpu);

}  // namespace vae_cnn
