// Reading option values with messages that name the option and say what was expected; parsing
// never exits, it throws UsageError.
#pragma once

#include <cxxopts.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// Parses `args` (the words after the command name) with `options`; unknown options, missing
/// values and stray words become UsageError with the command's name.
cxxopts::ParseResult parse_command_line(cxxopts::Options& options, const std::string& command,
                                        const std::vector<std::string>& args);

/// "--epochs: 'abc' is not a whole number" and the like.
std::int64_t parse_integer(const std::string& option, const std::string& text);
double parse_number(const std::string& option, const std::string& text);

/// The option's value as an integer or number (its default when not given).
std::int64_t integer_option(const cxxopts::ParseResult& result, const std::string& option);
double number_option(const cxxopts::ParseResult& result, const std::string& option);

}  // namespace vae_cnn
