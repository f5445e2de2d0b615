// Loss terms against values worked out by hand on tiny tensors.
#include "vae_cnn/model/loss.hpp"

#include <cmath>

#include "test_support.hpp"

namespace vae_cnn {
namespace {

TEST(Loss, KlIsZeroForTheStandardNormal) {
  const auto kl = kl_divergence(torch::zeros({4, 2}), torch::zeros({4, 2}));
  EXPECT_TRUE(torch::allclose(kl, torch::zeros({4})));
}

TEST(Loss, KlMatchesTheHandValue) {
  // mu = (1, 2), log var = (0, ln 2): -0.5·[(1 + 0 - 1 - 1) + (1 + ln2 - 4 - 2)] = 3 - ln2/2
  const auto kl = kl_divergence(torch::tensor({{1.0, 2.0}}), torch::tensor({{0.0, std::log(2.0)}}));
  EXPECT_NEAR(kl.item<double>(), 3.0 - std::log(2.0) / 2.0, 1e-6);
}

TEST(Loss, MseIsSummedOverThe784Pixels) {
  // sigmoid(0) = 0.5 against ones: 0.25 per pixel, 196 per image.
  const auto loss = reconstruction_loss(torch::zeros({2, 1, 28, 28}), torch::ones({2, 1, 28, 28}), LossKind::kMse);
  EXPECT_EQ(loss.sizes(), (std::vector<std::int64_t>{2}));
  EXPECT_NEAR(loss[0].item<double>(), 196.0, 1e-3);
}

TEST(Loss, BceMatchesTheHandValue) {
  // p = 0.5 costs ln 2 per pixel whatever the target.
  const auto x = torch::rand({1, 1, 28, 28});
  const auto loss = reconstruction_loss(torch::zeros({1, 1, 28, 28}), x, LossKind::kBce);
  EXPECT_NEAR(loss.item<double>(), 784 * std::log(2.0), 1e-2);
}

TEST(Loss, BceIsFiniteWhereTheSigmoidIsExactlyZeroOrOne) {
  // sigmoid(±200) rounds to exactly 1 and 0 in float32; right answers cost 0, wrong ones 200 each.
  auto logits = torch::full({1, 1, 28, 28}, 200.0f);
  logits.view(-1).slice(0, 0, 392).fill_(-200.0f);
  auto x = torch::ones({1, 1, 28, 28});
  x.view(-1).slice(0, 0, 392).zero_();
  EXPECT_EQ(torch::sigmoid(logits).max().item<float>(), 1.0f);
  EXPECT_EQ(torch::sigmoid(logits).min().item<float>(), 0.0f);
  EXPECT_NEAR(reconstruction_loss(logits, x, LossKind::kBce).item<double>(), 0.0, 1e-6);
  const auto wrong = reconstruction_loss(logits, 1 - x, LossKind::kBce);
  EXPECT_TRUE(std::isfinite(wrong.item<double>()));
  EXPECT_NEAR(wrong.item<double>(), 784 * 200.0, 1e-1);
}

TEST(Loss, TotalIsReconstructionPlusBetaKlAveragedOverTheBatch) {
  VaeOutput out;
  out.logits = torch::zeros({2, 1, 28, 28});
  out.z_mean = torch::tensor({{0.0f, 0.0f}, {1.0f, 2.0f}});
  out.z_log_var = torch::tensor({{0.0f, 0.0f}, {0.0f, static_cast<float>(std::log(2.0))}});
  auto x = torch::ones({2, 1, 28, 28});
  x[1].zero_();
  const VaeLoss loss = vae_loss(out, x, LossKind::kMse, /*beta=*/0.5);
  const double kl_mean = (0.0 + 3.0 - std::log(2.0) / 2.0) / 2.0;
  EXPECT_NEAR(loss.reconstruction.item<double>(), 196.0, 1e-3);
  EXPECT_NEAR(loss.kl.item<double>(), kl_mean, 1e-5);
  EXPECT_NEAR(loss.total.item<double>(), 196.0 + 0.5 * kl_mean, 1e-3);
}

TEST(Loss, KindNamesRoundTrip) {
  EXPECT_EQ(parse_loss_kind(to_string(LossKind::kBce)), LossKind::kBce);
  EXPECT_EQ(parse_loss_kind(to_string(LossKind::kMse)), LossKind::kMse);
  EXPECT_THROW(parse_loss_kind("l1"), std::invalid_argument);
}

}  // namespace
}  // namespace vae_cnn
