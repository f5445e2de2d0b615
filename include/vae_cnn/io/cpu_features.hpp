// What the CPU offers for bf16 arithmetic, as Linux's /proc/cpuinfo lists it.
#pragma once

#include <string>

namespace vae_cnn {

struct CpuFeatures {
  std::string model;         ///< "model name"; empty where not listed
  bool avx512 = false;       ///< avx512f
  bool avx512_bf16 = false;  ///< bf16 dot products in AVX-512 registers
  bool amx_bf16 = false;     ///< the matrix units' bf16 tiles
  bool has_bf16_instructions() const { return avx512_bf16 || amx_bf16; }
};

/// The features of the first processor listed in `cpuinfo_text` (the text of /proc/cpuinfo).
CpuFeatures parse_cpu_features(const std::string& cpuinfo_text);

/// This machine's, read from /proc/cpuinfo; every feature false where it cannot be read.
CpuFeatures this_cpu_features();

}  // namespace vae_cnn
