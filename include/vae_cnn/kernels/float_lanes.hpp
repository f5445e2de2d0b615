// Eight floats as one value (GCC/Clang vector extension) for the hand-written loops. Written out
// rather than left to the auto-vectoriser: it kept per-pixel running sums in memory and summed a
// pixel's channels in one serial chain. Each lane's additions happen in the order the source says,
// so a result is the same whichever clone (AVX-512, AVX2, SSE2) runs it and on any thread count.
#pragma once

#include <cstring>

namespace vae_cnn {

typedef float Lanes __attribute__((vector_size(32)));  // NOLINT: the extension needs typedef syntax
constexpr int kLanes = 8;

// always_inline: called from the target clones, which then keep Lanes in their own registers, and
// no Lanes value ever crosses a call (CMakeLists.txt silences GCC's -Wpsabi note about that).
__attribute__((always_inline)) inline Lanes load_lanes(const float* source) {
  Lanes value;
  std::memcpy(&value, source, sizeof value);
  return value;
}

__attribute__((always_inline)) inline void store_lanes(float* target, Lanes value) {
  std::memcpy(target, &value, sizeof value);
}

/// The eight lanes summed as a fixed tree.
__attribute__((always_inline)) inline float sum_lanes(Lanes v) {
  return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
}

}  // namespace vae_cnn
