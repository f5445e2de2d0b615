// The model runs once per picture on the whole batch it needs (1,663 test digits, 900 manifold
// points, 100 samples), so this costs milliseconds; drawing and PNG encoding dominate `plot`.
#include "vae_cnn/eval/plot_inputs.hpp"

#include <cmath>
#include <filesystem>
#include <algorithm>

#include "vae_cnn/data/spread_images.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/number_text.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/eval/latent_codes.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"

namespace vae_cnn {
namespace {

constexpr int kReconstructionPairs = 2;
constexpr int kDigitsPerRow = 10;
constexpr int kSampleRows = 10;

// Test digits spread evenly over the split (image folders list it a class at a time, so its first
// digits would all be one class) over their reconstructions, in whole rows (a short last row padded
// black).
DigitRows reconstruction_rows(ConvVae& model, const Dataset& test) {
  const std::int64_t shown = std::min<std::int64_t>(test.size(), kReconstructionPairs * kDigitsPerRow);
  const int pairs = static_cast<int>((shown + kDigitsPerRow - 1) / kDigitsPerRow);
  const ImageShape& digit = model->image_shape();
  auto originals = torch::zeros(digit.batch(pairs * kDigitsPerRow));
  if (shown > 0) originals.slice(0, 0, shown).copy_(spread_images(test, shown).images());
  const auto original_bytes = image_bytes(originals);
  const auto rebuilt_bytes = image_bytes(reconstruct_from_mean(model, originals));
  DigitRows rows;
  const std::size_t row_bytes = kDigitsPerRow * static_cast<std::size_t>(digit.numel());
  for (int pair = 0; pair < pairs; ++pair) {
    for (const auto* bytes : {&original_bytes, &rebuilt_bytes}) {
      rows.digits.insert(rows.digits.end(), bytes->begin() + pair * row_bytes, bytes->begin() + (pair + 1) * row_bytes);
    }
    rows.row_titles.insert(rows.row_titles.end(), {"test", "decoded"});
  }
  return rows;
}

}  // namespace

void check_history_belongs(const std::string& metrics_path, const std::vector<EpochMetrics>& rows,
                           const WeightsMetadata& metadata) {
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].epoch <= rows[i - 1].epoch) {
      throw DataError(metrics_path, "epoch " + std::to_string(rows[i].epoch) + " follows epoch " +
                                        std::to_string(rows[i - 1].epoch) + ": not one run's history");
    }
  }
  // metrics.csv belongs to the folder's last run, which need not be these weights' (`train
  // --overwrite` on another data set leaves the old weights beside the new run's metrics). The
  // weights record the epochs they were trained; their own history ends there.
  if (metadata.epochs > 0 && rows.back().epoch != metadata.epochs) {
    throw DataError(metrics_path, "ends at epoch " + std::to_string(rows.back().epoch) + ", but the weights (" +
                                      metadata.dataset + ") were trained " + std::to_string(metadata.epochs) +
                                      " epochs: the history of another run in that folder, not of these weights");
  }
}

void check_plot_input_options(const PlotInputOptions& options) {
  if (options.grid < 1 || options.grid > kMaxManifoldGrid) {
    throw OptionError("grid", std::to_string(options.grid), "between 1 and " + std::to_string(kMaxManifoldGrid));
  }
  if (!(options.range > 0) || !std::isfinite(options.range)) {
    throw OptionError("range", short_number(options.range), "a positive number");
  }
}

PlotInputs compute_plot_inputs(ConvVae& model, const WeightsMetadata& metadata, const Dataset& test,
                               const PlotInputOptions& options) {
  check_plot_input_options(options);
  PlotInputs inputs;
  inputs.metadata = metadata;
  inputs.digit = model->image_shape();
  inputs.grid = static_cast<int>(options.grid);
  inputs.range = options.range;
  const LatentCodes codes = encode_dataset(model, test);
  const auto means = codes.z_mean.to(torch::kCPU, torch::kFloat).contiguous();
  inputs.z_means.assign(means.data_ptr<float>(), means.data_ptr<float>() + means.numel());
  const auto labels = codes.labels.to(torch::kCPU, torch::kLong).contiguous();
  for (std::int64_t i = 0; i < labels.numel(); ++i) inputs.labels.push_back(static_cast<int>(labels.data_ptr<std::int64_t>()[i]));
  inputs.manifold = decode_to_bytes(model, manifold_latents(inputs.grid, options.range, metadata.latent_dim));
  inputs.reconstructions = reconstruction_rows(model, test);
  inputs.samples.digits =
      decode_to_bytes(model, standard_normal_latents(kSampleRows * kDigitsPerRow, metadata.latent_dim, options.sample_seed));
  inputs.samples.row_titles.assign(kSampleRows, "");
  inputs.traces = trace_model(model);
  return inputs;
}

void read_history_beside(const std::string& weights_path, PlotInputs& inputs) {
  const std::filesystem::path metrics_path = std::filesystem::path(weights_path).parent_path() / "metrics.csv";
  if (!std::filesystem::exists(metrics_path)) {
    inputs.history_note = "no metrics.csv beside " + weights_path;
    return;
  }
  try {
    auto rows = read_metrics_csv(metrics_path.string());
    if (rows.empty()) throw DataError(metrics_path.string(), "holds no epochs");
    check_history_belongs(metrics_path.string(), rows, inputs.metadata);
    inputs.history = std::move(rows);
  } catch (const DataError& error) {
    inputs.history_note = error.what();
  }
}

}  // namespace vae_cnn
