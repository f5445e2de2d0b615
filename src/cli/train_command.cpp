// `vae_cnn train`: options to a TrainConfig, and the run's voice: log lines, progress, train.log.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/interrupt.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/cli/progress_bar.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/data/device.hpp"
#include "vae_cnn/train/encoder_alarm.hpp"
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
       cxxopts::value<std::string>()->default_value("0"))
      ("device", "auto, cpu, cuda or cuda:N", cxxopts::value<std::string>()->default_value("auto"))
      ("threads", "intra-op CPU threads (0 = all cores)", cxxopts::value<std::string>()->default_value("0"))
      ("seed", "random seed (default: drawn at random and logged)", cxxopts::value<std::string>())
      ("limit", "train on the first N training images only (0 = all)", cxxopts::value<std::string>()->default_value("0"))
      ("out", "output folder", cxxopts::value<std::string>()->default_value("vae_cnn_weights"))
      ("dist-timeout", "under torchrun: seconds ranks wait for each other (rendezvous, every all-reduce)",
       cxxopts::value<std::string>()->default_value("300"))
      ("verbose", "also log the data files read and the output folder's lock")
      ("resume", "continue from a checkpoint (default: <out>/checkpoint.pt) up to --epochs in total",
       cxxopts::value<std::string>()->implicit_value(""))
      ("h,help", "this text");
  return options;
}

// Keeps every log line in memory so train.log can be rewritten atomically after each epoch.
class RunLog {
 public:
  /// Starts from `previous` (the log of the run being resumed).
  explicit RunLog(const std::string& previous = "") {
    buffer_ << previous;
    auto console = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    console->set_pattern("%v");
    auto file = std::make_shared<spdlog::sinks::ostream_sink_mt>(buffer_);
    file->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
    logger_ = std::make_shared<spdlog::logger>("train", spdlog::sinks_init_list{console, file});
    logger_->set_level(spdlog::level::info);
    logger_->flush_on(spdlog::level::info);
  }
  spdlog::logger& operator*() { return *logger_; }
  spdlog::logger* operator->() { return logger_.get(); }
  void save(const std::string& path) { write_file_atomically(path, buffer_.str()); }

 private:
  std::ostringstream buffer_;
  std::shared_ptr<spdlog::logger> logger_;
};

std::string read_text_if_present(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  if (in) text << in.rdbuf();
  return text.str();
}

