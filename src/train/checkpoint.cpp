// A checkpoint is a weights dict plus optimizer, generators, options and metrics so far. The
// optimizer's state is a dict of named tensors (optimizer_state.hpp says why); checkpoints of
// format 1 carried LibTorch's own optimizer archive as a uint8 tensor, still read: as data, with the
// checks the checkpoint itself gets, into the same named dict. LibTorch's loader (torch::jit::load)
// took it unchecked: a REDUCE on an empty stack in its pickle crashed `train --resume`.
#include "vae_cnn/train/checkpoint.hpp"

#include "vae_cnn/error_text.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/train/optimizer_state.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"

namespace vae_cnn {
namespace {

const char* const kCheckpointFormat = "vae_cnn.checkpoint";
const char* const kCheckpointWhat = "a vae_cnn checkpoint";
constexpr std::int64_t kMetricsColumns = 9;

at::Tensor history_tensor(const std::vector<EpochMetrics>& history) {
  auto table = torch::zeros({static_cast<std::int64_t>(history.size()), kMetricsColumns}, torch::kFloat64);
  auto rows = table.accessor<double, 2>();
  for (std::size_t i = 0; i < history.size(); ++i) {
    const auto& m = history[i];
    const double values[kMetricsColumns] = {static_cast<double>(m.epoch), m.loss, m.reconstruction, m.kl, m.val_loss,
                                            m.val_reconstruction, m.val_kl, m.seconds, m.images_per_second};
    for (std::int64_t c = 0; c < kMetricsColumns; ++c) rows[static_cast<std::int64_t>(i)][c] = values[c];
  }
  return table;
}

std::vector<EpochMetrics> history_from(const std::string& path, const at::Tensor& table) {
  if (table.dim() != 2 || table.size(1) != kMetricsColumns || table.scalar_type() != torch::kFloat64) {
    throw DataError(path, "field 'metrics' is not a [epochs, 9] float64 table");
  }
  std::vector<EpochMetrics> history;
  auto rows = table.accessor<double, 2>();
  for (std::int64_t i = 0; i < table.size(0); ++i) {
    // Compared as a double first: casting a NaN or huge value to an integer is undefined.
    if (rows[i][0] != static_cast<double>(i + 1)) {
      throw DataError(path, "metrics row " + std::to_string(i + 1) + " is not epoch " + std::to_string(i + 1));
    }
    EpochMetrics m;
    m.epoch = i + 1;
    m.loss = rows[i][1];
    m.reconstruction = rows[i][2];
    m.kl = rows[i][3];
    m.val_loss = rows[i][4];
    m.val_reconstruction = rows[i][5];
    m.val_kl = rows[i][6];
    m.seconds = rows[i][7];
    m.images_per_second = rows[i][8];
    history.push_back(m);
  }
  return history;
}

GenericDict config_dict(const TrainConfig& config) {
  GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert(std::string("data_dir"), config.data_dir);
  dict.insert(std::string("loss"), to_string(config.loss));
  dict.insert(std::string("epochs"), config.epochs);
  dict.insert(std::string("batch_size"), config.batch_size);
  dict.insert(std::string("learning_rate"), config.learning_rate);
  dict.insert(std::string("latent_dim"), config.latent_dim);
  dict.insert(std::string("beta"), config.beta);
  dict.insert(std::string("optimizer"), to_string(config.optimizer));
  dict.insert(std::string("init"), to_string(config.init));
  dict.insert(std::string("kl_warmup"), config.kl_warmup);
  dict.insert(std::string("lr_warmup"), config.lr_warmup);
  dict.insert(std::string("revive_epochs"), config.revive_epochs);
  dict.insert(std::string("precision"), to_string(config.precision));
  dict.insert(std::string("device"), config.device);
  dict.insert(std::string("threads"), static_cast<std::int64_t>(config.threads));
  dict.insert(std::string("seed"), static_cast<std::int64_t>(config.seed));
  dict.insert(std::string("limit"), config.limit);
  dict.insert(std::string("out_dir"), config.out_dir);
  return dict;
}

// A recorded option held as its name (loss, optimizer, init, precision), parsed back.
template <class Parse>
auto recorded_choice(const std::string& path, const GenericDict& dict, const char* field, Parse parse) {
  try {
    return parse(require_string(path, dict, field));
  } catch (const std::invalid_argument& error) {
    throw DataError(path, std::string("config field '") + field + "': " + error.what());
  }
}

// The same for an option added later: `absent` when the checkpoint predates it.
template <class Parse>
auto recorded_choice(const std::string& path, const GenericDict& dict, const char* field, Parse parse,
                     decltype(parse(std::string())) absent) {
  return dict.contains(std::string(field)) ? recorded_choice(path, dict, field, parse) : absent;
}

TrainConfig config_from(const std::string& path, const GenericDict& dict) {
  TrainConfig config;
  config.data_dir = require_string(path, dict, "data_dir");
  config.loss = recorded_choice(path, dict, "loss", parse_loss_kind);
  config.epochs = require_int(path, dict, "epochs");
  config.batch_size = require_int(path, dict, "batch_size");
  config.learning_rate = require_double(path, dict, "learning_rate");
  config.latent_dim = require_int(path, dict, "latent_dim");
  config.beta = require_double(path, dict, "beta");
  // Checkpoints from before these options trained with Adam and no warm-up.
  config.optimizer = recorded_choice(path, dict, "optimizer", parse_optimizer_kind, OptimizerKind::kAdam);
  if (dict.contains(std::string("kl_warmup"))) config.kl_warmup = require_int(path, dict, "kl_warmup");
  config.lr_warmup = 0;
  if (dict.contains(std::string("lr_warmup"))) config.lr_warmup = require_int(path, dict, "lr_warmup");
  // Checkpoints from before unit revival trained without it, and resume without it.
  config.revive_epochs = 0;
  if (dict.contains(std::string("revive_epochs"))) config.revive_epochs = require_int(path, dict, "revive_epochs");
  // Checkpoints from before --precision trained in fp32.
  config.precision = recorded_choice(path, dict, "precision", parse_precision, Precision::kFp32);
  // Checkpoints from before --init started from PyTorch's initialisation.
  config.init = recorded_choice(path, dict, "init", parse_init_kind, InitKind::kTorch);
  config.device = require_string(path, dict, "device");
  config.threads = static_cast<int>(require_int(path, dict, "threads"));
  config.seed = static_cast<std::uint64_t>(require_int(path, dict, "seed"));
  config.limit = require_int(path, dict, "limit");
  config.out_dir = require_string(path, dict, "out_dir");
  return config;
}

at::Generator default_generator(torch::Device device) {
  return at::globalContext().defaultGenerator(device.is_cuda() ? device : torch::Device(torch::kCPU));
}

}  // namespace

void save_checkpoint(const std::string& path, ConvVae& model, torch::optim::Optimizer& optimizer,
                     const WeightsMetadata& metadata, const TrainConfig& config,
                     const std::vector<EpochMetrics>& history, torch::Device device) {
  GenericDict dict = new_tagged_dict(kCheckpointFormat, kCheckpointFormatVersion);
  add_model_fields(dict, model, metadata);
  dict.insert(std::string("optimizer_state"), optimizer_state_to_dict(optimizer, model->named_parameters()));
  dict.insert(std::string("epoch"), static_cast<std::int64_t>(history.size()));
  dict.insert(std::string("metrics"), history_tensor(history));
  dict.insert(std::string("config"), config_dict(config));
  dict.insert(std::string("rng_cpu"), default_generator(torch::kCPU).get_state());
  if (device.is_cuda()) dict.insert(std::string("rng_cuda"), default_generator(device).get_state());
  write_dict_file(path, dict);
}

Checkpoint load_checkpoint(const std::string& path, torch::Device device) {
  const GenericDict dict = read_tagged_dict(path, kCheckpointFormat, kCheckpointWhat, kCheckpointFormatVersion);
  Checkpoint checkpoint;
  checkpoint.path = path;
  checkpoint.weights = read_model_fields(path, dict, device);
  checkpoint.config = config_from(path, require_dict(path, dict, "config"));
  try {
    validate_train_config(checkpoint.config);
  } catch (const UsageError& error) {
    throw DataError(path, std::string("its recorded options are out of bounds: ") + error.what());
  }
  checkpoint.epoch = require_int(path, dict, "epoch");
  if (checkpoint.epoch < 0 || checkpoint.epoch > checkpoint.config.epochs) {
    throw DataError(path, "epoch " + std::to_string(checkpoint.epoch) + " is outside 0.." +
                              std::to_string(checkpoint.config.epochs) + " (the epochs the run asked for)");
  }
  checkpoint.history = history_from(path, require_tensor(path, dict, "metrics"));
  if (checkpoint.epoch != static_cast<std::int64_t>(checkpoint.history.size()) ||
      checkpoint.epoch != checkpoint.weights.metadata.epochs) {
    throw DataError(path, "epoch " + std::to_string(checkpoint.epoch) + " disagrees with its " +
                              std::to_string(checkpoint.history.size()) + " metrics rows");
  }
  if (require_int(path, dict, "format_version") >= 2) {
    checkpoint.optimizer_state = require_dict(path, dict, "optimizer_state");
  } else {
    // Contiguous: a view of stride 0 passes the archive's checks and would be read as bytes past it.
    const at::Tensor optimizer = require_tensor(path, dict, "optimizer").contiguous();
    if (optimizer.scalar_type() != torch::kUInt8 || optimizer.dim() != 1) {
      throw DataError(path, "field 'optimizer' is not a byte tensor");
    }
    const std::string archive(reinterpret_cast<const char*>(optimizer.data_ptr<std::uint8_t>()),
                              static_cast<std::size_t>(optimizer.numel()));
    std::vector<std::string> parameter_names;
    for (const auto& item : checkpoint.weights.model->named_parameters()) parameter_names.push_back(item.key());
    checkpoint.optimizer_state = optimizer_state_from_libtorch_archive(
        path, read_module_archive_bytes(archive, path, "LibTorch's optimizer archive (field 'optimizer')"),
        parameter_names);
  }
  checkpoint.cpu_rng_state = require_tensor(path, dict, "rng_cpu");
  if (dict.find(std::string("rng_cuda")) != dict.end()) checkpoint.cuda_rng_state = require_tensor(path, dict, "rng_cuda");
  return checkpoint;
}

void restore_training_state(const Checkpoint& checkpoint, ConvVae& model, torch::optim::Optimizer& optimizer,
                            torch::Device device) {
  try {
    if (checkpoint.optimizer_state) {
      optimizer_state_from_dict(checkpoint.path, *checkpoint.optimizer_state, optimizer, model->named_parameters());
    }
    default_generator(torch::kCPU).set_state(checkpoint.cpu_rng_state);
    if (device.is_cuda() && checkpoint.cuda_rng_state.defined()) {
      default_generator(device).set_state(checkpoint.cuda_rng_state);
    }
  } catch (const c10::Error& error) {
    throw DataError(checkpoint.path, "optimizer or generator state cannot be restored: " + first_line_of(error));
  }
}

}  // namespace vae_cnn
