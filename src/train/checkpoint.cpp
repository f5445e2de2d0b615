// A checkpoint is a weights dict plus optimizer, generators, options and metrics so far. The
// optimizer's state is a dict of named tensors (optimizer_state.hpp says why); checkpoints of
// format 1 carried LibTorch's own optimizer archive as a uint8 tensor, still read: as data, with the
// checks the checkpoint itself gets, into the same named dict. LibTorch's loader (torch::jit::load)
// takes it unchecked: a REDUCE on an empty stack in its pickle would crash `train --resume`.
#include "vae_cnn/train/checkpoint.hpp"

#include "vae_cnn/error_text.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/train/optimizer_state.hpp"
#include "vae_cnn/train/train_options.hpp"
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
  dict.insert(std::string("config"), recorded_train_config(config));
  dict.insert(std::string("rng_cpu"), default_generator(torch::kCPU).get_state());
  if (device.is_cuda()) dict.insert(std::string("rng_cuda"), default_generator(device).get_state());
  write_dict_file(path, dict);
}

Checkpoint load_checkpoint(const std::string& path, torch::Device device) {
  const GenericDict dict = read_tagged_dict(path, kCheckpointFormat, kCheckpointWhat, kCheckpointFormatVersion);
  Checkpoint checkpoint;
  checkpoint.path = path;
  checkpoint.weights = read_model_fields(path, dict, device);
  checkpoint.config = train_config_from_record(path, require_dict(path, dict, "config"));
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
