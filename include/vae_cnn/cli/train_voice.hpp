// What `vae_cnn train` says while it runs: the opening lines, the progress bar, one line per epoch
// (with the dead-encoder alarm), the closing line or the reason it stopped; all of it in train.log.
#pragma once

#include <memory>
#include <string>

#include "vae_cnn/eval/epoch_metrics.hpp"
#include "vae_cnn/cli/progress_bar.hpp"
#include "vae_cnn/cli/run_log.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/train/encoder_alarm.hpp"
#include "vae_cnn/train/train_run.hpp"

namespace vae_cnn {

class TrainVoice {
 public:
  /// `resume`: the checkpoint being continued, or nullptr. `verbose`: also the data files and lock.
  /// `note`, when not empty, is logged first.
  TrainVoice(const TrainConfig& config, const Checkpoint* resume, bool verbose, std::string note = "");

  /// The hooks run_training calls; they refer to this object, which must outlive the run.
  TrainHooks hooks();
  /// False on data-parallel ranks other than 0, which stay silent but for their own errors
  /// (printed by the CLI edge) and leave train.log to rank 0.
  bool started() const { return started_; }
  void finished(const std::vector<EpochMetrics>& history);
  /// Logs why the run stopped and returns the one line for stderr.
  std::string interrupted(const TrainingInterrupted& interruption);
  /// Logs an error that the CLI edge is about to print.
  void failed(const std::string& message);

 private:
  void say_start(const TrainSetup& setup, ConvVae& model);
  void say_epoch(const EpochMetrics& metrics);

  TrainConfig config_;
  const Checkpoint* resume_;
  bool verbose_;
  std::string note_;
  std::string log_path_;
  RunLog log_;
  ProgressBar bar_;
  EncoderAlarm alarm_;
  bool started_ = false;
};

}  // namespace vae_cnn
