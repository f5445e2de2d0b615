#include "vae_cnn/eval/latent_values.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "vae_cnn/error_text.hpp"
#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

// What keeps `text` from being a latent value (the model computes in float32), or nothing.
// strtod's own ERANGE tells a number too large for a double from one too small for it.
std::optional<std::string> latent_value_fault(const std::string& text, double& value) {
  errno = 0;
  char* end = nullptr;
  value = std::strtod(text.c_str(), &end);
  const bool out_of_double = errno == ERANGE;
  if (text.empty() || end != text.c_str() + text.size() || (!out_of_double && !std::isfinite(value))) return std::string("is not a finite number");
  const double magnitude = std::abs(value);
  if (magnitude > std::numeric_limits<float>::max()) {
    return std::string("is too large for a latent value: at most 3.4e+38 in magnitude (float32)");
  }
  if ((out_of_double && magnitude <= 1.0) || (magnitude != 0 && magnitude < std::numeric_limits<float>::min())) {
    return std::string("is too small for a latent value: 0, or at least 1.2e-38 in magnitude (float32)");
  }
  return std::nullopt;
}

}  // namespace

std::vector<double> parse_latent_values(const std::string& label, const std::string& text) {
  std::vector<double> numbers;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string field = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    double value = 0;
    if (const auto fault = latent_value_fault(field, value)) {
      throw UsageError(label + ": '" + printable(field) + "' (value " + std::to_string(numbers.size() + 1) + " of '" +
                       printable(text) + "') " + *fault);
    }
    numbers.push_back(value);
    if (comma == std::string::npos) return numbers;
    start = comma + 1;
  }
}

}  // namespace vae_cnn
