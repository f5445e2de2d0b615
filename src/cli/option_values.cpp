// Numbers are declared to cxxopts as strings and converted here, so a bad value's message names
// the option (cxxopts' own says only "Argument 'abc' failed to parse").
#include "vae_cnn/cli/option_values.hpp"

#include "vae_cnn/errors.hpp"
#include "vae_cnn/number_text.hpp"

namespace vae_cnn {
namespace {

// cxxopts quotes with typographic marks; one-line errors stay plain ASCII.
std::string plain_quotes(std::string text) {
  for (const std::string mark : {"\u2018", "\u2019"}) {
    for (auto at = text.find(mark); at != std::string::npos; at = text.find(mark, at)) text.replace(at, mark.size(), "'");
  }
  return text;
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

// The parsers read to the end of the text: a value from the API may hold a NUL byte ("5%00junk"),
// where a C string would stop (number_text.hpp).
std::int64_t parse_integer(const std::string& option, const std::string& text) {
  const auto value = whole_number(text);
  if (!value) throw OptionError(option, text, "a whole number within 64 bits");
  return *value;
}

double parse_number(const std::string& option, const std::string& text) {
  const auto value = finite_number(text);
  if (!value) throw OptionError(option, text, "a finite number");
  return *value;
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
  if (split != "test" && split != "train") throw OptionError("split", split, "test or train");
  return split == "train";
}

double range_option(const cxxopts::ParseResult& result) {
  const double range = number_option(result, "range");
  if (!(range > 0 && range <= kMaxLatentRange)) {
    throw OptionError("range", result["range"].as<std::string>(),
                      "a number above 0 and at most " + std::to_string(static_cast<long long>(kMaxLatentRange)));
  }
  return range;
}

std::uint64_t seed_option(const cxxopts::ParseResult& result) {
  const std::int64_t seed = integer_option(result, "seed");
  if (seed < 0) throw OptionError("seed", std::to_string(seed), "a whole number of 0 or more");
  return static_cast<std::uint64_t>(seed);
}

}  // namespace vae_cnn
