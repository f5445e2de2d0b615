// The importance-weighted log-likelihood: its constants, its growth with K, and agreement with
// log p(x) integrated by brute force over a grid of the 2-D latent space.
#include <vector>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/eval/likelihood.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

// A model with some structure after a few dozen Adam steps on real digits, and a few test digits.
struct SmallModel {
  ConvVae model{nullptr};
  torch::Tensor digits;
};

SmallModel briefly_trained(LossKind loss) {
  torch::manual_seed(3);
  const Dataset train = load_split(testing::mnist_sample_dir(), Split::kTrain);
  SmallModel small{ConvVae(ConvVaeOptions{}), load_split(testing::mnist_sample_dir(), Split::kTest).images(0, 24)};
  auto optimizer = make_optimizer(small.model, 1e-3);
  small.model->train();
  for (int step = 0; step < 30; ++step) {
    const auto batch = train.images((step % 4) * 64, (step % 4 + 1) * 64);
    const VaeLoss terms = batch_loss(small.model, batch, loss, 1.0);
    optimizer->zero_grad();
    terms.total.backward();
    optimizer->step();
  }
  return small;
}

// log p(x) = log ∫ p(x|z) N(z; 0, I) dz as a Riemann sum over [-6, 6]² with `steps`² points.
double brute_force_log_likelihood(ConvVae& model, const torch::Tensor& image, LossKind loss, int steps) {
  torch::NoGradGuard no_grad;
  model->eval();
  const auto axis = torch::linspace(-6.0, 6.0, steps);
  const double cell = 12.0 / (steps - 1);
  const auto grid = torch::stack(torch::meshgrid({axis, axis}, "ij"), -1).reshape({-1, 2});
  const double constant = pixel_likelihood(loss, 784).constant_nats;
  std::vector<torch::Tensor> parts;
  for (std::int64_t first = 0; first < grid.size(0); first += 1024) {
    const auto logits = model->decoder->forward(grid.slice(0, first, first + 1024));
    parts.push_back(-reconstruction_loss(logits, image.unsqueeze(0).expand_as(logits), loss) - constant);
  }
  const auto log_p_x = torch::cat(parts);
  const auto log_prior = -0.5 * (grid.square().sum(1) + 2.0 * std::log(2.0 * M_PI));
  return (torch::logsumexp((log_p_x + log_prior).to(torch::kFloat64), 0) + 2.0 * std::log(cell)).item<double>();
}

TEST(Likelihood, EachLossNamesItsPixelModelAndConstant) {
  EXPECT_DOUBLE_EQ(pixel_likelihood(LossKind::kBce, 784).constant_nats, 0.0);
  EXPECT_NEAR(pixel_likelihood(LossKind::kMse, 784).constant_nats, 392.0 * std::log(M_PI), 1e-9);
  // The Gaussian with variance 1/2: -log N(x; m, 1/2) = (x - m)² + ln(π)/2 for one pixel.
  const double x = 0.3, m = 0.8;
  const double negative_log_density = -std::log(std::exp(-(x - m) * (x - m)) / std::sqrt(M_PI));
  EXPECT_NEAR(negative_log_density, (x - m) * (x - m) + pixel_likelihood(LossKind::kMse, 1).constant_nats, 1e-12);
}

// Long estimates report how far they are, in the samples drawn, up to all of them; the figures
// are the same with or without someone listening.
TEST(Likelihood, ProgressCountsEverySampleOnce) {
  torch::manual_seed(4);
  ConvVae model;
  const auto digits = load_split(testing::mnist_sample_dir(), Split::kTest).images(0, 24);
  std::vector<std::int64_t> heard;
  std::int64_t total_heard = 0;
  const auto with = importance_weighted_bound(model, digits, LossKind::kBce, 50, 7, 64,
                                              [&](std::int64_t done, std::int64_t total) {
                                                heard.push_back(done);
                                                total_heard = total;
                                              });
  const auto without = importance_weighted_bound(model, digits, LossKind::kBce, 50, 7, 64);
  EXPECT_TRUE(torch::equal(with, without));
  EXPECT_EQ(total_heard, 24 * 50);
  ASSERT_FALSE(heard.empty());
  EXPECT_EQ(heard.back(), 24 * 50);
  for (std::size_t i = 1; i < heard.size(); ++i) EXPECT_GT(heard[i], heard[i - 1]) << i;
}

TEST(Likelihood, BoundRisesWithSamplesAndIsRepeatable) {
  for (const LossKind loss : {LossKind::kBce, LossKind::kMse}) {
    SmallModel small = briefly_trained(loss);
    const double one = importance_weighted_bound(small.model, small.digits, loss, 1, 9).mean().item<double>();
    const double ten = importance_weighted_bound(small.model, small.digits, loss, 10, 9).mean().item<double>();
    const double hundred = importance_weighted_bound(small.model, small.digits, loss, 100, 9).mean().item<double>();
    EXPECT_LT(one, ten) << to_string(loss);
    EXPECT_LE(ten, hundred + 0.05) << to_string(loss);
    const auto whole = importance_weighted_bound(small.model, small.digits, loss, 100, 9);
    const auto again = importance_weighted_bound(small.model, small.digits, loss, 100, 9);
    EXPECT_LT((whole - again).abs().max().item<double>(), 1e-9) << to_string(loss);
  }
}

TEST(Likelihood, ManySamplesApproachTheBruteForceIntegral) {
  const LossKind loss = LossKind::kBce;
  SmallModel small = briefly_trained(loss);
  for (int i = 0; i < 2; ++i) {
    const auto image = small.digits[i];
    const double exact = brute_force_log_likelihood(small.model, image, loss, 161);
    const double one = importance_weighted_bound(small.model, image.unsqueeze(0), loss, 1, 5).item<double>();
    const double many = importance_weighted_bound(small.model, image.unsqueeze(0), loss, 2000, 5).item<double>();
    // Within a quarter nat, where one sample's bound is several nats below: the grid (spacing
    // 0.075) and the 2,000 samples each carry an error of about a tenth of a nat.
    EXPECT_NEAR(many, exact, 0.25) << "digit " << i << " K=1 " << one << " K=2000 " << many << " grid " << exact;
    EXPECT_GT(exact - one, 1.0) << "digit " << i;  // one sample's bound sits well below
  }
}

TEST(Likelihood, ActiveUnitsCountDimensionsThatVary) {
  auto z_mean = torch::zeros({100, 3});
  z_mean.select(1, 0).copy_(torch::linspace(-1, 1, 100));     // variance ~0.34: active
  z_mean.select(1, 2).copy_(torch::linspace(-0.1, 0.1, 100));  // variance ~0.003: not
  EXPECT_EQ(active_units(z_mean), 1);
  EXPECT_EQ(active_units(z_mean, 0.001), 2);
}

}  // namespace
}  // namespace vae_cnn
