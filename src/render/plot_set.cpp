#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/render/plot_set.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/number_text.hpp"
#include "vae_cnn/render/digit_grid.hpp"
#include "vae_cnn/render/digit_manifold.hpp"
#include "vae_cnn/render/latent_scatter.hpp"
#include "vae_cnn/render/line_chart.hpp"
#include "vae_cnn/render/model_diagrams.hpp"

namespace vae_cnn {

const char* const kPlotFiles[8] = {"vae_mean.png",       "digits_over_latent.png", "reconstructions.png",
                                   "samples.png",        "loss.png",               "vae_cnn_encoder.png",
                                   "vae_cnn_decoder.png", "vae_cnn.png"};

namespace {

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

// The largest standard deviation over images of the first one or two latent dimensions.
double drawn_spread(const std::vector<ScatterPoint>& points, bool two_dimensions) {
  if (points.size() < 2) return 0.0;
  double largest = 0.0;
  for (int dimension = 0; dimension < (two_dimensions ? 2 : 1); ++dimension) {
    double sum = 0.0, squares = 0.0;
    for (const auto& point : points) sum += dimension == 0 ? point.x : point.y;
    const double mean = sum / static_cast<double>(points.size());
    for (const auto& point : points) squares += std::pow((dimension == 0 ? point.x : point.y) - mean, 2);
    largest = std::max(largest, std::sqrt(squares / static_cast<double>(points.size() - 1)));
  }
  return largest;
}

Image latent_means_picture(const PlotInputs& inputs, const PlotOptions& options, const Font& font, PlotReport& report) {
  const std::int64_t latent = inputs.metadata.latent_dim;
  std::vector<ScatterPoint> points(inputs.labels.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    const float* row = inputs.z_means.data() + i * static_cast<std::size_t>(latent);
    points[i] = {row[0], latent > 1 ? row[1] : 0.0, inputs.labels[i]};
  }
  ScatterOptions scatter;
  scatter.range = inputs.range;
  scatter.class_names = inputs.metadata.class_names;
  // MNIST's classes are digits; a data set of the user's names its class folders.
  if (scatter.class_names != digit_names()) scatter.legend_title = "class";
  // One dimension: no z[1] to draw, so each class gets a row of its own.
  scatter.rows_by_digit = latent == 1;
  if (scatter.rows_by_digit) scatter.y_title = scatter.legend_title;
  const std::string dims_note = latent > 2 ? " \u2014 dimensions 0 and 1 of " + std::to_string(latent) : "";
  scatter.title = describe(inputs.metadata) + ": latent means of " +
                  with_thousands(static_cast<std::int64_t>(points.size())) + " test images" + dims_note;
  if (options.annotate) scatter.annotate_every = std::max<int>(1, static_cast<int>(points.size()) / kAnnotatedPoints);
  // An encoder that ignores its input (untrained, or dead: model/encoder_health.hpp) puts every
  // mean at one spot: say so, or the picture looks like a drawing error.
  const double spread = drawn_spread(points, latent > 1);
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
}

Image loss_picture(const PlotInputs& inputs, const Font& font) {
  std::vector<double> epochs;
  ChartSeries train{"training loss", class_colour(0), {}}, validation{"validation loss", class_colour(6), {}};
  for (const auto& row : *inputs.history) {
    epochs.push_back(static_cast<double>(row.epoch));
    train.values.push_back(row.loss);
    validation.values.push_back(row.val_loss);
  }
  ChartOptions chart;
  chart.title = describe(inputs.metadata) + ": loss per epoch";
  chart.x_title = "epoch";
  chart.y_title = "loss per image (" + loss_label(inputs.metadata.loss) + " + KL)";
  chart.x_min_step = 1.0;
  return line_chart(epochs, {train, validation}, chart, font);
}

}  // namespace

PlotReport write_plots(const PlotInputs& inputs, const PlotOptions& options) {
  const Font font = Font::load_default();
  std::error_code failure;
  std::filesystem::create_directories(options.out_dir, failure);
  if (failure) throw WriteError(options.out_dir, "cannot create the folder: " + failure.message());
  PlotReport report;
  PictureWriter writer(options.out_dir, report);
  const std::string model = describe(inputs.metadata);

  writer.write("vae_mean.png", [&] { return latent_means_picture(inputs, options, font, report); });
  writer.write("digits_over_latent.png", [&] {
    const std::string others = inputs.metadata.latent_dim > 2 ? ", other dimensions 0" : "";
    const bool plane = inputs.metadata.latent_dim > 1;
    return digit_manifold(inputs.manifold, inputs.digit, inputs.grid, manifold_rows(inputs.grid, inputs.metadata.latent_dim),
                          inputs.range,
                          model + (plane ? ": digits decoded over the latent plane" + others : ": digits decoded along z[0]"),
                          font);
  });
  DigitGridLayout rows_of_digits;
  rows_of_digits.digit = inputs.digit;
  writer.write("reconstructions.png", [&] {
    return digit_grid(inputs.reconstructions.digits, inputs.reconstructions.row_titles,
                      model + ": test digits and their reconstructions from z_mean", rows_of_digits, font);
  });
  writer.write("samples.png", [&] {
    return digit_grid(inputs.samples.digits, inputs.samples.row_titles, model + ": digits decoded from z ~ N(0, I)",
                      rows_of_digits, font);
  });
  if (inputs.history) {
    writer.write("loss.png", [&] { return loss_picture(inputs, font); });
    std::size_t broken = 0;
    for (const auto& row : *inputs.history) broken += !std::isfinite(row.loss) || !std::isfinite(row.val_loss);
    if (broken > 0) {
      report.notes.push_back("loss.png: " + std::to_string(broken) + " of " + std::to_string(inputs.history->size()) +
                             " epochs in metrics.csv have a NaN or infinite loss, left out of the chart");
    }
  } else {
    report.notes.push_back("loss.png not drawn: " + inputs.history_note);
  }
  writer.write("vae_cnn_encoder.png", [&] { return draw_layer_graph(layer_graph_of("encoder", inputs.traces.encoder), font); });
  writer.write("vae_cnn_decoder.png", [&] { return draw_layer_graph(layer_graph_of("decoder", inputs.traces.decoder), font); });
  writer.write("vae_cnn.png", [&] { return draw_layer_graph(layer_graph_of("vae", inputs.traces.vae), font); });
  return report;
}

}  // namespace vae_cnn
