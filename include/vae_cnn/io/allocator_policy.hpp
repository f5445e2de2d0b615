// How the C library's allocator treats the large buffers LibTorch frees and asks for again every step.
#pragma once

namespace vae_cnn {

/// Keeps freed large blocks in the process for reuse instead of handing them back to the kernel.
/// Call once at start-up, before the first tensor; a no-op where the C library is not glibc.
void keep_freed_memory_for_reuse();

}  // namespace vae_cnn
