// The command line: parsing into per-command options (pure, never exits) and running them.
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace vae_cnn {

/// Exit codes of DESIGN.md.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

/// `vae_cnn --help`, `vae_cnn CMD --help` or `--version`: text to print, exit 0.
struct PrintText {
  std::string text;
};

using Command = std::variant<PrintText>;

/// Turns argv into a command; throws UsageError with a one-line message for anything it cannot use.
Command parse_cli(const std::vector<std::string>& args);

/// Runs a parsed command; returns the exit code. Throws DataError, WriteError or std::exception
/// on run-time failure.
int run_command(const Command& command);

/// parse_cli + run_command with every error turned into one line on stderr and an exit code.
int run_cli(int argc, const char* const* argv);

}  // namespace vae_cnn
