#include "vae_cnn/io/cpu_features.hpp"

#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace vae_cnn {
namespace {

// The value after "key<spaces/tabs>: " on the first line that starts with key.
std::string field_of(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.compare(0, key.size(), key) != 0) continue;
    const auto colon = line.find(':');
    if (colon == std::string::npos || line.find_first_not_of(" \t", key.size()) != colon) continue;
    const auto start = line.find_first_not_of(' ', colon + 1);
    return start == std::string::npos ? "" : line.substr(start);
  }
  return "";
}

}  // namespace

CpuFeatures parse_cpu_features(const std::string& cpuinfo_text) {
  CpuFeatures features;
  features.model = field_of(cpuinfo_text, "model name");
  std::istringstream words(field_of(cpuinfo_text, "flags"));
  const std::set<std::string> flags{std::istream_iterator<std::string>(words), std::istream_iterator<std::string>()};
  features.avx512 = flags.count("avx512f") > 0;
  features.avx512_bf16 = flags.count("avx512_bf16") > 0;
  features.amx_bf16 = flags.count("amx_bf16") > 0;
  return features;
}

CpuFeatures this_cpu_features() {
  std::ifstream file("/proc/cpuinfo");
  std::ostringstream text;
  text << file.rdbuf();
  return parse_cpu_features(text.str());
}

}  // namespace vae_cnn
