// What a training run is asked to do, and what it reports per epoch.
#pragma once

#include <cstdint>
#include <string>

#include "vae_cnn/kernels/autocast_scope.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/loss.hpp"

namespace vae_cnn {

/// The seed's text trains with Adam; the book's CNN script with RMSprop.
enum class OptimizerKind { kAdam, kRmsprop };

std::string to_string(OptimizerKind kind);
/// "adam" or "rmsprop"; throws std::invalid_argument otherwise.
OptimizerKind parse_optimizer_kind(const std::string& text);

/// Options of `vae_cnn train`; defaults are the seed's. Each field is a row of the options table
/// (train_options.hpp), which says how it is given, bounded, recorded and resumed.
struct TrainConfig {
  std::string data_dir = "data/mnist";  ///< IDX folder, image folder or .npz file
  /// Every image resized to N×N; 0 keeps the data's own size. Defines the model: kept on resume.
  std::int64_t image_size = 0;
  /// 1 (grey) or 3 (RGB), converted; 0 keeps the data's own. Defines the model: kept on resume.
  std::int64_t channels = 0;
  /// The test split's share of a data set without one of its own (class folders alone).
  double test_fraction = 1.0 / 6;
  LossKind loss = LossKind::kMse;       ///< reconstruction term
  std::int64_t epochs = 50;
  std::int64_t batch_size = 128;
  double learning_rate = 1e-3;          ///< the optimizer's step size
  OptimizerKind optimizer = OptimizerKind::kAdam;
  InitKind init = InitKind::kKeras;     ///< initial weights (a resumed run keeps its checkpoint's)
  std::int64_t latent_dim = 2;
  double beta = 1.0;                    ///< weight of the KL term
  std::int64_t kl_warmup = 0;           ///< epochs over which the KL weight rises from 0 to beta
  /// Optimizer steps over which the learning rate rises linearly to its value. 100 by default: over
  /// 20 seeds it left more of the encoder's hidden units alive and fewer runs stuck near a test loss
  /// of 45 (docs/seed-sweeps.md).
  std::int64_t lr_warmup = 100;
  /// Epochs after each of which the encoder's dead hidden units start again (unit_revival.hpp);
  /// 0 = never.
  std::int64_t revive_epochs = 10;
  /// bf16: the training forward pass under autocast to bfloat16, weights and loss in fp32.
  Precision precision = Precision::kFp32;
  /// On a GPU, replay the step as a recorded CUDA graph (FitOptions::cuda_graph). How the step is
  /// launched, not what it computes: recorded, and may change on resume.
  bool cuda_graph = true;
  std::string device = "auto";          ///< auto | cpu | cuda | cuda:N
  int threads = 0;                      ///< intra-op threads; 0 = all cores
  std::uint64_t seed = 0;               ///< seeds initialisation, shuffling and sampling
  std::int64_t limit = 0;               ///< train on the first N training images; 0 = all
  std::string out_dir = "vae_cnn_weights";
  /// Data-parallel runs only (under torchrun): how long ranks wait for each other, at the
  /// rendezvous and in every all-reduce, before giving up. Not recorded in checkpoints.
  int group_timeout_seconds = 300;
  /// Start over in an --out folder that holds another run's checkpoint (--overwrite); without it
  /// such a folder is refused. Not recorded in checkpoints.
  bool overwrite = false;
};


}  // namespace vae_cnn