std::string epoch_line(const EpochMetrics& m, std::int64_t epochs) {
  const std::string encoder =
      m.encoder.hidden_units > 0 ? fmt::format("  encoder {}/{} units, z spread {:.3g}", m.encoder.hidden_alive,
                                               m.encoder.hidden_units, m.encoder.z_mean_spread)
                                 : "";
  return fmt::format(
      "epoch {}/{}  loss {:.3f} (rec {:.3f} + kl {:.3f})  val_loss {:.3f} (rec {:.3f} + kl {:.3f})  {:.1f} s  {:.0f} img/s{}",
      m.epoch, epochs, m.loss, m.reconstruction, m.kl, m.val_loss, m.val_reconstruction, m.val_kl, m.seconds,
      m.images_per_second, encoder);
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
  try {
    config.optimizer = parse_optimizer_kind(result["optimizer"].as<std::string>());
  } catch (const std::invalid_argument& error) {
    throw UsageError(std::string("--optimizer: ") + error.what());
  }
  try {
    config.init = parse_init_kind(result["init"].as<std::string>());
  } catch (const std::invalid_argument& error) {
    throw UsageError(std::string("--init: ") + error.what());
  }
  config.device = result["device"].as<std::string>();
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
  command.resume = result.count("resume") > 0;
  if (command.resume) command.resume_path = result["resume"].as<std::string>();
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

int run_train(const TrainCommand& command) {
  TrainConfig config = command.config;
  Checkpoint checkpoint;
  Checkpoint* resume = nullptr;
  if (command.resume) {
    const std::string path = command.resume_path.empty() ? checkpoint_path_in(config.out_dir) : command.resume_path;
    checkpoint = load_checkpoint(path);
    config = merge_resume_config(config, command.explicit_options, checkpoint);
    resume = &checkpoint;
  } else if (!command.seed_given) {
    config.seed = std::random_device{}() % 1000000000u;
  }
  const std::string log_path = (std::filesystem::path(config.out_dir) / "train.log").string();
  RunLog log(resume ? read_text_if_present(log_path) : "");
  ProgressBar bar(stdout, is_terminal(stdout), config.epochs);
  InterruptGuard interrupt;
  // Set when the run reports its start: never on data-parallel ranks other than 0, which stay
  // silent but for their own errors (printed by the CLI edge) and leave train.log to rank 0.
  bool started = false;

  TrainHooks hooks;
  hooks.should_stop = [] { return InterruptGuard::requested(); };
  hooks.on_start = [&](const TrainSetup& setup, ConvVae& model) {
    started = true;
    if (resume) log->info("resuming from {} after epoch {}", resume->path, resume->epoch);
    log->info("vae_cnn {} train: data {} ({} training images{}, {} test), loss {}, beta {}{}, latent {}", VAE_CNN_VERSION,
              config.data_dir, setup.train_images,
              setup.train_images < setup.available_train_images ? fmt::format(" of {}", setup.available_train_images) : "",
              setup.test_images, to_string(config.loss), config.beta,
              config.kl_warmup > 0 ? fmt::format(" (KL warm-up over {} epochs)", config.kl_warmup) : "",
              config.latent_dim);
    if (command.verbose) {
      for (const auto& file : setup.data_files) {
        log->info("data file {}{}", file.path,
                  file.gzip_ignored ? fmt::format(" (raw file used; {}.gz is there too and ignored)", file.path) : "");
      }
      log->info("holding the lock {} for this run", setup.lock_path);
    }
    if (config.limit > setup.available_train_images) {
      log->info("note: --limit {} is above the {} training images; training on all of them", config.limit,
                setup.available_train_images);
    }
    log->info("device {}, {} threads{}, seed {}, epochs {}..{} of batch {}, {} lr {}{}, init {}", setup.device,
              setup.threads, setup.world_size > 1 ? " per rank" : "", setup.seed, setup.first_epoch, config.epochs,
              config.batch_size, config.optimizer == OptimizerKind::kAdam ? "Adam" : "RMSprop", config.learning_rate,
              config.lr_warmup > 0 ? fmt::format(" (warm-up over {} steps)", config.lr_warmup) : "",
              to_string(config.init));
    if (setup.world_size > 1) {
      log->info("data-parallel over {} ranks (c10d {}): each takes its share of every batch of {}; this is rank 0",
                setup.world_size, setup.collectives, config.batch_size);
    }
    if (!resume) {
      std::istringstream summary(model_summary(model));
      for (std::string line; std::getline(summary, line);) log->info("{}", line);
    }
    log->info("writing {}, {} and {} after every epoch", setup.checkpoint_path, setup.weights_path, setup.metrics_path);
  };
  hooks.on_batch = [&](const BatchProgress& progress) {
    bar.update(progress);
    if (progress.batch == progress.num_batches) bar.finish_epoch(progress);
  };
  EncoderAlarm encoder_alarm;
  hooks.on_epoch = [&](const EpochMetrics& metrics) {
    bar.clear();
    log->info("{}", epoch_line(metrics, config.epochs));
    if (const auto alarm = encoder_alarm.after_epoch(metrics)) log->warn("{}", *alarm);
    log.save(log_path);
  };

  auto record_failure = [&](const std::string& message) {
    if (!started) return;
    (*log).sinks().front()->set_level(spdlog::level::off);  // the CLI edge prints it on stderr
    log->error("{}", message);
    try {
      log.save(log_path);
    } catch (const std::exception&) {
      // The folder refused the log as well; the error itself still reaches stderr.
    }
  };

  try {
    const auto history = run_training(config, hooks, resume);
    if (!started) return kExitOk;  // a data-parallel rank other than 0
    log->info("done: {} epochs; final val_loss {:.3f}; files in {}", history.size(), history.back().val_loss,
              config.out_dir);
    log.save(log_path);
  } catch (const TrainingInterrupted& interrupted) {
    bar.clear();
    const std::int64_t completed = interrupted.epoch() - 1;
    const std::string checkpoint_file = checkpoint_path_in(config.out_dir);
    const std::string message =
        completed > 0
            ? fmt::format("{}; {} holds epochs 1..{}; continue with: vae_cnn train --resume {} --epochs {}",
                          interrupted.what(), checkpoint_file, completed, checkpoint_file, config.epochs)
            : fmt::format("{}; no epoch was complete, so there is nothing to resume", interrupted.what());
    record_failure(message);
    std::fprintf(stderr, "vae_cnn: %s\n", message.c_str());
    return kExitInterrupted;
  } catch (const std::exception& error) {
    bar.clear();
    record_failure(error.what());
    throw;
  }
  return kExitOk;
}

}  // namespace vae_cnn
