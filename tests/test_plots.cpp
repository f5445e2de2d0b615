// The torch side of the pictures: latent grids in drawing order, repeatable samples, quantisation,
// and the diagrams' edges following the model's data flow.
#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/eval/latent_grid.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/plot_inputs.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/number_text.hpp"
#include "vae_cnn/render/model_diagrams.hpp"

namespace vae_cnn {
namespace {

TEST(DecodedDigits, ManifoldLatentsRunLeftToRightAndTopDown) {
  const auto z = manifold_latents(3, 2.0, 4);
  ASSERT_EQ(z.sizes(), (std::vector<std::int64_t>{9, 4}));
  // Row 0 (top) holds z[1] = +2, column 0 holds z[0] = -2; other dimensions stay 0.
  EXPECT_FLOAT_EQ(z[0][0].item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(z[0][1].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(z[2][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(z[8][1].item<float>(), -2.0f);
  EXPECT_FLOAT_EQ(z[4][0].item<float>(), 0.0f);
  EXPECT_EQ(z.slice(1, 2).abs().sum().item<float>(), 0.0f);
}

// Pixels of two byte images that differ, and by how much at most.
std::pair<int, int> byte_differences(const std::uint8_t* a, const std::uint8_t* b, int count) {
  int differing = 0, largest = 0;
  for (int i = 0; i < count; ++i) {
    const int d = std::abs(int(a[i]) - int(b[i]));
    differing += d > 0;
    largest = std::max(largest, d);
  }
  return {differing, largest};
}

TEST(DecodedDigits, InterpolationEndsAreTheOriginalsAndTheDecodedMeans) {
  torch::manual_seed(8);
  ConvVae model;
  const Dataset test = load_split(testing::mnist_sample_dir(), Split::kTest);
  const auto first = test.images(3, 4)[0], second = test.images(10, 11)[0];
  const auto line = latent_line(torch::tensor({1.0f, -2.0f}), torch::tensor({3.0f, 2.0f}), 5);
  EXPECT_TRUE(torch::equal(line, torch::tensor({{1.0f, -2.0f}, {1.5f, -1.0f}, {2.0f, 0.0f}, {2.5f, 1.0f}, {3.0f, 2.0f}})));

  const auto digits = interpolation_digits(model, first, second, 6);
  ASSERT_EQ(digits.size(), 8u * 784u);
  const auto first_bytes = image_bytes(first.unsqueeze(0)), second_bytes = image_bytes(second.unsqueeze(0));
  EXPECT_TRUE(std::equal(first_bytes.begin(), first_bytes.end(), digits.begin()));
  EXPECT_TRUE(std::equal(second_bytes.begin(), second_bytes.end(), digits.begin() + 7 * 784));
  torch::NoGradGuard no_grad;
  model->eval();
  const auto means = model->encoder->forward(torch::stack({first, second})).first;
  for (const auto& [cell, mean] : {std::make_pair(1, 0), std::make_pair(6, 1)}) {
    const auto decoded = decode_to_bytes(model, means.slice(0, mean, mean + 1));
    // A batch of one and a batch of six take different oneDNN kernels: a pixel on a rounding
    // boundary may land one grey level apart.
    const auto [differing, largest] = byte_differences(decoded.data(), digits.data() + cell * 784, 784);
    EXPECT_LE(largest, 1) << "cell " << cell;
    EXPECT_LT(differing, 16) << "cell " << cell;
  }
}

TEST(DecodedDigits, SamplesRepeatForASeedAndLeaveTheGlobalGeneratorAlone) {
  torch::manual_seed(5);
  const auto expected_global = torch::rand({3});
  torch::manual_seed(5);
  const auto a = standard_normal_latents(100, 2, 1);
  const auto global = torch::rand({3});
  EXPECT_TRUE(torch::equal(a, standard_normal_latents(100, 2, 1)));
  EXPECT_FALSE(torch::equal(a, standard_normal_latents(100, 2, 2)));
  EXPECT_TRUE(torch::equal(global, expected_global));
  EXPECT_NEAR(a.mean().item<double>(), 0.0, 0.3);
  EXPECT_NEAR(a.std().item<double>(), 1.0, 0.3);
}

TEST(DecodedDigits, BytesRoundToTheNearestLevel) {
  // Exact halves go to the even level (torch.round, like numpy); values outside [0,1] are clamped.
  const auto images = torch::tensor({0.0f, 0.5f / 255, 0.6f / 255, 1.49f / 255, 1.51f / 255, 1.0f, 1.2f, -0.1f});
  EXPECT_EQ(image_bytes(images.view({1, 8})), (std::vector<std::uint8_t>{0, 0, 1, 1, 2, 255, 255, 0}));
}

TEST(ModelDiagrams, EdgesFollowTheDataFlow) {
  ConvVae model;
  const ModelTraces traces = trace_model(model);
  const LayerGraph encoder = layer_graph_of("encoder", traces.encoder);
  auto index = [&](const std::string& heading_start) {
    for (std::size_t i = 0; i < encoder.boxes.size(); ++i) {
      if (encoder.boxes[i].heading.rfind(heading_start + ":", 0) == 0) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no box " << heading_start;
    return -1;
  };
  const auto has_edge = [&](int from, int to) {
    return std::find(encoder.edges.begin(), encoder.edges.end(), std::make_pair(from, to)) != encoder.edges.end();
  };
  EXPECT_TRUE(has_edge(index("encoder_input"), index("conv1")));
  EXPECT_TRUE(has_edge(index("fc"), index("z_mean")));
  EXPECT_TRUE(has_edge(index("fc"), index("z_log_var")));
  EXPECT_TRUE(has_edge(index("z_mean"), index("z")));
  EXPECT_TRUE(has_edge(index("z_log_var"), index("z")));
  EXPECT_FALSE(has_edge(index("z_mean"), index("z_log_var")));
  EXPECT_EQ(encoder.edges.size(), encoder.boxes.size());  // a chain of 6 plus the branch and join
  EXPECT_NE(encoder.boxes[static_cast<std::size_t>(index("conv1"))].fields[1].find("(None, 32, 14, 14)"),
            std::string::npos);
  const LayerGraph vae = layer_graph_of("vae", traces.vae);
  EXPECT_EQ(vae.edges, (std::vector<std::pair<int, int>>{{0, 1}, {1, 2}}));
}

std::vector<EpochMetrics> history(std::vector<std::int64_t> epochs) {
  std::vector<EpochMetrics> rows;
  for (const auto epoch : epochs) {
    EpochMetrics row;
    row.epoch = epoch;
    rows.push_back(row);
  }
  return rows;
}

// `train --overwrite` on another data set left a 4-epoch metrics.csv beside 50-epoch weights, and
// plot drew it under their title.
TEST(PlotInputs, AHistoryThatIsNotTheWeightsOwnIsRefused) {
  WeightsMetadata metadata;
  metadata.dataset = "fashion-mnist";
  metadata.epochs = 50;
  testing::expect_throw_with<DataError>([&] { check_history_belongs("m.csv", history({1, 2, 3, 4}), metadata); },
                                        {"m.csv: ends at epoch 4, but the weights (fashion-mnist) were trained 50 epochs"});
  testing::expect_throw_with<DataError>([&] { check_history_belongs("m.csv", history({1, 3, 2, 50}), metadata); },
                                        {"m.csv: epoch 2 follows epoch 3"});
  check_history_belongs("m.csv", history({1, 2, 50}), metadata);
  metadata.epochs = 0;  // not recorded: nothing to compare with
  check_history_belongs("m.csv", history({1, 2, 3, 4}), metadata);
}

// The plot layer names its settings by field; cli/ alone knows them as --grid and --range.
TEST(PlotInputs, ABadGridOrRangeIsAFieldErrorWithoutTheFlag) {
  const auto expect_refused = [](const PlotInputOptions& options, const std::string& field, const std::string& value,
                                 const std::string& expectation) {
    try {
      check_plot_input_options(options);
      ADD_FAILURE() << field << " " << value << " was taken";
    } catch (const OptionError& error) {
      EXPECT_EQ(error.field(), field);
      EXPECT_EQ(error.value(), value);
      EXPECT_EQ(error.expectation(), expectation);
      EXPECT_EQ(std::string(error.what()).find("--"), std::string::npos) << error.what();
    }
  };
  PlotInputOptions options;
  for (const std::int64_t grid : {std::int64_t{0}, std::int64_t{-3}, kMaxManifoldGrid + 1}) {
    options.grid = grid;
    expect_refused(options, "grid", std::to_string(grid), "between 1 and 200");
  }
  options.grid = kMaxManifoldGrid;
  for (const double range : {0.0, -1.5, std::nan(""), HUGE_VAL}) {
    options.range = range;
    expect_refused(options, "range", short_number(range), "a positive number");
  }
  options.range = 0.5;
  check_plot_input_options(options);
}

// Every digit plot draws is the model's shape: the grids and the manifold hold whole digits of it.
TEST(PlotInputs, DigitsHaveTheModelsImageShape) {
  torch::manual_seed(3);
  ConvVae model;
  const Dataset test = Dataset::from_unit_floats(torch::rand(model->image_shape().batch(13)), torch::arange(13, torch::kLong) % 10);
  PlotInputOptions options;
  options.grid = 3;
  WeightsMetadata metadata;
  const PlotInputs inputs = compute_plot_inputs(model, metadata, test, options);
  EXPECT_EQ(inputs.digit, model->image_shape());
  const auto digit_bytes = static_cast<std::size_t>(model->image_shape().numel());
  EXPECT_EQ(inputs.manifold.size(), 9 * digit_bytes);
  // 13 test images fill two rows of 10 (the second padded), each over its reconstructions.
  EXPECT_EQ(inputs.reconstructions.digits.size(), 4 * 10 * digit_bytes);
  EXPECT_EQ(inputs.reconstructions.row_titles.size(), 4u);
  EXPECT_EQ(inputs.samples.digits.size(), inputs.samples.row_titles.size() * 10 * digit_bytes);
  const auto originals = image_bytes(test.images(0, 10));
  EXPECT_TRUE(std::equal(originals.begin(), originals.end(), inputs.reconstructions.digits.begin()));
}

TEST(PlotInputs, MetricsEpochsAreWholeNumbersInRange) {
  const std::string header = std::string(kMetricsCsvHeader) + "\n";
  for (const char* epoch : {"nan", "1.5", "0", "1e300", "-3"}) {
    testing::expect_throw_with<DataError>(
        [&] { parse_metrics_csv("m.csv", header + epoch + ",1,2,3,4,5,6,7,8\n"); },
        {"m.csv: line 2: epoch", "expected a whole number from 1 to 1000000"});
  }
  const auto rows = parse_metrics_csv("m.csv", header + "1,nan,2,3,inf,5,6,7,8\r\n2,1,2,3,4,5,6,7,8");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_TRUE(std::isnan(rows[0].loss));
  EXPECT_TRUE(std::isinf(rows[0].val_loss));
  EXPECT_EQ(rows[1].epoch, 2);
  EXPECT_EQ(rows[1].images_per_second, 8.0);
}

}  // namespace
}  // namespace vae_cnn
