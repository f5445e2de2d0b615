// Everything a run must settle (device, output folder, data) is settled before the first batch,
// so a bad option or an unwritable folder fails in a second, not after an hour of training.
#include "vae_cnn/train/train_run.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

#include "vae_cnn/data/data_options.hpp"
#include "vae_cnn/data/spread_images.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/cpu_features.hpp"
#include "vae_cnn/io/folder_lock.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/io/system_memory.hpp"
#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/kernels/precision_advice.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"
#include "vae_cnn/train/memory_budget.hpp"
#include "vae_cnn/train/process_group.hpp"
#include "vae_cnn/train/train_options.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;

void prepare_output_folder(const std::string& out_dir) {
  std::error_code error;
  if (fs::exists(out_dir, error) && !fs::is_directory(out_dir, error)) {
    throw WriteError(out_dir, "exists and is not a folder (--out must name a folder)");
  }
  fs::create_directories(out_dir, error);
  if (error) throw WriteError(out_dir, "cannot create the output folder: " + error.message());
  // Proves the folder takes files now rather than when the first epoch ends.
  check_folder_takes_files(out_dir);
}

Dataset to_device(const Dataset& data, torch::Device device) {
  return data.to(device);
}

// The group of a run torchrun started, joined before anything else so that a rank failing at any
// later step is seen by the others at once; none for a plain run.
std::unique_ptr<DataParallelGroup> join_group_if_launched(const std::optional<LauncherEnv>& launcher,
                                                          const TrainConfig& config,
                                                          const std::function<void(const std::string&)>& on_notice) {
  if (!launcher) return nullptr;
  const std::chrono::seconds timeout(config.group_timeout_seconds);
  // Rank 0 alone speaks, as for the rest of the run.
  if (on_notice && launcher->rank == 0) on_notice(rendezvous_notice(*launcher, timeout));
  return std::make_unique<DataParallelGroup>(*launcher, timeout);
}

// --threads, else the cores shared out among the ranks on this machine.
int intra_op_threads(const TrainConfig& config, int ranks_here) {
  if (config.threads > 0) return config.threads;
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return std::max(1, cores / ranks_here);
}

// Each rank drew its own seed when none was given; rank 0's is the run's.
std::uint64_t seed_of_first_rank(DataParallelGroup& group, std::uint64_t own_seed) {
  auto seed = torch::tensor({static_cast<std::int64_t>(own_seed)}, torch::kLong);
  group.broadcast_from_first({seed});
  return static_cast<std::uint64_t>(seed.item<std::int64_t>());
}

}  // namespace

std::string checkpoint_path_in(const std::string& out_dir) { return (fs::path(out_dir) / "checkpoint.pt").string(); }

std::string train_log_path_in(const std::string& out_dir) { return (fs::path(out_dir) / "train.log").string(); }

std::string weights_file_name(const std::string& dataset) { return "vae_cnn." + dataset + ".pt"; }

TrainConfig merge_resume_config(const TrainConfig& given_config, const std::set<std::string>& explicit_fields,
                                const Checkpoint& checkpoint) {
  TrainConfig merged = merge_resume_options(given_config, explicit_fields, checkpoint.config, checkpoint.path,
                                            checkpoint.weights.metadata.dataset);
  if (merged.epochs <= checkpoint.epoch) {
    throw OptionError("epochs", std::to_string(merged.epochs),
                      "above the " + std::to_string(checkpoint.epoch) + " epochs the checkpoint " + checkpoint.path +
                          " has done, or there is nothing to resume");
  }
  return merged;
}

