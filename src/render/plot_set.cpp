// The model runs once per picture on the whole batch it needs (1,663 test digits, 900 manifold
// points, 100 samples), so the pictures cost milliseconds of compute; PNG encoding dominates.
#include "vae_cnn/render/plot_set.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/eval/latent_codes.hpp"
#include "vae_cnn/render/digit_grid.hpp"
#include "vae_cnn/render/digit_manifold.hpp"
#include "vae_cnn/render/latent_scatter.hpp"
#include "vae_cnn/render/line_chart.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/render/model_diagrams.hpp"
#include "vae_cnn/train/device.hpp"
#include "vae_cnn/train/metrics_csv.hpp"
#include "vae_cnn/train/weights_file.hpp"

namespace vae_cnn {

const char* const kPlotFiles[8] = {"vae_mean.png",       "digits_over_latent.png", "reconstructions.png",
                                   "samples.png",        "loss.png",               "vae_cnn_encoder.png",
                                   "vae_cnn_decoder.png", "vae_cnn.png"};

namespace {

constexpr int kReconstructionPairs = 2;
constexpr int kColumns = 10;
constexpr int kSampleRows = 10;
constexpr int kAnnotatedPoints = 200;  // enough to read the clusters, few enough not to clutter
constexpr double kCollapsedSpread = 0.05;  // standard deviation of the means; a trained 2-D VAE has ~1

std::string loss_label(LossKind loss) { return loss == LossKind::kBce ? "BCE" : "MSE"; }

std::string describe(const WeightsMetadata& meta) {
  std::string text = "vae_cnn on " + meta.dataset + " (" + loss_label(meta.loss);
  if (meta.beta != 1.0) {
    char beta[32];
    std::snprintf(beta, sizeof beta, ", \u03b2 = %g", meta.beta);
    text += beta;
  }
  return text + ", " + std::to_string(meta.epochs) + " epochs)";
}

class PictureWriter {
 public:
  PictureWriter(std::filesystem::path out_dir, PlotReport& report) : out_dir_(std::move(out_dir)), report_(report) {}

  /// Draws with `draw` and saves the result under `name`, timing both.
  template <typename Draw>
  void write(const std::string& name, Draw&& draw) {
    const auto start = std::chrono::steady_clock::now();
    const Image image = draw();
    const std::string path = (out_dir_ / name).string();
    image.save_png(path);
    report_.written.push_back({path, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()});
  }

