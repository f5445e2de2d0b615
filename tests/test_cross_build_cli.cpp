// Files cross LibTorch versions: weights and checkpoints written by the other build of vae_cnn
// (Debian's LibTorch 1.13 against PyPI's 2.x, or the other way round) load in this one, and back.
// The other build's binary comes from VAE_CNN_OTHER_BUILD_BINARY at configure time
// (scripts/test.sh sets it); without it these tests are skipped.
#include <filesystem>

#include "cli_support.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"

namespace vae_cnn {
namespace {

using testing::RunResult;
using testing::ScratchDir;

const std::string kOther = VAE_CNN_OTHER_BUILD_BINARY;

std::string train_args(const std::string& out, int epochs, bool resume) {
  return "train --data '" + testing::mnist_sample_dir() + "' --limit 256 --batch-size 32 --threads 1 --seed 7 --epochs " +
         std::to_string(epochs) + " --out '" + out + "'" + (resume ? " --resume" : "");
}

std::string encode_args(const std::string& weights, const std::string& csv) {
  return "encode -w '" + weights + "' --data '" + testing::mnist_sample_dir() + "' -o '" + csv + "'";
}

class CrossBuild : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kOther.empty() || !std::filesystem::exists(kOther)) GTEST_SKIP() << "no other build configured";
  }
  // `writer` trains one epoch; `reader` encodes its weights as `writer` does, then resumes its
  // checkpoint for a second epoch.
  void expect_readable(const std::string& writer, const std::string& reader) {
    ScratchDir dir;
    const std::string out = dir.file("w");
    const RunResult trained = testing::run_program(writer, dir, train_args(out, 1, false));
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    const std::string weights = out + "/vae_cnn.mnist-sample.pt";
    ASSERT_EQ(testing::run_program(writer, dir, encode_args(weights, dir.file("writer.csv"))).exit_code, 0);
    const RunResult encoded = testing::run_program(reader, dir, encode_args(weights, dir.file("reader.csv")));
    ASSERT_EQ(encoded.exit_code, 0) << encoded.err;
    const auto comparison =
        testing::compare_encodings(testing::slurp(dir.file("writer.csv")), testing::slurp(dir.file("reader.csv")));
    EXPECT_TRUE(comparison.same_labels);
    EXPECT_EQ(comparison.rows, 1663);
    EXPECT_LT(comparison.largest_difference, 1e-5);

    const std::string again = dir.file("again");  // for the writer's own second epoch, below
    std::filesystem::create_directories(again);
    std::filesystem::copy_file(out + "/checkpoint.pt", again + "/checkpoint.pt");
    const RunResult resumed = testing::run_program(reader, dir, train_args(out, 2, true));
    ASSERT_EQ(resumed.exit_code, 0) << resumed.err;
    const auto rows = read_metrics_csv(out + "/metrics.csv");
    ASSERT_EQ(rows.size(), 2u);
    EXPECT_EQ(rows[1].epoch, 2);
    EXPECT_LT(rows[1].val_loss, rows[0].val_loss);
    // The writer's own second epoch from the same checkpoint: moments given to the wrong parameters
    // would part the two by far more than two LibTorch versions' rounding does.
    ASSERT_EQ(testing::run_program(writer, dir, train_args(again, 2, true)).exit_code, 0);
    const double writers = read_metrics_csv(again + "/metrics.csv").at(1).val_loss;
    EXPECT_NEAR(rows[1].val_loss, writers, 1e-2 * writers);
  }
};

// Before checkpoints held the optimizer's state by name (format 2), LibTorch 2.x read 1.13's
// optimizer archive without an error but paired the moments with the wrong parameters.
TEST_F(CrossBuild, TheOtherBuildsWeightsAndCheckpointLoadHere) { expect_readable(kOther, VAE_CNN_BINARY); }

TEST_F(CrossBuild, ThisBuildsWeightsAndCheckpointLoadInTheOther) { expect_readable(VAE_CNN_BINARY, kOther); }

}  // namespace
}  // namespace vae_cnn
