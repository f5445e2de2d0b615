// A whole `vae_cnn train` run: data, device, model, loops, and the files written into --out.
#pragma once

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/train/checkpoint.hpp"

#include "vae_cnn/train/train_config.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {

/// What a run settled on before its first batch.
struct TrainSetup {
  std::string dataset;             ///< e.g. "mnist"
  std::int64_t train_images = 0;   ///< after --limit
  std::int64_t test_images = 0;
  std::int64_t available_train_images = 0;  ///< before --limit
  std::string device;              ///< e.g. "cpu", "cuda:0"
  int threads = 0;
  std::uint64_t seed = 0;
  std::string weights_path;        ///< <out>/vae_cnn.<dataset>.pt
  std::string metrics_path;        ///< <out>/metrics.csv
  std::string checkpoint_path;     ///< <out>/checkpoint.pt
  std::int64_t first_epoch = 1;    ///< above 1 when resuming
  std::vector<DataFileChoice> data_files;  ///< the IDX files or the archive read
  std::string data_form;                   ///< "IDX files", "image folders" or "NumPy archive"
  ImageShape image_shape;                  ///< the images as the model takes them
  std::vector<std::string> class_names;    ///< by label; empty: unlabelled
  std::int64_t resized_images = 0;         ///< images resized to --image-size
  std::int64_t ignored_files = 0;          ///< files in image folders that are not images by extension
  std::string lock_path;           ///< <out>/.vae_cnn.lock, held for the whole run (rank 0 only)
  int world_size = 1;              ///< ranks in the run; 1 without torchrun
  std::string collectives;         ///< "Gloo" or "NCCL" where world_size > 1
  /// Why the steps are launched eagerly rather than replayed as a recorded CUDA graph, or "" when
  /// they are replayed (step_recording_unavailable_reason).
  std::string eager_step_reason;
  /// Why the chosen precision trains slower than fp32 would here (slower_precision_note), or "".
  std::string precision_note;
};

/// The training images --limit leaves (all when `limit` is 0 or not below their number): the first
/// `limit` of IDX files and archives, `limit` spread evenly over image folders, which list a class at
/// a time.
Dataset limited_training_images(const DataSplits& data, std::int64_t limit);

/// on_start, on_batch and on_epoch report the run: in a data-parallel run only rank 0 calls them.
/// should_stop is polled on every rank.
struct TrainHooks {
  std::function<void(const TrainSetup&, ConvVae&)> on_start;  ///< before the first batch
  std::function<void(const BatchProgress&)> on_batch;
  std::function<void(const EpochMetrics&)> on_epoch;           ///< after the epoch's files are written
  std::function<bool()> should_stop;                           ///< polled after every batch
  std::function<void(const std::string&)> on_notice;           ///< FitCallbacks::on_notice
};

/// The checkpoint file of an output folder.
std::string checkpoint_path_in(const std::string& out_dir);

/// The log file of an output folder (train.log).
std::string train_log_path_in(const std::string& out_dir);

/// "vae_cnn.<dataset>.pt": the name of a run's weights file in its output folder.
std::string weights_file_name(const std::string& dataset);

/// The options a resumed run uses: merge_resume_options (train_options.hpp) of those given
/// (`explicit_fields`: the TrainConfig fields the user set) over the checkpoint's, whose epochs
/// the run must exceed. Throws OptionError naming the field.
TrainConfig merge_resume_config(const TrainConfig& given, const std::set<std::string>& explicit_fields,
                                const Checkpoint& checkpoint);

/// Runs training as configured, writing checkpoint.pt, the weights and metrics.csv into `out_dir`
/// after every epoch (atomically); continues from `resume` when given. Holds a FolderLock on
/// `out_dir` throughout.
///
/// Under torchrun (WORLD_SIZE above 1 in the environment, see read_launcher_env) it joins a c10d
/// group and trains data-parallel: parameters and seed broadcast from rank 0, --batch-size the
/// global batch, each rank taking its share of every batch with threads = cores / ranks on this
/// machine unless --threads says otherwise; only rank 0 takes the lock, writes files and reports. A
/// checkpoint resumes with any number of ranks. Group failures throw ProcessGroupError. Throws DataError for bad data, WriteError for output that cannot be
/// written, FolderBusyError when another run holds `out_dir`, ResourceError when a step cannot fit
/// in the memory left (checked before the first batch, on the CPU), NonFiniteLossError when training diverges,
/// TrainingInterrupted when should_stop said so. Returns every epoch's metrics, resumed ones included.
std::vector<EpochMetrics> run_training(const TrainConfig& config, const TrainHooks& hooks,
                                       Checkpoint* resume = nullptr);

}  // namespace vae_cnn
