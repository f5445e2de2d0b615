// Mixed precision for `train --precision bf16`: inside the scope LibTorch's autocast runs
// convolutions and matrix products in bfloat16 on the given device, while parameters (the master
// weights), optimizer state and everything autocast keeps in float stay fp32. The one place that
// calls autocast's API, which changed in LibTorch 2.4.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

namespace vae_cnn {

/// fp32 throughout, or autocast to bfloat16 for the training forward pass.
enum class Precision { kFp32, kBf16 };

std::string to_string(Precision precision);
/// "fp32" or "bf16"; throws std::invalid_argument otherwise.
Precision parse_precision(const std::string& text);

/// Whether autocast is on for `device`'s type (the fast CPU kernels, which autocast cannot reach,
/// then step aside for LibTorch's layers).
bool autocast_enabled_on(torch::Device device);

/// Turns autocast to bfloat16 on for `device`'s type while it lives (nothing when `precision` is
/// kFp32), restoring what it found and dropping autocast's cast cache at the end.
class AutocastScope {
 public:
  AutocastScope(Precision precision, torch::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool was_enabled_ = false;
  at::ScalarType previous_dtype_ = at::kFloat;
  at::DeviceType device_type_ = at::kCPU;
};

}  // namespace vae_cnn
