// How much memory this process may still take, as the kernel would grant it.
#pragma once

#include <cstdint>
#include <optional>

namespace vae_cnn {

/// The smallest of: the machine's MemAvailable, the headroom under a cgroup v2 memory.max, and the
/// headroom under an address-space limit (ulimit -v). Empty when none of them can be read.
std::optional<std::uint64_t> available_memory_bytes();

}  // namespace vae_cnn
