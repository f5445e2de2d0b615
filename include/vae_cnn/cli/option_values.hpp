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

/// cxxopts reads an optional value only as `--name=value`; this also accepts `--name value` when
/// the next word is not an option.
std::vector<std::string> attach_optional_value(std::vector<std::string> args, const std::string& option);

/// cxxopts has no one-letter long options; turns `--z V` and `--z=V` into `-z V`.
std::vector<std::string> one_letter_long_option(std::vector<std::string> args, char letter);

/// "--epochs: 'abc' is not a whole number" and the like.
std::int64_t parse_integer(const std::string& option, const std::string& text);
double parse_number(const std::string& option, const std::string& text);
/// A latent point, "0.5,-1.2", as numbers the model's float32 holds exactly as given or as 0:
/// UsageError "<label>: 'x' (value 2 of '0.5,x') is not a finite number" for an empty,
/// non-numeric, infinite or NaN field, "... is too large ..." beyond float32 (it would become
/// infinite) and "... is too small ..." for a nonzero value below float32's normal range.
std::vector<double> parse_latent_values(const std::string& label, const std::string& text);

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
