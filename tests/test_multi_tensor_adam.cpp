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
  const Dataset all = load_split(testing::mnist_sample_dir(), Split::kTrain);
  const auto images = all.images(0, 64);
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
                 const std::vector<std::pair<std::string, at::Tensor>>& libtorch, double rtol = 1e-6,
                 double atol = 1e-9) {
  ASSERT_EQ(ours.size(), libtorch.size());
  for (std::size_t i = 0; i < ours.size(); ++i) {
    ASSERT_EQ(ours[i].first, libtorch[i].first);
    // The same elementwise operations in the same order: equal but for the last bit, which a
    // vectorised kernel's choice of instructions may change.
    EXPECT_TRUE(torch::allclose(ours[i].second, libtorch[i].second, rtol, atol))
        << ours[i].first << ": differs by up to " << (ours[i].second - libtorch[i].second).abs().max().item<double>();
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

// Steps as a recorded CUDA graph does: the host half, then the device half.
class HalvedAdam : public MultiTensorAdam {
 public:
  using MultiTensorAdam::MultiTensorAdam;
  torch::Tensor step(LossClosure /*closure*/ = nullptr) override {
    prepare_graph_step();
    apply_graph_step();
    return {};
  }
};

// `steps` steps of `optimizer` on a seeded model's parameters with gradients drawn from a fixed
// generator (of scales from 1e-9 to 1, as a model's are), the learning rate rising each step as a
// warm-up does; returns the parameters and moments. The gradients do not depend on the weights, so
// two optimizers' rounding differences cannot grow through the model (a ReLU flipped by the last
// bit of a bias would otherwise change whole gradients).
template <class MakeOptimizer>
std::vector<std::pair<std::string, at::Tensor>> steps_on_fixed_gradients(int steps, MakeOptimizer optimizer_of) {
  torch::manual_seed(35);
  ConvVae model;
  auto optimizer = optimizer_of(model);
  at::Generator draws = at::detail::createCPUGenerator(36);
  for (int step = 0; step < steps; ++step) {
    optimizer->param_groups().front().options().set_lr(1e-3 * (step + 1) / steps);
    double scale = 1e-9;
    for (auto& parameter : model->parameters()) {
      parameter.mutable_grad() = at::randn(parameter.sizes(), draws) * scale;
      scale = scale < 1 ? scale * 10 : 1e-9;
    }
    optimizer->step();
  }
  std::vector<std::pair<std::string, at::Tensor>> result;
  for (const auto& item : model->named_parameters()) result.emplace_back(item.key(), item.value().detach().clone());
  for (const auto& parameter : model->parameters()) {
    auto& state = adam_state_of(*optimizer, parameter);
    result.emplace_back("step", torch::tensor(state.step()));
    result.emplace_back("exp_avg", state.exp_avg());
    result.emplace_back("exp_avg_sq", state.exp_avg_sq());
  }
  return result;
}

TEST(MultiTensorAdam, TheGraphHalvesTakeItsSteps) {
  for (const int steps : {1, 6}) {
    const auto halves = steps_on_fixed_gradients(steps, [](ConvVae& model) {
      auto optimizer = std::make_unique<HalvedAdam>(model->parameters(), torch::optim::AdamOptions(1e-3));
      EXPECT_EQ(optimizer->graph_step_unavailable_reason(), "");
      return optimizer;
    });
    const auto libtorch = steps_on_fixed_gradients(steps, [](ConvVae& model) {
      return std::make_unique<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
    });
    // The step size divides the denominator instead of scaling the update: the last bits of each
    // update differ (~1e-7 of it, an update being at most lr = 1e-3). A wrong factor (a stale
    // learning rate, a bias correction off by a step) moves weights by a good part of lr.
    expect_same(halves, libtorch, 1e-5, 1e-9);
  }
}

TEST(MultiTensorAdam, TheHostHalfReadsTheLearningRateEveryStep) {
  torch::manual_seed(33);
  ConvVae model;
  HalvedAdam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
  const auto images = load_split(testing::mnist_sample_dir(), Split::kTrain).images(0, 32);
  const auto take_step = [&] {
    optimizer.zero_grad();
    batch_loss(model, images, LossKind::kMse, 1.0).total.backward();
    optimizer.step();
  };
  take_step();
  const auto weight = model->encoder->fc->weight;
  const auto before = weight.detach().clone();
  optimizer.param_groups().front().options().set_lr(0.0);
  take_step();
  EXPECT_TRUE(torch::equal(weight, before)) << "a learning rate of 0 must leave the weights";
  EXPECT_EQ(adam_state_of(optimizer, weight).step(), 2);
  optimizer.param_groups().front().options().set_lr(1e-3);
  take_step();
  EXPECT_FALSE(torch::equal(weight, before));
}

TEST(MultiTensorAdam, SaysWhyItCannotBeRecorded) {
  torch::manual_seed(34);
  ConvVae model;
  MultiTensorAdam amsgrad(model->parameters(), torch::optim::AdamOptions(1e-3).amsgrad(true));
  EXPECT_NE(amsgrad.graph_step_unavailable_reason().find("amsgrad"), std::string::npos);
  MultiTensorAdam plain(model->parameters(), torch::optim::AdamOptions(1e-3));
  adam_state_of(plain, model->encoder->fc->weight).step(3);
  EXPECT_EQ(plain.graph_step_unavailable_reason(), "the parameters' step counts differ");
}

TEST(MultiTensorAdam, IsTheTrainersAdam) {
  torch::manual_seed(32);
  ConvVae model;
  EXPECT_NE(dynamic_cast<MultiTensorAdam*>(make_optimizer(model, 1e-3).get()), nullptr);
}

}  // namespace
}  // namespace vae_cnn
