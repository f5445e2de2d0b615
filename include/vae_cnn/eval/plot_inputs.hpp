// What `vae_cnn plot` needs from a trained model, computed in one place, so that the pictures
// (render/plot_set.hpp) only draw: latent means, decoded digits, the loss history, the layer traces.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/serialize/weights_file.hpp"
#include "vae_cnn/eval/epoch_metrics.hpp"

namespace vae_cnn {

/// Rows of digits as `digit_grid` draws them: one image_bytes digit after another, row after row.
struct DigitRows {
  std::vector<std::uint8_t> digits;
  std::vector<std::string> row_titles;
};

struct PlotInputs {
  WeightsMetadata metadata;
  ImageShape digit;  ///< the model's image shape: each digit below is digit.numel() bytes
  /// Test images' latent means, latent_dim values per image, and their labels.
  std::vector<float> z_means;
  std::vector<int> labels;
  int grid = 0;
  double range = 0;
  std::vector<std::uint8_t> manifold;  ///< grid × grid decoded digits, top row first
  DigitRows reconstructions;           ///< test digits over their reconstructions from z_mean
  DigitRows samples;                   ///< decoded from z ~ N(0, I)
  /// The run's metrics.csv rows; absent (with `history_note` saying why) when none could be read.
  std::optional<std::vector<EpochMetrics>> history;
  std::string history_note;
  ModelTraces traces;
};

struct PlotInputOptions {
  std::int64_t grid = 30;         ///< the manifold is grid × grid digits
  double range = 4.0;             ///< the manifold spans [-range, range]
  std::uint64_t sample_seed = 0;  ///< seeds the z ~ N(0, I) of the samples
};

/// The largest manifold `plot` draws: grid × grid digits.
constexpr std::int64_t kMaxManifoldGrid = 200;

/// Throws OptionError with field "grid" for a grid outside 1..kMaxManifoldGrid, or "range" for a
/// range that is not a positive finite number.
void check_plot_input_options(const PlotInputOptions& options);

/// Runs `model` over `test` and the manifold and sample points; checks the options first.
PlotInputs compute_plot_inputs(ConvVae& model, const WeightsMetadata& metadata, const Dataset& test,
                               const PlotInputOptions& options);

/// Throws DataError naming `metrics_path` when `rows` (epochs in order, at least one) cannot be the
/// history of weights described by `metadata`: epochs out of order, or a last epoch other than the
/// weights' recorded epochs (when recorded).
void check_history_belongs(const std::string& metrics_path, const std::vector<EpochMetrics>& rows,
                           const WeightsMetadata& metadata);

/// Reads the metrics.csv beside `weights_path` into `inputs` when it is these weights' history
/// (check_history_belongs), or says in history_note why not. `inputs.metadata` must be set.
void read_history_beside(const std::string& weights_path, PlotInputs& inputs);

}  // namespace vae_cnn
