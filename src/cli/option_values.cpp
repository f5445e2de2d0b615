// Numbers are declared to cxxopts as strings and converted here, so a bad value's message names
// the option (cxxopts' own says only "Argument 'abc' failed to parse").
#include "vae_cnn/cli/option_values.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <optional>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

// cxxopts quotes with typographic marks; one-line errors stay plain ASCII.
std::string plain_quotes(std::string text) {
  for (const std::string mark : {"\u2018", "\u2019"}) {
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) text.replace(at, mark.size(), "'");
  }
  return text;
}

// A value as an error message shows it: control bytes (a newline, or a NUL from an API request,
// where exception texts end) written as \xNN, so the message stays one whole line.
std::string shown(const std::string& text) {
  std::string out;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      const char digits[] = "0123456789abcdef";
      out += std::string("\\x") + digits[byte >> 4] + digits[byte & 15];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

cxxopts::ParseResult parse_command_line(cxxopts::Options& options, const std::string& command,
                                        const std::vector<std::string>& args) {
  std::vector<const char*> argv{command.c_str()};
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    auto result = options.parse(static_cast<int>(argv.size()), argv.data());
    if (!result.unmatched().empty()) {
      throw UsageError(command + ": unexpected argument '" + result.unmatched().front() + "' (try 'vae_cnn " +
                       command + " --help')");
    }
    return result;
  } catch (const cxxopts::exceptions::exception& error) {
    throw UsageError(command + ": " + plain_quotes(error.what()) + " (try 'vae_cnn " + command + " --help')");
  }
}

std::vector<std::string> attach_optional_value(std::vector<std::string> args, const std::string& option) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == option && !args[i + 1].empty() && args[i + 1][0] != '-') {
      args[i] += "=" + args[i + 1];
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    }
  }
  return args;
}

std::vector<std::string> one_letter_long_option(std::vector<std::string> args, char letter) {
  const std::string long_form = std::string("--") + letter;
  std::vector<std::string> out;
  for (const auto& arg : args) {
    if (arg == long_form) {
      out.push_back(std::string("-") + letter);
    } else if (arg.rfind(long_form + "=", 0) == 0) {
      out.push_back(std::string("-") + letter);
      out.push_back(arg.substr(long_form.size() + 1));
    } else {
      out.push_back(arg);
    }
  }
  return out;
}

// Each parser below ends where the whole text does: a value from the API may hold a NUL byte
// ("5%00junk"), where a C string would stop.
std::int64_t parse_integer(const std::string& option, const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const long long value = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || end != text.c_str() + text.size()) throw UsageError("--" + option + ": '" + shown(text) + "' is not a whole number");
  if (errno == ERANGE) throw UsageError("--" + option + ": " + shown(text) + " is too large a number");
  return value;
}

namespace {

std::optional<double> finite_number(const std::string& text) {
  errno = 0;
  char* end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE || !std::isfinite(value)) return std::nullopt;
  return value;
}

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

double parse_number(const std::string& option, const std::string& text) {
  const auto value = finite_number(text);
  if (!value) throw UsageError("--" + option + ": '" + shown(text) + "' is not a finite number");
  return *value;
}

std::vector<double> parse_latent_values(const std::string& label, const std::string& text) {
  std::vector<double> numbers;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = text.find(',', start);
    const std::string field = text.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    double value = 0;
    if (const auto fault = latent_value_fault(field, value)) {
      throw UsageError(label + ": '" + shown(field) + "' (value " + std::to_string(numbers.size() + 1) + " of '" + shown(text) +
                       "') " + *fault);
    }
    numbers.push_back(value);
    if (comma == std::string::npos) return numbers;
    start = comma + 1;
  }
}

std::int64_t integer_option(const cxxopts::ParseResult& result, const std::string& option) {
  return parse_integer(option, result[option].as<std::string>());
}

double number_option(const cxxopts::ParseResult& result, const std::string& option) {
  return parse_number(option, result[option].as<std::string>());
}

std::string required_option(const cxxopts::ParseResult& result, const std::string& command, const std::string& option) {
  if (!result.count(option)) {
    throw UsageError(command + ": --" + option + " is required (try 'vae_cnn " + command + " --help')");
  }
  return result[option].as<std::string>();
}

bool train_split_option(const cxxopts::ParseResult& result) {
  const std::string split = result["split"].as<std::string>();
  if (split != "test" && split != "train") throw UsageError("--split: '" + split + "', expected test or train");
  return split == "train";
}

double range_option(const cxxopts::ParseResult& result) {
  const double range = number_option(result, "range");
  if (!(range > 0 && range <= kMaxLatentRange)) {
    throw UsageError("--range: '" + result["range"].as<std::string>() + "', expected a number above 0 and at most " +
                     std::to_string(static_cast<long long>(kMaxLatentRange)));
  }
  return range;
}

std::uint64_t seed_option(const cxxopts::ParseResult& result) {
  const std::int64_t seed = integer_option(result, "seed");
  if (seed < 0) throw UsageError("--seed: expected a whole number of 0 or more");
  return static_cast<std::uint64_t>(seed);
}

}  // namespace vae_cnn