namespace {

// Where a run takes place: its group (if torchrun started it), device, threads and lock.
struct RunPlace {
  std::unique_ptr<DataParallelGroup> group;
  bool rank_zero = true;  ///< rank 0 (or the only process) alone holds the lock, writes and reports
  int ranks_here = 1;     ///< ranks on this machine
  torch::Device device = torch::kCPU;
  int threads = 1;
  std::optional<FolderLock> lock;
};

// Fills `place` (a lock cannot move, so the caller owns it); sets a data-parallel run's seed.
void settle_place(TrainConfig& config, bool resuming, RunPlace& place,
                  const std::function<void(const std::string&)>& on_notice) {
  const std::optional<LauncherEnv> launcher = read_launcher_env();
  place.group = join_group_if_launched(launcher, config, on_notice);
  place.rank_zero = place.group == nullptr || place.group->rank() == 0;
  place.ranks_here = launcher ? launcher->local_world_size : 1;
  place.device = resolve_device(config.device, launcher ? launcher->local_rank : 0);
  if (place.group != nullptr) place.group->use_device(place.device);
  place.threads = intra_op_threads(config, place.ranks_here);
  torch::set_num_threads(place.threads);
  if (place.rank_zero) {
    prepare_output_folder(config.out_dir);
    place.lock.emplace(config.out_dir, describe_this_process("vae_cnn train into " + config.out_dir));
  }
  if (place.group != nullptr && !resuming) config.seed = seed_of_first_rank(*place.group, config.seed);
}

// The files a run leaves in its folder (checkpoint.pt, metrics.csv, vae_cnn.<data set>.pt), sorted:
// any of them means the folder holds a run.
std::vector<std::string> run_files_in(const std::string& out_dir) {
  std::vector<std::string> found;
  std::error_code error;
  for (fs::directory_iterator entry(out_dir, error), end; !error && entry != end; entry.increment(error)) {
    const std::string name = entry->path().filename().string();
    const bool weights =
        name.size() > 11 && name.rfind("vae_cnn.", 0) == 0 && name.compare(name.size() - 3, 3, ".pt") == 0;
    if (name == "checkpoint.pt" || name == "metrics.csv" || weights) found.push_back(name);
  }
  std::sort(found.begin(), found.end());
  return found;
}

std::string listed(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) {
    text += (i == 0 ? "" : i + 1 == names.size() ? " and " : ", ") + names[i];
  }
  return text;
}

// A fresh run must not replace another run's files without being asked to: its checkpoint, or its
// weights and metrics when the checkpoint is gone (deleted to save space, or copied elsewhere).
void refuse_to_replace_a_run(const TrainConfig& config) {
  const std::string existing = checkpoint_path_in(config.out_dir);
  if (config.overwrite) return;
  if (!fs::exists(existing)) {
    const std::vector<std::string> files = run_files_in(config.out_dir);
    if (files.empty()) return;
    throw WriteError(config.out_dir, "holds " + listed(files) + " of an earlier run but no checkpoint.pt to resume it "
                                     "from; choose another --out, or replace them with --overwrite");
  }
  std::string what = "another run";
  try {
    const Checkpoint previous = load_checkpoint(existing);
    what = "a run of " + std::to_string(previous.epoch) + " epoch" + (previous.epoch == 1 ? "" : "s") + " on " +
           previous.weights.metadata.dataset + " (seed " + std::to_string(previous.config.seed) + ")";
  } catch (const std::exception&) {
    // Unreadable, it is still a file we would replace; the message says only that it is there.
  }
  throw UsageError(config.out_dir + " already holds " + what + " in " + existing +
                   "; continue it with --resume, or start over with --overwrite");
}

// `--resume A/checkpoint.pt --out B` continues A's run in B: B must be A's own folder or hold no run,
// unless --overwrite says to replace the run there.
void refuse_to_resume_over_another_run(const TrainConfig& config, const Checkpoint& resume) {
  if (config.overwrite) return;
  std::string source_folder = fs::path(resume.path).parent_path().string();
  if (source_folder.empty()) source_folder = ".";
  if (same_file(source_folder, config.out_dir)) return;
  const std::vector<std::string> files = run_files_in(config.out_dir);
  if (files.empty()) return;
  throw OptionError("out_dir", config.out_dir, "a folder without another run",
                    "it holds " + listed(files) + ", which resuming " + resume.path +
                        " there would replace; choose another folder, or replace that run with --overwrite");
}

