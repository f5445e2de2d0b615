// Hostile but realistic inputs, through the real binary: each ends in one accurate line (or a
// result) rather than a crash, a hang, a misleading word or a replaced file.
#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.hpp"
#include "zip_rewrite.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

TEST(Hostile, AFolderGivenAsAFileIsCalledAFolder) {
  ScratchDir dir;
  std::filesystem::create_directories(dir.file("folder.pt"));
  testing::expect_one_line_failure(run_vae_cnn(dir, "eval -w '" + dir.file("folder.pt") + "'"), 1,
                                   dir.file("folder.pt") + ": is a folder, expected a vae_cnn weights file", "-w folder");
  testing::expect_one_line_failure(run_vae_cnn(dir, "train --resume '" + dir.file("folder.pt") + "'"), 1,
                                   "is a folder, expected a vae_cnn checkpoint", "--resume folder");
}

// A checkpoint whose largest tensor record was cut short inside a valid zip: --resume refuses it
// before reading past the record's end or overwriting any of the run's files.
TEST(Hostile, ADamagedCheckpointIsRefusedBeforeAnythingIsOverwritten) {
  ScratchDir dir;
  std::filesystem::copy(testing::bce_seed7_training(), dir.file("run"));
  auto records = fuzzing::read_zip_records(slurp(dir.file("run/checkpoint.pt")));
  ASSERT_TRUE(records);
  const auto largest = fuzzing::largest_tensor_record(*records);
  ASSERT_NE(largest, records->end());
  largest->bytes.resize(largest->bytes.size() - 4);
  std::ofstream(dir.file("run/checkpoint.pt"), std::ios::binary) << fuzzing::write_zip_records(*records);
  const std::string weights_before = slurp(dir.file("run/vae_cnn.mnist.pt"));
  const std::string metrics_before = slurp(dir.file("run/metrics.csv"));
  testing::expect_one_line_failure(
      run_vae_cnn(dir, "train --resume '" + dir.file("run/checkpoint.pt") + "' --epochs 4"), 1,
      "truncated or damaged", "--resume of a short record");
  testing::expect_one_line_failure(run_vae_cnn(dir, "eval -w '" + dir.file("run/checkpoint.pt") + "'"), 1,
                                   "truncated or damaged", "eval of the damaged checkpoint");
  EXPECT_EQ(slurp(dir.file("run/vae_cnn.mnist.pt")), weights_before);
  EXPECT_EQ(slurp(dir.file("run/metrics.csv")), metrics_before);
}

TEST(Hostile, APathWithANewlineStaysOnTheErrorsOneLine) {
  ScratchDir dir;
  const std::string odd = dir.file("a\nb.pt");
  testing::expect_one_line_failure(run_vae_cnn(dir, "eval -w '" + odd + "'"), 1, dir.file("a\\nb.pt"), "newline");
}

TEST(Hostile, AnOutputNameOf250BytesIsWritten) {
  ScratchDir dir;
  const std::string name = std::string(246, 'n') + ".png";  // 250 bytes: the temporary name would be longer
  const auto result = run_vae_cnn(dir, "decode -w '" + testing::bce_seed7_training() + "/vae_cnn.mnist.pt' -z 0,0 -o '" +
                                           dir.file(name) + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file(name)));
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 3) << "the picture, out.txt, err.txt; no temporary file left";
}

TEST(Hostile, PlotCopesWithAHugeRangeACutFontAndBrokenMetrics) {
  ScratchDir dir;
  const std::string trained = testing::bce_seed7_training();
  std::filesystem::create_directories(dir.file("run"));
  std::filesystem::copy_file(trained + "/vae_cnn.mnist.pt", dir.file("run/vae_cnn.mnist.pt"));
  // metrics.csv with a NaN epoch: the chart leaves it out and a note says so.
  std::string metrics = slurp(trained + "/metrics.csv");
  const auto second_row = metrics.find("\n2,");
  ASSERT_NE(second_row, std::string::npos) << metrics;
  metrics.replace(second_row + 3, metrics.find(',', second_row + 3) - (second_row + 3), "nan");
  std::ofstream(dir.file("run/metrics.csv")) << metrics;
  const std::string plot = "plot -w '" + dir.file("run/vae_cnn.mnist.pt") + "' --data '" + testing::mnist_sample_dir() +
                           "' --out '" + dir.file("p") + "'";
  const auto huge = run_vae_cnn(dir, plot + " --range 1000");
  ASSERT_EQ(huge.exit_code, 0) << huge.err;
  EXPECT_NE(huge.out.find("loss.png: 1 of 2 epochs in metrics.csv have a NaN or infinite loss"), std::string::npos)
      << huge.out;
  // A font cut short is refused, not read past its end.
  std::ifstream font("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(font)), std::istreambuf_iterator<char>());
  std::ofstream(dir.file("cut.ttf"), std::ios::binary) << bytes.substr(0, 300000);
  testing::expect_one_line_failure(run_vae_cnn(dir, plot, "VAE_CNN_FONT='" + dir.file("cut.ttf") + "'"), 1,
                                   dir.file("cut.ttf") + ": not a usable TrueType font: truncated", "cut font");
}

}  // namespace
}  // namespace vae_cnn
