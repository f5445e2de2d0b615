// `vae_cnn plot` end to end on weights trained on real digits: the eight PNGs read back with
// stb_image, the manifold agrees with `decode`, the legend's colours are in the scatter, the bytes
// repeat, and missing metrics or bad weights behave.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <cstdio>
#include <filesystem>

#include "cli_support.hpp"
#include "vae_cnn/eval/latent_grid.hpp"
#include "vae_cnn/render/digit_manifold.hpp"
#include "vae_cnn/render/latent_scatter.hpp"
#include "vae_cnn/render/plot_set.hpp"
#include "vae_cnn/train/train_run.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::RunResult;
using testing::ScratchDir;
using testing::slurp;

struct Png {
  int width = 0, height = 0;
  std::vector<std::uint8_t> rgb;
  Rgb at(int x, int y) const {
    const std::size_t i = (static_cast<std::size_t>(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

Png read_png(const std::string& path) {
  Png png;
  int channels = 0;
  unsigned char* pixels = stbi_load(path.c_str(), &png.width, &png.height, &channels, 3);
  if (pixels == nullptr) {
    ADD_FAILURE() << path << ": " << stbi_failure_reason();
    return png;
  }
  png.rgb.assign(pixels, pixels + static_cast<std::size_t>(png.width) * png.height * 3);
  stbi_image_free(pixels);
  return png;
}

// Two epochs on the first 256 real training digits, with BCE, which (unlike MSE on so few digits)
// keeps the latent means apart: a model with some structure, in seconds.
// Two BCE epochs of seed 7, trained once for all the tests here that read them.
std::string train_small(const ScratchDir&) {
  TrainConfig config = testing::small_real_run("", 2, 7);
  config.loss = LossKind::kBce;
  return testing::shared_training("plot_bce_seed7", config) + "/vae_cnn.mnist.pt";
}

std::string plot_arguments(const std::string& weights, const std::string& out) {
  return "plot -w '" + weights + "' --data '" + testing::mnist_sample_dir() + "' --out '" + out + "'";
}

TEST(PlotCli, WritesAllEightPicturesAtTheirSizes) {
  ScratchDir dir;
  const std::string weights = train_small(dir);
  const RunResult result = run_vae_cnn(dir, plot_arguments(weights, dir.file("pictures")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(result.err.empty()) << result.err;
  for (const char* name : kPlotFiles) {
    const Png png = read_png(dir.file(std::string("pictures/") + name));
    EXPECT_GT(png.width, 100) << name;
    EXPECT_GT(png.height, 100) << name;
    EXPECT_NE(result.out.find(std::string("wrote ") + dir.file(std::string("pictures/") + name)), std::string::npos)
        << result.out;
  }
  // The manifold holds 30x30 digits of 28x28 pixels; reconstructions 4 rows of 10 digits drawn 2x.
  const Png manifold = read_png(dir.file("pictures/digits_over_latent.png"));
  EXPECT_GE(manifold.width, 30 * 28);
  EXPECT_GE(manifold.height, 30 * 28);
  const Png reconstructions = read_png(dir.file("pictures/reconstructions.png"));
  EXPECT_GE(reconstructions.width, 10 * 56);
  EXPECT_GE(reconstructions.height, 4 * 56);
  EXPECT_NE(result.out.find("8 pictures in"), std::string::npos) << result.out;
}

TEST(PlotCli, ManifoldCellsEqualDecodeAtTheirLatentPoint) {
  ScratchDir dir;
  const std::string weights = train_small(dir);
  const int grid = 9;
  const double range = 3.0;
  ASSERT_EQ(run_vae_cnn(dir, plot_arguments(weights, dir.file("p")) + " --grid 9 --range 3").exit_code, 0);
  const Png manifold = read_png(dir.file("p/digits_over_latent.png"));
  const auto axis = manifold_axis(grid, range);
  int differing_pixels = 0;
  for (const auto& [row, column] : std::vector<std::pair<int, int>>{{0, 0}, {0, 8}, {8, 0}, {4, 4}, {2, 6}}) {
    // Row 0 is the top: z[1] = +range; column 0 is the left: z[0] = -range.
    char z[80];
    std::snprintf(z, sizeof z, "%.17g,%.17g", axis[static_cast<std::size_t>(column)],
                  axis[static_cast<std::size_t>(grid - 1 - row)]);
    const RunResult decoded = run_vae_cnn(dir, "decode -w '" + weights + "' --z " + z + " -o '" + dir.file("d.png") + "'");
    ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
    const Png digit = read_png(dir.file("d.png"));
    ASSERT_EQ(digit.width, 28);
    const PixelPoint origin = manifold_cell(grid, row, column);
    // A batch of 81 and a batch of 1 take different oneDNN kernels, whose sums differ in the last
    // float bits; a pixel right on a rounding boundary may then land one grey level off, no more.
    for (int y = 0; y < 28; ++y) {
      for (int x = 0; x < 28; ++x) {
        const int cell = manifold.at(origin.x + x, origin.y + y).r, alone = digit.at(x, y).r;
        EXPECT_LE(std::abs(cell - alone), 1) << "cell " << row << "," << column << " pixel " << x << "," << y;
        differing_pixels += cell != alone;
      }
    }
  }
  EXPECT_LT(differing_pixels, 5 * 784 / 50) << "more than 2% of the pixels are off by a level";
}

TEST(PlotCli, ScatterShowsEveryLegendColourAndAnnotationsAddText) {
  ScratchDir dir;
  const std::string weights = train_small(dir);
  ASSERT_EQ(run_vae_cnn(dir, plot_arguments(weights, dir.file("plain"))).exit_code, 0);
  const RunResult annotated = run_vae_cnn(dir, plot_arguments(weights, dir.file("annotated")) + " --annotate");
  ASSERT_EQ(annotated.exit_code, 0) << annotated.err;
  const Png scatter = read_png(dir.file("plain/vae_mean.png"));
  for (int label = 0; label < 10; ++label) {
    const Rgb colour = class_colour(label);
    bool found = false;
    for (int y = 0; y < scatter.height && !found; ++y) {
      for (int x = 0; x < scatter.width && !found; ++x) found = scatter.at(x, y) == colour;
    }
    EXPECT_TRUE(found) << "legend colour of digit " << label << " is not in vae_mean.png";
  }
  const Png labelled = read_png(dir.file("annotated/vae_mean.png"));
  ASSERT_EQ(labelled.width, scatter.width);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < scatter.rgb.size(); ++i) changed += scatter.rgb[i] != labelled.rgb[i];
  EXPECT_GT(changed, 200u) << "--annotate wrote no digits";
}

TEST(PlotCli, SameWeightsGiveByteIdenticalPictures) {
  ScratchDir dir;
  const std::string weights = train_small(dir);
  ASSERT_EQ(run_vae_cnn(dir, plot_arguments(weights, dir.file("first"))).exit_code, 0);
  ASSERT_EQ(run_vae_cnn(dir, plot_arguments(weights, dir.file("second"))).exit_code, 0);
  for (const char* name : kPlotFiles) {
    const std::string first = slurp(dir.file(std::string("first/") + name));
    EXPECT_FALSE(first.empty()) << name;
    EXPECT_TRUE(first == slurp(dir.file(std::string("second/") + name))) << name << " differs between two runs";
  }
}

TEST(PlotCli, WithoutMetricsTheOtherPicturesAreWrittenAndTheGapNoted) {
  ScratchDir dir;
  const std::string trained = train_small(dir);
  std::filesystem::create_directories(dir.file("alone"));
  std::filesystem::copy_file(trained, dir.file("alone/vae_cnn.mnist.pt"));
  const RunResult result = run_vae_cnn(dir, plot_arguments(dir.file("alone/vae_cnn.mnist.pt"), dir.file("p")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_FALSE(std::filesystem::exists(dir.file("p/loss.png")));
  EXPECT_NE(result.out.find("loss.png not drawn: no metrics.csv"), std::string::npos) << result.out;
  int written = 0;
  for (const char* name : kPlotFiles) written += std::filesystem::exists(dir.file(std::string("p/") + name));
  EXPECT_EQ(written, 7);
}

TEST(PlotCli, LatentMeansThatBarelySpreadAreNamedNotDrawnAsABlankChart) {
  ScratchDir dir;
  // An encoder whose weights are all zero maps every image to the same latent mean.
  ConvVae collapsed;
  {
    torch::NoGradGuard no_grad;
    for (auto& parameter : collapsed->encoder->parameters()) parameter.zero_();
  }
  save_weights(dir.file("collapsed.pt"), collapsed, WeightsMetadata{});
  const RunResult result = run_vae_cnn(dir, plot_arguments(dir.file("collapsed.pt"), dir.file("p")));
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("latent means barely spread (std 0.000)"), std::string::npos) << result.out;
  // A freshly initialised encoder's means spread ~0.01 (it is untrained: the note is right there
  // too); scaled up 100 times they spread ~1, like a trained model's, and the note must go.
  torch::manual_seed(3);
  ConvVae spread;
  {
    torch::NoGradGuard no_grad;
    spread->encoder->z_mean->weight.mul_(100.0);
  }
  save_weights(dir.file("spread.pt"), spread, WeightsMetadata{});
  const RunResult healthy = run_vae_cnn(dir, plot_arguments(dir.file("spread.pt"), dir.file("q")));
  ASSERT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.out.find("barely spread"), std::string::npos) << healthy.out;
}

TEST(InterpolateCli, WritesOneRowOfTheOriginalsAndTheDigitsBetween) {
  ScratchDir dir;
  const std::string weights = train_small(dir);
  const std::string common = "interpolate -w '" + weights + "' --data '" + testing::mnist_sample_dir() + "' ";
  const RunResult result = run_vae_cnn(dir, common + "--from 3 --to 10 --steps 8 -o '" + dir.file("line.png") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const Png png = read_png(dir.file("line.png"));
  // 10 cells of 28x28 drawn 2x in one row, and a title above.
  EXPECT_GE(png.width, 10 * 56);
  EXPECT_LT(png.width, 11 * 56 + 200);
  EXPECT_GE(png.height, 56);
  EXPECT_LT(png.height, 2 * 56 + 60);
  // Found only once the test split is read; the parser's checks are in test_cli_parsing.cpp.
  testing::expect_one_line_failure(run_vae_cnn(dir, common + "--from 3 --to 99999 -o '" + dir.file("bad.png") + "'"), 2,
                                   "99999 is not in the test split", "--to 99999");
  EXPECT_FALSE(std::filesystem::exists(dir.file("bad.png")));
}

TEST(PlotCli, BadWeightsExitOneAndBadOptionsExitTwo) {
  ScratchDir dir;
  testing::write_bytes(dir.file("junk.pt"), {'n', 'o', 't', ' ', 'a', ' ', 'z', 'i', 'p'});
  testing::expect_one_line_failure(run_vae_cnn(dir, plot_arguments(dir.file("junk.pt"), dir.file("p"))), 1,
                                   dir.file("junk.pt"), "junk weights");
  testing::expect_one_line_failure(run_vae_cnn(dir, plot_arguments(dir.file("none.pt"), dir.file("p"))), 1,
                                   dir.file("none.pt"), "missing weights");
  EXPECT_FALSE(std::filesystem::exists(dir.file("p/vae_mean.png")));
  testing::expect_one_line_failure(run_vae_cnn(dir, "plot -w x.pt --grid 0"), 2, "--grid", "--grid 0");
}

}  // namespace
}  // namespace vae_cnn