// What must hold of the options before anything is created: checked here, not when the first
// epoch's files are written (a data folder whose name cannot be part of a file name failed then).
void check_run_names(const TrainConfig& config) {
  const std::string dataset = dataset_name(config.data_dir);
  const auto is_control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  if (std::any_of(dataset.begin(), dataset.end(), is_control)) {
    throw OptionError("data_dir", config.data_dir, "a folder with a printable name",
                      "the data set's name (the folder's name) holds a control character, and it names the weights "
                      "file and travels in it");
  }
  constexpr std::size_t kMostFileNameBytes = 255;  // NAME_MAX of Linux file systems
  const std::string weights = weights_file_name(dataset);
  if (weights.size() > kMostFileNameBytes) {
    throw OptionError("data_dir", config.data_dir,
                      "a folder whose name has at most " +
                          std::to_string(kMostFileNameBytes - (weights.size() - dataset.size())) + " bytes",
                      "the data set's name (the folder's name) has " + std::to_string(dataset.size()) +
                          ", and the weights file vae_cnn.<name>.pt must fit a file name (rename the folder)");
  }
  if (same_file(config.out_dir, config.data_dir)) {
    throw OptionError("out_dir", config.out_dir, "a folder other than the data folder",
                      "it is the data folder " + config.data_dir + ", and a run's files do not go among the data set's");
  }
}

DataOptions data_options_of(const TrainConfig& config) {
  DataOptions options;
  options.image_size = config.image_size;
  options.channels = config.channels;
  options.test_fraction = config.test_fraction;
  options.max_image_side = kMaxImageSide;  // larger images would only be refused by the model
  return options;
}

TrainSetup describe_setup(const TrainConfig& config, const DataSplits& data, const Dataset& train,
                          const Dataset& test, const RunPlace& place) {
  TrainSetup setup;
  setup.dataset = data.name;
  setup.train_images = train.size();
  setup.test_images = test.size();
  setup.available_train_images = data.train.size();
  setup.device = place.device.str();
  setup.threads = place.threads;
  setup.seed = config.seed;
  setup.weights_path = (fs::path(config.out_dir) / weights_file_name(data.name)).string();
  setup.metrics_path = (fs::path(config.out_dir) / "metrics.csv").string();
  setup.checkpoint_path = checkpoint_path_in(config.out_dir);
  setup.data_files = data.files;
  setup.data_form = data.form;
  setup.image_shape = ImageShape{train.pixels.size(1), train.pixels.size(2), train.pixels.size(3)};
  setup.class_names = data.class_names;
  setup.resized_images = data.resized;
  setup.ignored_files = data.ignored_files;
  setup.lock_path = place.lock ? place.lock->path() : "";
  setup.world_size = place.group ? place.group->world_size() : 1;
  if (place.group != nullptr) setup.collectives = to_string(place.group->library());
  return setup;
}

// The model a run starts from (the checkpoint's, or a new one from the seed), on the run's device,
// the same on every rank.
ConvVae starting_model(const TrainConfig& config, const ImageShape& shape, Checkpoint* resume, const RunPlace& place) {
  ConvVae model{nullptr};
  if (resume != nullptr) {
    model = resume->weights.model;
    if (model->image_shape() != shape) {
      throw DataError(config.data_dir, "gives images of shape " + to_string(shape) + ", but the checkpoint " +
                                           resume->path + " trains a model of " + to_string(model->image_shape()));
    }
  } else {
    torch::manual_seed(config.seed);
    model = ConvVae(ConvVaeOptions().latent_dim(config.latent_dim).init(config.init).image_shape(shape));
  }
  model->to(place.device);
  if (place.group != nullptr) place.group->broadcast_from_first(model->parameters());
  return model;
}

// On the CPU, the ranks on this machine each hold their share of a batch and their own copy of the
// parameters at the same time.
void check_memory(const TrainConfig& config, const Dataset& train, const ConvVae& model, const RunPlace& place,
                  int world_size) {
  if (!place.device.is_cpu()) return;
  const std::int64_t batch = std::min<std::int64_t>(config.batch_size, train.size());
  const std::int64_t share = (batch + world_size - 1) / world_size;
  const ImageShape& shape = model->image_shape();
  check_training_fits(share * place.ranks_here, count_parameters(*model) * place.ranks_here, config.latent_dim,
                      available_memory_bytes(), shape.height * shape.width);
}

std::unique_ptr<torch::optim::Optimizer> starting_optimizer(const TrainConfig& config, ConvVae& model,
                                                            Checkpoint* resume, torch::Device device) {
  auto optimizer = make_optimizer(model, config.learning_rate, config.optimizer);
  if (resume != nullptr) {
    restore_training_state(*resume, model, *optimizer, device);
    // A format-1 archive brings back the recorded learning rate; the user's --lr wins.
    for (auto& param_group : optimizer->param_groups()) param_group.options().set_lr(config.learning_rate);
  }
  return optimizer;
}

