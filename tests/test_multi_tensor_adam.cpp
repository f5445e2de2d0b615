// The multi-tensor Adam against LibTorch's own, step for step on real digits.
#include "vae_cnn/train/multi_tensor_adam.hpp"

#include "test_support.hpp"
#include "vae_cnn/train/optimizer_state.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

// Trains a fresh model of `seed` for `steps` steps on 64 real digits with `optimizer_of`'s optimizer
// and returns its parameters and moments, by name.
template <class MakeOptimizer>
std::vector<std::pair<std::string, at::Tensor>> train_steps(int steps, MakeOptimizer optimizer_of) {
  torch::manual_seed(31);
  ConvVae model;
  auto optimizer = optimizer_of(model);
  const Dataset all = load_split(testing::real_mnist_dir(), Split::kTrain);
  const auto images = all.images.slice(0, 0, 64);
  at::Generator noise = at::detail::createCPUGenerator(5);
  for (int step = 0; step < steps; ++step) {
    optimizer->zero_grad();
    batch_loss(model, images, LossKind::kBce, 1.0, noise).total.backward();
    optimizer->step();
  }
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const auto& item : model->named_parameters()) result.emplace_back(item.key(), item.value().detach().clone());
  const GenericDict state = optimizer_state_to_dict(*optimizer, model->named_parameters());
  for (const auto& item : state) {
    const GenericDict entry = item.value().toGenericDict();
    result.emplace_back(item.key().toStringRef() + ".step", torch::tensor(entry.at("step").toInt()));
    for (const char* buffer : {"exp_avg", "exp_avg_sq"}) {
      result.emplace_back(item.key().toStringRef() + "." + buffer, entry.at(buffer).toTensor());
    }
  }
  return result;
}

void expect_same(const std::vector<std::pair<std::string, at::Tensor>>& ours,
                 const std::vector<std::pair<std::string, at::Tensor>>& libtorch) {
  ASSERT_EQ(ours.size(), libtorch.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    ASSERT_EQ(ours[i].first, libtorch[i].first);
    // The same elementwise operations in the same order: equal but for the last bit, which a
    // vectorised kernel's choice of instructions may change.
    EXPECT_TRUE(torch::allclose(ours[i].second, libtorch[i].second, 1e-6, 1e-9)) << ours[i].first;
  }
}

TEST(MultiTensorAdam, TakesLibTorchsAdamStepsWithTheSameState) {
  for (const double lr : {1e-3, 3e-4}) {
    const auto ours = train_steps(6, [&](ConvVae& model) {
      return std::make_unique<MultiTensorAdam>(model->parameters(), torch::optim::AdamOptions(lr));
    });
    const auto libtorch = train_steps(6, [&](ConvVae& model) {
      return std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(lr));
    });
    expect_same(ours, libtorch);
  }
}

TEST(MultiTensorAdam, OptionsItDoesNotFuseTakeLibTorchsPath) {
  const auto options = torch::optim::AdamOptions(1e-3).amsgrad(true).weight_decay(0.01);
  const auto ours = train_steps(4, [&](ConvVae& model) {
    return std::make_unique<MultiTensorAdam>(model->parameters(), options);
  });
  const auto libtorch = train_steps(4, [&](ConvVae& model) {
    return std::make_unique<torch::optim::Adam>(model->parameters(), options);
  });
  expect_same(ours, libtorch);
}

TEST(MultiTensorAdam, IsTheTrainersAdam) {
  torch::manual_seed(32);
  ConvVae model;
  EXPECT_NE(dynamic_cast<MultiTensorAdam*>(make_optimizer(model, 1e-3).get()), nullptr);
}

}  // namespace
}  // namespace vae_cnn
