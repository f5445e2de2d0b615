// The command line: parsing into per-command options (pure, never exits) and running them.
#pragma once

#include <set>
#include <string>
#include <variant>
#include <vector>

#include "vae_cnn/render/plot_set.hpp"
#include "vae_cnn/train/train_config.hpp"

namespace vae_cnn {

/// Exit codes of docs/DESIGN.md.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
constexpr int kExitInterrupted = 130;

/// `vae_cnn --help`, `vae_cnn CMD --help` or `--version`: text to print, exit 0.
struct PrintText {
  std::string text;
};

/// `vae_cnn train`.
struct TrainCommand {
  TrainConfig config;
  bool seed_given = false;  ///< without --seed a random seed is drawn and logged
  bool resume = false;      ///< --resume given
  std::string resume_path;  ///< its value; empty = <out>/checkpoint.pt
  bool verbose = false;     ///< --verbose: log the data files read and the lock held
  std::set<std::string> explicit_fields;  ///< TrainConfig fields the user set, which win over a checkpoint's
};

/// `vae_cnn summary`.
struct SummaryCommand {
  std::int64_t latent_dim = 2;
  ImageShape image_shape;  ///< --channels × --image-size × --image-size; MNIST's by default
  std::string weights;     ///< -w: the tables of a trained model instead (its latent size and shape)
};

/// `vae_cnn encode`.
struct EncodeCommand {
  std::string weights;
  std::string data_dir;       ///< empty: data/<the weights' data set>
  bool train_split = false;   ///< --split train
  std::string output;         ///< empty: standard output
  std::string device = "cpu";
};

/// `vae_cnn decode`.
struct DecodeCommand {
  std::string weights;
  std::vector<double> z;
  std::string output = "digit.png";
  std::string device = "cpu";
};

/// `vae_cnn plot`.
struct PlotCommand {
  std::string weights;
  std::string data_dir;  ///< empty: data/<the weights' data set>
  std::string device = "cpu";
  PlotInputOptions inputs;
  PlotOptions options;
};

/// `vae_cnn eval`.
struct EvalCommand {
  std::string weights;
  std::string data_dir;        ///< empty: data/<the weights' data set>
  bool train_split = false;    ///< --split train
  std::int64_t samples = 100;  ///< --iw K
  std::uint64_t seed = 0;
  std::string json;            ///< empty: no JSON file
  std::string device = "cpu";
};

/// `vae_cnn interpolate`.
struct InterpolateCommand {
  std::string weights;
  std::int64_t from = 0, to = 0;  ///< test image indices
  std::int64_t steps = 10;
  std::string data_dir;           ///< empty: data/<the weights' data set>
  std::string output = "interpolation.png";
  std::string device = "cpu";
};

/// `vae_cnn serve`.
struct ServeCommand {
  std::string weights;
  std::string data_dir;  ///< empty: data/<the weights' data set>
  std::string host = "127.0.0.1";
  int port = 8080;       ///< 0: any free port
  double range = 4.0;    ///< the map's axes run from -range to +range, as plot's
  std::string device = "cpu";
};

using Command = std::variant<PrintText, TrainCommand, SummaryCommand, EncodeCommand, DecodeCommand, PlotCommand,
                             EvalCommand, InterpolateCommand, ServeCommand>;

/// Per-command parsers: `args` are the words after the command name.
Command parse_train(const std::vector<std::string>& args);
Command parse_summary(const std::vector<std::string>& args);
Command parse_encode(const std::vector<std::string>& args);
Command parse_decode(const std::vector<std::string>& args);
Command parse_plot(const std::vector<std::string>& args);
Command parse_eval(const std::vector<std::string>& args);
Command parse_interpolate(const std::vector<std::string>& args);
Command parse_serve(const std::vector<std::string>& args);

/// Per-command runners; each returns the exit code.
int run_train(const TrainCommand& command);
int run_summary(const SummaryCommand& command);
int run_encode(const EncodeCommand& command);
int run_decode(const DecodeCommand& command);
int run_plot(const PlotCommand& command);
int run_eval(const EvalCommand& command);
int run_interpolate(const InterpolateCommand& command);
int run_serve(const ServeCommand& command);

/// Turns argv into a command; throws UsageError with a one-line message for anything it cannot use.
Command parse_cli(const std::vector<std::string>& args);

/// Runs a parsed command; returns the exit code. Throws DataError, WriteError or std::exception
/// on run-time failure.
int run_command(const Command& command);

/// parse_cli + run_command with every error turned into one line on stderr and an exit code.
int run_cli(int argc, const char* const* argv);

}  // namespace vae_cnn