// What the weights say of the run besides their tensors; epochs are added as they are trained.
WeightsMetadata weights_metadata(const TrainConfig& config, const DataSplits& data) {
  WeightsMetadata metadata;
  metadata.latent_dim = config.latent_dim;
  metadata.loss = config.loss;
  metadata.beta = config.beta;
  metadata.dataset = data.name;
  metadata.class_names = data.class_names;
  metadata.test_fraction = config.test_fraction;
  return metadata;
}

FitOptions fit_options(const TrainConfig& config, std::int64_t first_epoch) {
  FitOptions options;
  static_cast<TrainConfig&>(options) = config;
  options.first_epoch = first_epoch;
  return options;
}

}  // namespace

// --limit's images: the first ones of IDX files and archives (MNIST's and the sample's are
// interleaved over the digits), but spread evenly over image folders, which list a class at a time
// and whose first images would be the first classes only.
Dataset limited_training_images(const DataSplits& data, std::int64_t limit) {
  const Dataset& all = data.train;
  if (limit <= 0 || limit >= all.size()) return all;
  return data.form == kImageFoldersForm ? spread_images(all, limit) : all.head(limit);
}

std::vector<EpochMetrics> run_training(const TrainConfig& given_config, const TrainHooks& hooks, Checkpoint* resume) {
  validate_train_config(given_config);
  check_run_names(given_config);
  TrainConfig config = given_config;
  RunPlace place;
  settle_place(config, resume != nullptr, place, hooks.on_notice);
  if (place.rank_zero && resume == nullptr) refuse_to_replace_a_run(config);
  if (place.rank_zero && resume != nullptr) refuse_to_resume_over_another_run(config, *resume);
  const DataSplits data = load_data(config.data_dir, data_options_of(config));
  if (data.train.size() == 0) throw DataError(config.data_dir, "the training split holds no images");
  const Dataset train = to_device(limited_training_images(data, config.limit), place.device);
  const Dataset test = to_device(data.test, place.device);
  TrainSetup setup = describe_setup(config, data, train, test, place);
  if (place.rank_zero) {
    // Before an epoch is spent: the same check guards every write of these files (on_epoch, TrainVoice).
    const std::string log_path = train_log_path_in(config.out_dir);
    for (const std::string& path : {setup.checkpoint_path, setup.weights_path, setup.metrics_path, log_path}) {
      refuse_planted_link(path);
      // A run killed while writing leaves its temporary file; under the lock no one else writes here.
      remove_abandoned_temporary_files(path);
    }
  }
  std::vector<EpochMetrics> history;
  if (resume != nullptr) {
    history = resume->history;
    setup.first_epoch = resume->epoch + 1;
  }
  ConvVae model = starting_model(config, setup.image_shape, resume, place);
  check_memory(config, train, model, place, setup.world_size);
  auto optimizer = starting_optimizer(config, model, resume, place.device);
  const FitOptions options = fit_options(config, setup.first_epoch);
  setup.eager_step_reason = eager_step_reason(options, *optimizer, place.device, place.group.get());
  setup.precision_note = slower_precision_note(config.precision, place.device, this_cpu_features());
  if (hooks.on_start && place.rank_zero) hooks.on_start(setup, model);

  WeightsMetadata metadata = weights_metadata(config, data);
  FitCallbacks callbacks;
  if (place.rank_zero) callbacks.on_batch = hooks.on_batch;
  callbacks.should_stop = hooks.should_stop;
  if (place.rank_zero) callbacks.on_notice = hooks.on_notice;
  callbacks.on_epoch = [&](const EpochMetrics& metrics) {
    history.push_back(metrics);
    metadata.epochs = metrics.epoch;
    if (!place.rank_zero) return;
    for (const std::string* path : {&setup.checkpoint_path, &setup.weights_path, &setup.metrics_path}) {
      refuse_planted_link(*path);
    }
    // The checkpoint first: it alone is enough to rebuild the other two files.
    save_checkpoint(setup.checkpoint_path, model, *optimizer, metadata, config, history, place.device);
    save_weights(setup.weights_path, model, metadata);
    write_metrics_csv(setup.metrics_path, history);
    if (hooks.on_epoch) hooks.on_epoch(metrics);
  };
  fit(model, *optimizer, train, test, options, callbacks, place.group.get());
  return history;
}

}  // namespace vae_cnn
