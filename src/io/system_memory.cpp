// Read from /proc and /sys by hand: no Debian package offers these three numbers, and each is a
// one-line parse.
#include "vae_cnn/io/system_memory.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace vae_cnn {
namespace {

/// The value of "Key:   N kB" in a /proc file, in bytes.
std::optional<std::uint64_t> proc_field_bytes(const char* path, const std::string& key) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, key.size() + 1, key + ":") != 0) continue;
    std::istringstream fields(line.substr(key.size() + 1));
    std::uint64_t kib = 0;
    if (fields >> kib) return kib * 1024;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> single_number(const char* path) {
  std::ifstream in(path);
  std::uint64_t value = 0;
  if (in >> value) return value;  // "max" (no limit) fails to parse, as wanted
  return std::nullopt;
}

void take_smaller(std::optional<std::uint64_t>& smallest, std::optional<std::uint64_t> candidate) {
  if (candidate && (!smallest || *candidate < *smallest)) smallest = candidate;
}

}  // namespace

std::optional<std::uint64_t> available_memory_bytes() {
  std::optional<std::uint64_t> smallest = proc_field_bytes("/proc/meminfo", "MemAvailable");
  const auto cgroup_limit = single_number("/sys/fs/cgroup/memory.max");
  const auto cgroup_used = single_number("/sys/fs/cgroup/memory.current");
  if (cgroup_limit && cgroup_used) take_smaller(smallest, *cgroup_limit - std::min(*cgroup_limit, *cgroup_used));
  rlimit address_space{};
  if (::getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY) {
    const auto mapped = proc_field_bytes("/proc/self/status", "VmSize").value_or(0);
    const std::uint64_t limit = address_space.rlim_cur;
    take_smaller(smallest, limit - std::min(limit, mapped));
  }
  return smallest;
}

}  // namespace vae_cnn
