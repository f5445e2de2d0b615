// A training step frees and re-allocates the same few multi-megabyte activation and gradient
// buffers. glibc serves blocks above its mmap threshold with fresh mmaps and trims the heap top back
// to the kernel, so every step paid tens of thousands of page faults on zeroed pages: 636,000 faults
// in 32 steps of batch 128 (measured with perf stat), 23 % of the run. Raising the mmap threshold to
// its 32 MiB maximum and the trim threshold to 1 GiB keeps those blocks in the heap: 47,000 faults,
// 666 -> 819 images/s on one thread. Peak memory is unchanged; only its return to the OS is deferred.
#include "vae_cnn/io/allocator_policy.hpp"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace vae_cnn {

void keep_freed_memory_for_reuse() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 1024 * 1024 * 1024);
#endif
}

}  // namespace vae_cnn
