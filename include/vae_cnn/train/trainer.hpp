// The training and evaluation loops. They report through callbacks and never print.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/loss.hpp"
#include "vae_cnn/train/train_config.hpp"

namespace vae_cnn {

/// Training produced a NaN or infinite loss; the message names the epoch and batch.
class NonFiniteLossError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Where an epoch's training pass stands; sent after every batch.
struct BatchProgress {
  std::int64_t epoch = 0;        ///< 1-based
  std::int64_t batch = 0;        ///< batches done in this epoch
  std::int64_t num_batches = 0;
  std::int64_t images_done = 0;
  double seconds = 0;            ///< since the epoch started
  /// Sum over the batches so far of (batch mean loss × batch images), on the training device;
  /// reading it synchronises, so a caller should do so only when it redraws.
  torch::Tensor loss_sum;
};

/// Mean loss terms per image over a split.
struct EvalMetrics {
  double loss = 0, reconstruction = 0, kl = 0;
  std::int64_t images = 0;
};

/// Hyper-parameters of the loops.
struct FitOptions {
  std::int64_t epochs = 50;
  std::int64_t batch_size = 128;
  double learning_rate = 1e-3;
  LossKind loss = LossKind::kMse;
  double beta = 1.0;
};

struct FitCallbacks {
  std::function<void(const BatchProgress&)> on_batch;  ///< may be empty
  std::function<void(const EpochMetrics&)> on_epoch;   ///< after validation; may be empty
};

/// One shared step: the VAE loss of a batch (used by training and evaluation alike).
VaeLoss batch_loss(ConvVae& model, const torch::Tensor& images, LossKind loss, double beta);

/// Mean loss, reconstruction and KL over `data` (already on the model's device), in eval mode
/// without gradients, in batches of `batch_size`.
EvalMetrics evaluate(ConvVae& model, const Dataset& data, LossKind loss, double beta, std::int64_t batch_size);

/// Trains `model` with Adam on `train`, shuffling every epoch (torch's default generator) and
/// validating on `test` after every epoch; both already on the model's device.
/// Throws NonFiniteLossError when a loss stops being finite.
std::vector<EpochMetrics> fit(ConvVae& model, const Dataset& train, const Dataset& test, const FitOptions& options,
                              const FitCallbacks& callbacks);

}  // namespace vae_cnn
