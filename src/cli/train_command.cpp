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
#include "vae_cnn/data/device.hpp"
#include "vae_cnn/train/train_run.hpp"

namespace vae_cnn {
namespace {

cxxopts::Options train_options() {
  cxxopts::Options options("vae_cnn train", "Trains the CNN-VAE and writes weights, metrics.csv and train.log into --out.");
  options.add_options()
      ("data", "data folder with the four IDX files", cxxopts::value<std::string>()->default_value("data/mnist"))
      ("bce", "binary cross-entropy reconstruction loss (default: MSE x 784)")
      ("epochs", "epochs to train", cxxopts::value<std::string>()->default_value("50"))
      ("batch-size", "images per batch", cxxopts::value<std::string>()->default_value("128"))
      ("lr", "learning rate", cxxopts::value<std::string>()->default_value("0.001"))
      ("optimizer", "adam (the seed's) or rmsprop (Keras' defaults: rho 0.9, epsilon 1e-7)",
       cxxopts::value<std::string>()->default_value("adam"))
      ("init", "initial weights: keras (the seed's: glorot_uniform kernels, zero biases) or torch (PyTorch's defaults)",
       cxxopts::value<std::string>()->default_value("keras"))
      ("latent-dim", "latent dimensions", cxxopts::value<std::string>()->default_value("2"))
      ("beta", "weight of the KL term", cxxopts::value<std::string>()->default_value("1"))
      ("kl-warmup", "epochs over which the KL weight rises linearly from 0 to --beta (0 = none)",
       cxxopts::value<std::string>()->default_value("0"))
      ("lr-warmup", "optimizer steps over which the learning rate rises linearly to --lr (0 = none)",
       cxxopts::value<std::string>()->default_value("100"))
      ("precision", "fp32, or bf16: the training forward pass in bfloat16 (autocast), weights and loss in fp32",
       cxxopts::value<std::string>()->default_value("fp32"))
      ("revive", "after each of the first N epochs, restart the encoder's dead hidden units (0 = never)",
       cxxopts::value<std::string>()->default_value("10"))
      ("device", "auto, cpu, cuda or cuda:N", cxxopts::value<std::string>()->default_value("auto"))
      ("no-cuda-graph", "on a GPU, launch every step's kernels instead of replaying the step recorded as a CUDA graph")
      ("threads", "intra-op CPU threads (0 = all cores)", cxxopts::value<std::string>()->default_value("0"))
      ("seed", "random seed (default: drawn at random and logged)", cxxopts::value<std::string>())
      ("limit", "train on the first N training images only (0 = all)", cxxopts::value<std::string>()->default_value("0"))
      ("out", "output folder", cxxopts::value<std::string>()->default_value("vae_cnn_weights"))
      ("dist-timeout", "under torchrun: seconds ranks wait for each other (rendezvous, every all-reduce)",
       cxxopts::value<std::string>()->default_value("300"))
      ("verbose", "also log the data files read and the output folder's lock")
      ("overwrite", "replace the run an --out folder holds: start over there, or continue --resume CHECKPOINT there")
      ("resume", "continue from a checkpoint (default: <out>/checkpoint.pt) up to --epochs in total",
       cxxopts::value<std::string>()->implicit_value(""))
      ("h,help", "this text");
  return options;
}

// An option naming one of an enum's values, read by `parse` (which throws invalid_argument).
template <typename Parse>
auto enum_option(const cxxopts::ParseResult& result, const std::string& option, Parse parse) {
  try {
    return parse(result[option].as<std::string>());
  } catch (const std::invalid_argument& error) {
    throw UsageError("--" + option + ": " + error.what());
  }
}

}  // namespace

Command parse_train(const std::vector<std::string>& args) {
  auto options = train_options();
  const auto result = parse_command_line(options, "train", attach_optional_value(args, "--resume"));
  if (result.count("help")) return PrintText{options.help()};
  TrainCommand command;
  TrainConfig& config = command.config;
  config.data_dir = result["data"].as<std::string>();
  config.loss = result.count("bce") ? LossKind::kBce : LossKind::kMse;
  config.epochs = integer_option(result, "epochs");
  config.batch_size = integer_option(result, "batch-size");
  config.learning_rate = number_option(result, "lr");
  config.latent_dim = integer_option(result, "latent-dim");
  config.beta = number_option(result, "beta");
  config.kl_warmup = integer_option(result, "kl-warmup");
  config.lr_warmup = integer_option(result, "lr-warmup");
  config.revive_epochs = integer_option(result, "revive");
  config.optimizer = enum_option(result, "optimizer", parse_optimizer_kind);
  config.precision = enum_option(result, "precision", parse_precision);
  config.init = enum_option(result, "init", parse_init_kind);
  config.device = result["device"].as<std::string>();
  config.cuda_graph = result.count("no-cuda-graph") == 0;
  config.threads = static_cast<int>(std::clamp<std::int64_t>(integer_option(result, "threads"), -1, 1 << 20));
  config.limit = integer_option(result, "limit");
  config.out_dir = result["out"].as<std::string>();
  const std::int64_t group_timeout = integer_option(result, "dist-timeout");
  if (group_timeout < 1 || group_timeout > 86400) {
    throw UsageError("--dist-timeout must be between 1 and 86400 seconds, got " + std::to_string(group_timeout));
  }
  config.group_timeout_seconds = static_cast<int>(group_timeout);
  for (const auto& option : result.arguments()) command.explicit_options.insert(option.key());
  command.verbose = result.count("verbose") > 0;
  config.overwrite = result.count("overwrite") > 0;
  command.resume = result.count("resume") > 0;
  if (command.resume) command.resume_path = result["resume"].as<std::string>();
  // --overwrite with --resume CHECKPOINT lets that run continue in an --out holding another run.
  if (command.resume && config.overwrite && command.resume_path.empty()) {
    throw UsageError("--resume and --overwrite exclude each other (--overwrite goes with --resume CHECKPOINT "
                     "--out DIR only, to replace the run in DIR)");
  }
  command.seed_given = result.count("seed") > 0;
  if (command.seed_given) {
    const std::int64_t seed = integer_option(result, "seed");
    if (seed < 0) throw UsageError("--seed must be 0 or more, got " + std::to_string(seed));
    config.seed = static_cast<std::uint64_t>(seed);
  }
  validate_train_config(config);
  check_device_spec(config.device);
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
  config = merge_resume_config(config, command.explicit_options, checkpoint);
  // The data folder's own message points at scripts/fetch_data.sh; a moved folder wants --data.
  if (command.explicit_options.count("data") == 0 && !std::filesystem::is_directory(config.data_dir)) {
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
