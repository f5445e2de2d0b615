#include "vae_cnn/cli/train_voice.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/train/train_options.hpp"

namespace vae_cnn {
namespace {

std::string epoch_line(const EpochMetrics& m, std::int64_t epochs) {
  const std::string encoder =
      m.encoder.hidden_units > 0 ? fmt::format("  encoder {}/{} units, z spread {:.3g}", m.encoder.hidden_alive,
                                               m.encoder.hidden_units, m.encoder.z_mean_spread)
                                 : "";
  const std::string restarted = m.restarted_units > 0 ? fmt::format(", {} restarted", m.restarted_units) : "";
  return fmt::format(
      "epoch {}/{}  loss {:.3f} (rec {:.3f} + kl {:.3f})  val_loss {:.3f} (rec {:.3f} + kl {:.3f})  {:.1f} s  {:.0f} img/s{}{}",
      m.epoch, epochs, m.loss, m.reconstruction, m.kl, m.val_loss, m.val_reconstruction, m.val_kl, m.seconds,
      m.images_per_second, encoder, restarted);
}

std::string data_line(const TrainConfig& config, const TrainSetup& setup) {
  return fmt::format(
      "vae_cnn {} train: data {} ({} training images{}, {} test)", VAE_CNN_VERSION, config.data_dir, setup.train_images,
      setup.train_images < setup.available_train_images ? fmt::format(" of {}", setup.available_train_images) : "",
      setup.test_images);
}

// "images 3x32x32 (RGB) from image folders, 10 classes: airplane, automobile, ...; 40 resized to
// 32x32; 3 files that are not images ignored".
std::string images_line(const TrainSetup& setup) {
  const ImageShape& shape = setup.image_shape;
  std::string line = fmt::format("images {}x{}x{} ({}) from {}", shape.channels, shape.height, shape.width,
                                 shape.channels == 1 ? "grey" : "RGB", setup.data_form);
  const std::vector<std::string>& names = setup.class_names;
  if (names.empty()) {
    line += ", unlabelled";
  } else {
    constexpr std::size_t kNamesShown = 10;
    std::vector<std::string> shown(names.begin(), names.begin() + std::min(names.size(), kNamesShown));
    line += fmt::format(", {} classes: {}{}", names.size(), fmt::join(shown, ", "),
                        names.size() > kNamesShown ? fmt::format(", ... ({} more)", names.size() - kNamesShown) : "");
  }
  if (setup.resized_images > 0) {
    line += fmt::format("; {} resized to {}x{}", setup.resized_images, shape.height, shape.width);
  }
  if (setup.ignored_files > 0) line += fmt::format("; {} files that are not images ignored", setup.ignored_files);
  return line;
}

std::string place_line(const TrainConfig& config, const TrainSetup& setup) {
  return fmt::format("device {}, {} threads{}, seed {}, epochs {}..{}", setup.device, setup.threads,
                     setup.world_size > 1 ? " per rank" : "", setup.seed, setup.first_epoch, config.epochs);
}

}  // namespace

TrainVoice::TrainVoice(const TrainConfig& config, const Checkpoint* resume, bool verbose, std::string note)
    : config_(config),
      resume_(resume),
      verbose_(verbose),
      note_(std::move(note)),
      log_path_(train_log_path_in(config.out_dir)),
      log_(resume ? read_text_if_present(log_path_) : ""),
      bar_(stdout, is_terminal(stdout), config.epochs) {}

TrainHooks TrainVoice::hooks() {
  TrainHooks hooks;
  hooks.on_start = [this](const TrainSetup& setup, ConvVae& model) { say_start(setup, model); };
  hooks.on_batch = [this](const BatchProgress& progress) {
    bar_.update(progress);
    if (progress.batch == progress.num_batches) bar_.finish_epoch(progress);
  };
  hooks.on_epoch = [this](const EpochMetrics& metrics) { say_epoch(metrics); };
  hooks.on_notice = [this](const std::string& notice) {
    bar_.clear();
    log_->warn("{}", notice);
  };
  return hooks;
}

void TrainVoice::say_start(const TrainSetup& setup, ConvVae& model) {
  started_ = true;
  if (!note_.empty()) log_->info("{}", note_);
  if (resume_) log_->info("resuming from {} after epoch {}", resume_->path, resume_->epoch);
  log_->info("{}", data_line(config_, setup));
  log_->info("{}", images_line(setup));
  if (verbose_) {
    for (const auto& file : setup.data_files) {
      log_->info("data file {}{}", file.path,
                 file.gzip_ignored ? fmt::format(" (raw file used; {}.gz is there too and ignored)", file.path) : "");
    }
    log_->info("holding the lock {} for this run", setup.lock_path);
  }
  if (config_.limit > setup.available_train_images) {
    log_->info("note: --limit {} is above the {} training images; training on all of them", config_.limit,
               setup.available_train_images);
  }
  log_->info("{}", place_line(config_, setup));
  log_->info("options: {}", logged_options_text(config_));
  const unsigned cores = std::thread::hardware_concurrency();
  if (cores > 0 && config_.threads > static_cast<int>(cores)) {
    log_->warn("--threads {} is more than the {} cores of this machine: the threads take turns on them and every "
               "step slows down; --threads 0 uses each core once", config_.threads, cores);
  }
  if (!setup.precision_note.empty()) log_->warn("{}", setup.precision_note);
  // Only a GPU has a choice to report; on the CPU every step is launched eagerly.
  if (setup.device.rfind("cuda", 0) == 0) {
    log_->info("{}", setup.eager_step_reason.empty()
                         ? std::string("training step: recorded once as a CUDA graph, replayed for every full batch")
                         : "training step: launched eagerly: " + setup.eager_step_reason);
  }
  if (setup.world_size > 1) {
    log_->info("data-parallel over {} ranks (c10d {}): each takes its share of every batch of {}; this is rank 0",
               setup.world_size, setup.collectives, config_.batch_size);
  }
  if (!resume_) {
    std::istringstream summary(model_summary(model));
    for (std::string line; std::getline(summary, line);) log_->info("{}", line);
  }
  log_->info("writing {}, {} and {} after every epoch", setup.checkpoint_path, setup.weights_path, setup.metrics_path);
}

void TrainVoice::say_epoch(const EpochMetrics& metrics) {
  bar_.clear();
  log_->info("{}", epoch_line(metrics, config_.epochs));
  if (const auto alarm = alarm_.after_epoch(metrics)) log_->warn("{}", *alarm);
  refuse_planted_link(log_path_);
  log_.save(log_path_);
}

void TrainVoice::finished(const std::vector<EpochMetrics>& history) {
  if (!started_) return;
  log_->info("done: {} epochs; final val_loss {:.3f}; files in {}", history.size(), history.back().val_loss,
             config_.out_dir);
  refuse_planted_link(log_path_);
  log_.save(log_path_);
}

std::string TrainVoice::interrupted(const TrainingInterrupted& interruption) {
  const std::int64_t completed = interruption.epoch() - 1;
  const std::string checkpoint_file = checkpoint_path_in(config_.out_dir);
  const std::string message =
      completed > 0 ? fmt::format("{}; {} holds epochs 1..{}; continue with: vae_cnn train --resume {} --epochs {}",
                                  interruption.what(), checkpoint_file, completed, checkpoint_file, config_.epochs)
                    : fmt::format("{}; no epoch was complete, so there is nothing to resume", interruption.what());
  failed(message);
  return message;
}

void TrainVoice::failed(const std::string& message) {
  bar_.clear();
  if (!started_) return;
  log_.silence_console();  // the CLI edge prints it on stderr
  log_->error("{}", message);
  try {
    refuse_planted_link(log_path_);
    log_.save(log_path_);
  } catch (const std::exception&) {
    // The folder refused the log as well; the error itself still reaches stderr.
  }
}

}  // namespace vae_cnn
