// checkpoint.pt: everything `train --resume` needs to continue as if never stopped.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <optional>
#include <string>
#include <vector>

#include "vae_cnn/eval/epoch_metrics.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"
#include "vae_cnn/train/train_config.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

/// 2: the optimizer's state as named tensors (optimizer_state.hpp); 1: LibTorch's optimizer archive.
constexpr std::int64_t kCheckpointFormatVersion = 2;

/// A checkpoint as read back: the model and the state around it.
struct Checkpoint {
  std::string path;                  ///< the file it was read from
  LoadedWeights weights;             ///< model (on the requested device) and metadata
  TrainConfig config;                ///< the options of the run that wrote it
  std::int64_t epoch = 0;            ///< completed epochs
  std::vector<EpochMetrics> history; ///< one row per completed epoch
  std::optional<GenericDict> optimizer_state;  ///< by parameter name (format 1's archive converted)
  at::Tensor cpu_rng_state;          ///< the default CPU generator after the last epoch
  at::Tensor cuda_rng_state;         ///< the training GPU's generator, undefined on CPU runs
};

/// Writes a checkpoint atomically after `history.size()` completed epochs; throws WriteError.
void save_checkpoint(const std::string& path, ConvVae& model, torch::optim::Optimizer& optimizer,
                     const WeightsMetadata& metadata, const TrainConfig& config,
                     const std::vector<EpochMetrics>& history, torch::Device device);

/// Reads and checks a checkpoint (DataError naming the file and the fault otherwise).
Checkpoint load_checkpoint(const std::string& path, torch::Device device = torch::kCPU);

/// Puts the optimizer of `model` and the random generators back as the checkpoint recorded them;
/// DataError naming the file when its optimizer state does not fit `model`.
void restore_training_state(const Checkpoint& checkpoint, ConvVae& model, torch::optim::Optimizer& optimizer,
                            torch::Device device);

}  // namespace vae_cnn
