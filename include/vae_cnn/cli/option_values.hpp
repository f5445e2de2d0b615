// Reading option values with messages that name the option and say what was expected; parsing
// never exits, it throws UsageError (OptionError for a bad value, worded by option_words.hpp).
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

/// cxxopts reads an optional value only as `--name=value`; this also accepts `--name value` when
/// the next word is not an option.
std::vector<std::string> attach_optional_value(std::vector<std::string> args, const std::string& option);

/// cxxopts has no one-letter long options; turns `--z V` and `--z=V` into `-z V`.
std::vector<std::string> one_letter_long_option(std::vector<std::string> args, char letter);

/// The text as a whole number or finite number; OptionError naming `option` otherwise.
std::int64_t parse_integer(const std::string& option, const std::string& text);
double parse_number(const std::string& option, const std::string& text);

/// The option's value as an integer or number (its default when not given).
std::int64_t integer_option(const cxxopts::ParseResult& result, const std::string& option);
double number_option(const cxxopts::ParseResult& result, const std::string& option);

/// The value of an option the command cannot do without; UsageError naming it when absent.
std::string required_option(const cxxopts::ParseResult& result, const std::string& command, const std::string& option);

/// `--split test|train`: true for train; UsageError for anything else.
bool train_split_option(const cxxopts::ParseResult& result);

/// The largest --range of `plot` and `serve`: the prior is N(0, I), so a map wider than a thousand
/// standard deviations shows nothing more, and the manifold's tick labels (one decimal) still fit
/// beside the picture up to here.
constexpr double kMaxLatentRange = 1000;
/// `--range R` of `plot` and `serve`: above 0 and at most kMaxLatentRange.
double range_option(const cxxopts::ParseResult& result);

/// `--seed N` with N of 0 or more.
std::uint64_t seed_option(const cxxopts::ParseResult& result);

}  // namespace vae_cnn
