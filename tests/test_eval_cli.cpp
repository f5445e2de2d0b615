// `vae_cnn eval` end to end: its loss terms are training's validation numbers for the same weights,
// its JSON carries every figure with the weights' metadata, and bad options fail with one line.
#include <nlohmann/json.hpp>

#include <sstream>

#include "cli_support.hpp"
#include "vae_cnn/eval/latent_codes.hpp"
#include "vae_cnn/eval/likelihood.hpp"
#include "vae_cnn/model/encoder_health.hpp"
#include "vae_cnn/train/train_run.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

// The last row of metrics.csv as numbers.
std::vector<double> last_metrics_row(const std::string& path) {
  std::istringstream lines(slurp(path));
  std::string line, last;
  while (std::getline(lines, line)) {
    if (!line.empty()) last = line;
  }
  std::vector<double> values;
  std::istringstream fields(last);
  std::string field;
  while (std::getline(fields, field, ',')) values.push_back(std::stod(field));
  return values;
}

TEST(EvalCli, LossTermsEqualTrainingsValidationAndJsonHasEveryFigure) {
  ScratchDir dir;
  const std::string trained = testing::shared_training("eval_mse_seed5", testing::small_real_run("", 2, 5));
  const std::string weights = trained + "/vae_cnn.mnist.pt";
  const auto result = run_vae_cnn(dir, "eval -w '" + weights + "' --data '" + testing::small_real_dir() +
                                           "' --iw 3 --seed 4 --json '" + dir.file("eval.json") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("log p(x) IWAE"), std::string::npos) << result.out;
  const auto report = nlohmann::json::parse(slurp(dir.file("eval.json")));
  const auto row = last_metrics_row(trained + "/metrics.csv");  // epoch,loss,rec,kl,val_loss,val_rec,val_kl,...
  ASSERT_GE(row.size(), 7u);
  EXPECT_NEAR(report["loss"].get<double>(), row[4], 1e-4 * row[4]);
  EXPECT_NEAR(report["reconstruction"].get<double>(), row[5], 1e-4 * row[5]);
  EXPECT_NEAR(report["kl"].get<double>(), row[6], 1e-4 * std::max(row[6], 1.0));
  EXPECT_EQ(report["weights"]["dataset"], "mnist");
  EXPECT_EQ(report["weights"]["loss"], "mse");
  EXPECT_EQ(report["weights"]["latent_dim"], 2);
  EXPECT_EQ(report["weights"]["epochs"], 2);
  EXPECT_EQ(report["data"]["split"], "test");
  EXPECT_EQ(report["data"]["images"], 100);
  EXPECT_EQ(report["importance_samples"], 3);
  EXPECT_EQ(report["seed"], 4);
  EXPECT_NEAR(report["likelihood"]["constant_nats"].get<double>(), 392.0 * std::log(M_PI), 1e-9);
  EXPECT_NEAR(report["elbo_nats"].get<double>(), -(row[5] + row[6] + 392.0 * std::log(M_PI)), 1e-3);
  // The encoder's figures as the library computes them on the same weights and split.
  LoadedWeights loaded = load_weights(weights);
  const Dataset test = load_split(testing::small_real_dir(), Split::kTest);
  const EncoderHealth health = encoder_health(loaded.model, test, 128);
  EXPECT_EQ(report["active_units"].get<int>(), active_units(encode_dataset(loaded.model, test).z_mean));
  EXPECT_EQ(report["hidden_units"].get<int>(), 16);
  EXPECT_EQ(report["hidden_units_alive"].get<int>(), health.hidden_alive);
  EXPECT_NEAR(report["z_mean_spread"].get<double>(), health.z_mean_spread, 1e-6);
  EXPECT_EQ(report["encoder_uses_input"].get<bool>(), health.uses_input());
  EXPECT_NE(result.out.find("hidden units alive " + std::to_string(health.hidden_alive) + " of 16"), std::string::npos)
      << result.out;
  EXPECT_TRUE(std::isfinite(report["log_likelihood_nats"].get<double>()));
}

// One image has no spread over images: how many units are alive or active cannot be told from it,
// and saying 0 of 16 and "does not use its input" would report a dead encoder that is not.
TEST(EvalCli, ASplitOfOneImageLeavesTheEncoderFiguresUnknown) {
  ScratchDir dir;
  const std::string weights =
      testing::shared_training("eval_mse_seed5", testing::small_real_run("", 2, 5)) + "/vae_cnn.mnist.pt";
  const std::string data = testing::small_data(dir, "one", testing::Files::kRaw);
  write_idx(data + "/t10k-images-idx3-ubyte", testing::first_of("t10k-images-idx3-ubyte", kIdxImagesMagic, 1),
            IdxCompression::kNone);
  write_idx(data + "/t10k-labels-idx1-ubyte", testing::first_of("t10k-labels-idx1-ubyte", kIdxLabelsMagic, 1),
            IdxCompression::kNone);
  const auto result = run_vae_cnn(dir, "eval -w '" + weights + "' --data '" + data + "' --iw 2 --json '" +
                                           dir.file("eval.json") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("hidden units alive: unknown"), std::string::npos) << result.out;
  EXPECT_EQ(result.out.find("does not use its input"), std::string::npos) << result.out;
  const auto report = nlohmann::json::parse(slurp(dir.file("eval.json")));
  EXPECT_EQ(report["data"]["images"], 1);
  for (const char* unknown : {"active_units", "hidden_units_alive", "z_mean_spread", "encoder_uses_input"}) {
    EXPECT_TRUE(report[unknown].is_null()) << unknown << ": " << report[unknown];
  }
}

TEST(EvalCli, BadOptionsAndMissingWeightsFailWithOneLine) {
  ScratchDir dir;
  testing::expect_one_line_failure(run_vae_cnn(dir, "eval -w x.pt --iw 0"), 2, "--iw", "--iw 0");
  testing::expect_one_line_failure(run_vae_cnn(dir, "eval -w '" + dir.file("missing.pt") + "'"), 1,
                                   dir.file("missing.pt"), "missing weights");
}

}  // namespace
}  // namespace vae_cnn
