// The loss terms of a model on a split, as validation and `vae_cnn eval` report them.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <functional>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/kernels/autocast_scope.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/loss.hpp"

namespace vae_cnn {

/// Rows [begin, end) of a batch of `rows` that `rank` of `world_size` takes: contiguous, in rank
/// order, sizes differing by at most one (a rank may get none of a small last batch).
struct RowShard {
  std::int64_t begin = 0, end = 0;
  std::int64_t size() const { return end - begin; }
};
RowShard shard_rows(std::int64_t rows, int rank, int world_size);

/// Mean loss terms per image over a split.
struct EvalMetrics {
  double loss = 0, reconstruction = 0, kl = 0;
  std::int64_t images = 0;
};

/// The seed of the ε that validation and `vae_cnn eval` draw: a fixed one, so validation numbers
/// are a function of the weights alone, and `eval` reproduces metrics.csv's last row exactly.
constexpr std::uint64_t kValidationNoiseSeed = 0x5eed;

/// This process's part in an evaluation shared by the ranks of a data-parallel run; the default
/// is a process alone.
struct EvalRanks {
  int rank = 0;
  int world_size = 1;
  /// Replaces a tensor by its sum over the ranks, in place; every rank calls it once per
  /// evaluation. Empty for a process alone.
  std::function<void(torch::Tensor&)> sum;
};

/// `output` with each tensor in fp32, whatever autocast computed it in: the loss is taken in fp32,
/// its sums over every pixel are where bfloat16's 8-bit mantissa would show.
VaeOutput in_fp32(VaeOutput output);

/// The loss terms of `images` [N,C,H,W] with the latent noise `epsilon` [N,latent]. kBf16 runs
/// the forward pass under autocast to bfloat16 and the loss in fp32.
VaeLoss loss_with_epsilon(ConvVae& model, const torch::Tensor& images, const torch::Tensor& epsilon, LossKind loss,
                          double beta, Precision precision = Precision::kFp32);

/// Mean loss, reconstruction and KL over `data` (already on the model's device), in eval mode
/// without gradients, in batches of `batch_size`, with ε from a generator seeded `noise_seed`.
/// Shared by `ranks`, each rank evaluates its rows of every batch and the sums are added: every
/// rank gets the figures one process would.
EvalMetrics evaluate(ConvVae& model, const Dataset& data, LossKind loss, double beta, std::int64_t batch_size,
                     std::uint64_t noise_seed = kValidationNoiseSeed, const EvalRanks& ranks = {});

}  // namespace vae_cnn