 private:
  std::filesystem::path out_dir_;
  PlotReport& report_;
};

}  // namespace

PlotReport write_plots(const PlotOptions& options) {
  if (options.grid < 1 || options.grid > 200) {
    throw std::invalid_argument("--grid: " + std::to_string(options.grid) + ", expected 1 to 200");
  }
  if (!(options.range > 0) || !std::isfinite(options.range)) {
    throw std::invalid_argument("--range: expected a positive number");
  }
  LoadedWeights weights = load_weights(options.weights, resolve_device(options.device));
  const WeightsMetadata& meta = weights.metadata;
  const Dataset test = load_split(data_dir_for(meta, options.data_dir), Split::kTest);
  const Font font = Font::load_default();

  std::error_code failure;
  std::filesystem::create_directories(options.out_dir, failure);
  if (failure) throw WriteError(options.out_dir, "cannot create the folder: " + failure.message());
  PlotReport report;
  PictureWriter writer(options.out_dir, report);
  const std::string model = describe(meta);
  const std::int64_t latent = meta.latent_dim;
  const std::string dims_note = latent > 2 ? " \u2014 dimensions 0 and 1 of " + std::to_string(latent) : "";

  writer.write("vae_mean.png", [&] {
    const LatentCodes codes = encode_dataset(weights.model, test);
    const auto means = codes.z_mean.contiguous();
    const auto labels = codes.labels.contiguous();
    std::vector<ScatterPoint> points(static_cast<std::size_t>(means.size(0)));
    const float* z = means.data_ptr<float>();
    const std::int64_t* label = labels.data_ptr<std::int64_t>();
    for (std::size_t i = 0; i < points.size(); ++i) {
      const float* row = z + i * static_cast<std::size_t>(latent);
      points[i] = {row[0], latent > 1 ? row[1] : 0.0, static_cast<int>(label[i])};
    }
    ScatterOptions scatter;
    scatter.range = options.range;
    scatter.title = model + ": latent means of " + with_thousands(means.size(0)) + " test images" + dims_note;
    if (options.annotate) scatter.annotate_every = std::max<int>(1, static_cast<int>(points.size()) / kAnnotatedPoints);
    // An encoder that ignores its input (untrained, or a posterior collapsed onto the prior, which
    // MSE runs on small data meet) puts every mean at one spot: say so, or the picture looks like a
    // drawing error.
    const double spread = points.empty() ? 0.0 : means.slice(1, 0, std::min<std::int64_t>(latent, 2)).std(0).max().item<double>();
    if (!points.empty() && spread < kCollapsedSpread) {
      char text[160];
      std::snprintf(text, sizeof text, "latent means barely spread (std %.3f): the encoder ignores its input", spread);
      scatter.warning = text;
      report.notes.push_back(std::string("vae_mean.png: ") + text + " (untrained, or the posterior collapsed)");
    }
    int outside = 0;
    Image image = latent_scatter(points, scatter, font, &outside);
    if (outside > 0) {
      report.notes.push_back("vae_mean.png: " + std::to_string(outside) + " of " + std::to_string(points.size()) +
                             " points lie outside the range and are counted in the picture's note");
    }
    return image;
  });

  writer.write("digits_over_latent.png", [&] {
    const auto digits = decode_to_bytes(weights.model, manifold_latents(options.grid, options.range, latent));
    const std::string others = latent > 2 ? ", other dimensions 0" : "";
    return digit_manifold(digits, options.grid, options.range, model + ": digits decoded over the latent plane" + others,
                          font);
  });

  writer.write("reconstructions.png", [&] {
    const std::int64_t shown = std::min<std::int64_t>(test.size(), kReconstructionPairs * kColumns);
    const int pairs = static_cast<int>((shown + kColumns - 1) / kColumns);
    // Whole rows only: pad a short last row with black cells.
    auto originals = torch::zeros({pairs * kColumns, 1, 28, 28});
    originals.slice(0, 0, shown).copy_(test.images.slice(0, 0, shown));
    const auto rebuilt = reconstruct_from_mean(weights.model, originals);
    const auto original_bytes = image_bytes(originals), rebuilt_bytes = image_bytes(rebuilt);
    std::vector<std::uint8_t> digits;
    std::vector<std::string> titles;
    const std::size_t row_bytes = kColumns * 784;
    for (int pair = 0; pair < pairs; ++pair) {
      digits.insert(digits.end(), original_bytes.begin() + pair * row_bytes, original_bytes.begin() + (pair + 1) * row_bytes);
      digits.insert(digits.end(), rebuilt_bytes.begin() + pair * row_bytes, rebuilt_bytes.begin() + (pair + 1) * row_bytes);
      titles.insert(titles.end(), {"test", "decoded"});
    }
    return digit_grid(digits, titles, model + ": test digits and their reconstructions from z_mean", {}, font);
  });

  writer.write("samples.png", [&] {
    const auto z = standard_normal_latents(kSampleRows * kColumns, latent, options.sample_seed);
    const std::vector<std::string> titles(kSampleRows, "");
    return digit_grid(decode_to_bytes(weights.model, z), titles, model + ": digits decoded from z ~ N(0, I)", {}, font);
  });

  const std::filesystem::path metrics_path = std::filesystem::path(options.weights).parent_path() / "metrics.csv";
  if (!std::filesystem::exists(metrics_path)) {
    report.notes.push_back("loss.png not drawn: no metrics.csv beside " + options.weights);
  } else {
    try {
      const auto rows = read_metrics_csv(metrics_path.string());
      if (rows.empty()) throw DataError(metrics_path.string(), "holds no epochs");
      writer.write("loss.png", [&] {
        std::vector<double> epochs;
        ChartSeries train{"training loss", class_colour(0), {}}, validation{"validation loss", class_colour(6), {}};
        for (const auto& row : rows) {
          epochs.push_back(static_cast<double>(row.epoch));
          train.values.push_back(row.loss);
          validation.values.push_back(row.val_loss);
        }
        ChartOptions chart;
        chart.title = model + ": loss per epoch";
        chart.x_title = "epoch";
        chart.y_title = "loss per image (" + loss_label(meta.loss) + " + KL)";
        chart.x_min_step = 1.0;
        return line_chart(epochs, {train, validation}, chart, font);
      });
    } catch (const DataError& error) {
      report.notes.push_back(std::string("loss.png not drawn: ") + error.what());
    }
  }

  const ModelTraces traces = trace_model(weights.model);
  writer.write("vae_cnn_encoder.png", [&] { return draw_layer_graph(layer_graph_of("encoder", traces.encoder), font); });
  writer.write("vae_cnn_decoder.png", [&] { return draw_layer_graph(layer_graph_of("decoder", traces.decoder), font); });
  writer.write("vae_cnn.png", [&] { return draw_layer_graph(layer_graph_of("vae", traces.vae), font); });
  return report;
}

}  // namespace vae_cnn
