// `vae_cnn train`: options to a TrainConfig, then the run, told by a TrainVoice.
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/interrupt.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/cli/train_voice.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/standard_output.hpp"
#include "vae_cnn/train/train_options.hpp"
#include "vae_cnn/train/train_run.hpp"

namespace vae_cnn {
namespace {

// The table's rows as cxxopts options, then the options of the command itself.
cxxopts::Options train_command_options() {
  cxxopts::Options options("vae_cnn train", "Trains the CNN-VAE and writes weights, metrics.csv and train.log into --out.");
  const TrainConfig defaults;
  for (const TrainOption& option : train_options()) {
    if (option.switch_value) {
      options.add_options()(option.name, option.help);
    } else if (option.has_default) {
      options.add_options()(option.name, option.help,
                            cxxopts::value<std::string>()->default_value(option_value_text(option, defaults)));
    } else {
      options.add_options()(option.name, option.help, cxxopts::value<std::string>());
    }
  }
  options.add_options()
      ("verbose", "also log the data files read and the output folder's lock")
      ("resume", "continue from a checkpoint (default: <out>/checkpoint.pt) up to --epochs in total",
       cxxopts::value<std::string>()->implicit_value(""))
      ("h,help", "this text");
  return options;
}

// Each row's value: a switch given takes its value, an option its text (or its default).
void read_table_options(const cxxopts::ParseResult& result, TrainCommand& command) {
  for (const TrainOption& option : train_options()) {
    const bool given = result.count(option.name) > 0;
    if (given) command.explicit_fields.insert(option.field);
    if (option.switch_value) {
      if (given) set_option_from_text(option, command.config, *option.switch_value);
    } else if (given || option.has_default) {
      set_option_from_text(option, command.config, result[option.name].as<std::string>());
    }
  }
}

}  // namespace

Command parse_train(const std::vector<std::string>& args) {
  auto options = train_command_options();
  const auto result = parse_command_line(options, "train", attach_optional_value(args, "--resume"));
  if (result.count("help")) return PrintText{options.help()};
  TrainCommand command;
  read_table_options(result, command);
  command.verbose = result.count("verbose") > 0;
  command.resume = result.count("resume") > 0;
  if (command.resume) command.resume_path = result["resume"].as<std::string>();
  // --overwrite with --resume CHECKPOINT lets that run continue in an --out holding another run.
  if (command.resume && command.config.overwrite && command.resume_path.empty()) {
    throw UsageError("--resume and --overwrite exclude each other (--overwrite goes with --resume CHECKPOINT "
                     "--out DIR only, to replace the run in DIR)");
  }
  // Every value read was checked by its row (set_option_from_text); the defaults are valid.
  command.seed_given = command.explicit_fields.count("seed") > 0;
  return command;
}

// The checkpoint to continue, with the options merged into `config`; nullopt for a fresh run,
// whose seed is drawn here when none was given. `--resume` into a folder whose run has not
// finished an epoch yet (killed in its first seconds) starts that run afresh, so that one command
// line serves a job's first start and every restart; `note` then says so.
std::optional<Checkpoint> checkpoint_to_resume(const TrainCommand& command, TrainConfig& config, std::string& note) {
  const std::string own = checkpoint_path_in(config.out_dir);
  const std::string path = command.resume_path.empty() ? own : command.resume_path;
  const bool nothing_yet = command.resume && path == own && !std::filesystem::exists(path);
  if (!command.resume || nothing_yet) {
    if (!command.seed_given) config.seed = std::random_device{}() % 1000000000u;
    if (nothing_yet) note = "note: --resume found no checkpoint in " + config.out_dir + " yet; starting at epoch 1";
    return std::nullopt;
  }
  Checkpoint checkpoint = load_checkpoint(path);
  config = merge_resume_config(config, command.explicit_fields, checkpoint);
  // The data folder's own message points at scripts/fetch_data.sh; a moved folder wants --data.
  if (command.explicit_fields.count("data_dir") == 0 && !std::filesystem::is_directory(config.data_dir)) {
    throw DataError(config.data_dir, "no such data folder: " + path + " was trained on it; pass --data DIR to name "
                                     "where that data is now");
  }
  return checkpoint;
}

int run_train(const TrainCommand& command) {
  require_open_standard_output("vae_cnn train reports every epoch there");
  // First, so that Ctrl-C or SIGTERM during the slow setup still ends the run at a batch boundary.
  InterruptGuard interrupt;
  TrainConfig config = command.config;
  std::string note;
  std::optional<Checkpoint> resume = checkpoint_to_resume(command, config, note);
  Checkpoint* checkpoint = resume ? &*resume : nullptr;
  TrainVoice voice(config, checkpoint, command.verbose, note);
  TrainHooks hooks = voice.hooks();
  hooks.should_stop = [] { return InterruptGuard::requested(); };
  try {
    voice.finished(run_training(config, hooks, checkpoint));
  } catch (const TrainingInterrupted& interruption) {
    std::fprintf(stderr, "vae_cnn: %s\n", voice.interrupted(interruption).c_str());
    return kExitInterrupted;
  } catch (const std::exception& error) {
    voice.failed(error.what());
    throw;
  }
  return kExitOk;
}

}  // namespace vae_cnn
