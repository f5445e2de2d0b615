// Measured with scripts/benchmark.py (docs/benchmarks.md): on every CPU tried, --precision bf16
// trained slower than fp32, in both builds; on a Xeon with AMX the 2.11 build ran bf16 at 0.85 of
// its fp32 speed, on an AVX-512 Xeon without bf16 instructions at 0.28, and the 1.13 build at 0.21
// and 0.43. So the note is unconditional on the CPU; what changes is why.
#include "vae_cnn/kernels/precision_advice.hpp"

namespace vae_cnn {

std::string slower_precision_note(Precision precision, torch::Device device, const CpuFeatures& cpu) {
  if (precision != Precision::kBf16 || !device.is_cpu()) return "";
  std::string note =
      "note: --precision bf16 trains slower than fp32 on the CPU: vae_cnn's fast CPU kernels are fp32 and step "
      "aside under autocast";
  if (!cpu.has_bf16_instructions()) {
    note += ", and this CPU" + (cpu.model.empty() ? std::string() : " (" + cpu.model + ")") +
            " has no bf16 instructions (AVX-512 BF16 or AMX) for LibTorch's bf16 layers";
  }
  return note + "; use bf16 to see its effect on the loss, not for speed (docs/benchmarks.md)";
}

}  // namespace vae_cnn
