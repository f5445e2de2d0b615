// Device selection with a one-line answer when the hardware is not there.
#include "vae_cnn/kernels/device.hpp"

#include <algorithm>
#include <cctype>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {

void check_device_spec(const std::string& spec) {
  if (spec == "auto" || spec == "cpu" || spec == "cuda") return;
  if (spec.rfind("cuda:", 0) == 0) {
    const std::string digits = spec.substr(5);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); })) {
      throw OptionError("device", spec, kDeviceChoices);
    }
    return;
  }
  throw OptionError("device", spec, kDeviceChoices);
}

torch::Device resolve_device(const std::string& spec, int default_index) {
  check_device_spec(spec);
  if (spec == "cpu" || (spec == "auto" && !torch::cuda::is_available())) return torch::Device(torch::kCPU);
  const bool default_gpu = spec == "auto" || spec == "cuda";
  const int index = default_gpu ? default_index : std::stoi(spec.substr(5));
  if (!torch::cuda::is_available()) {
    throw UnavailableError("device", spec, "CUDA is not available (this LibTorch or machine has no GPU); use the cpu device");
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  if (index >= count) {
    throw UnavailableError("device", spec, "no such GPU" + (default_gpu ? " as " + std::to_string(index) : "") +
                                               ", this machine has " + std::to_string(count));
  }
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
}

}  // namespace vae_cnn
