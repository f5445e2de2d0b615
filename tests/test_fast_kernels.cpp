// The oneDNN route for transposed convolutions computes the same function as LibTorch's own
// ConvTranspose2d: forward, gradients, and a whole SGD and Adam step on real digits.
#include <torch/csrc/autograd/autograd.h>
#include <torch/optim/sgd.h>

#include <functional>
#include <map>
#include <string>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/kernels/bias_relu.hpp"
#include "vae_cnn/kernels/kernel_taps.hpp"
#include "vae_cnn/kernels/layer_kernels.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/kernels/single_channel_conv.hpp"
#include "vae_cnn/kernels/single_channel_deconv.hpp"
#include "vae_cnn/kernels/transposed_conv.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

// Largest |a - b| relative to the largest |b|: the tolerance scale of a whole tensor.
double relative_difference(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>() / std::max(b.abs().max().item<double>(), 1e-12);
}

// `ours` and `theirs` are the same function of `inputs`: equal outputs, and equal gradients of
// every input for the same upstream gradient, to 1e-5 relative.
void expect_same_function(const torch::Tensor& ours, const torch::Tensor& theirs, const std::vector<torch::Tensor>& inputs,
                          const torch::Tensor& upstream, const std::string& label) {
  ASSERT_EQ(ours.sizes(), theirs.sizes()) << label;
  EXPECT_LT(relative_difference(ours, theirs), 1e-5) << label;
  const auto ours_grads = torch::autograd::grad({ours}, inputs, {upstream});
  const auto theirs_grads = torch::autograd::grad({theirs}, inputs, {upstream});
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_LT(relative_difference(ours_grads[i], theirs_grads[i]), 1e-5) << label << " grad " << i;
  }
}

struct Case {
  std::int64_t in, out, side;
  TransposedConvShape shape;
};

TEST(TransposedConv, MatchesConvTranspose2dForwardAndBackward) {
  torch::manual_seed(11);
  for (const Case& c : {Case{64, 64, 7, {2, 1, 1}}, Case{64, 32, 14, {2, 1, 1}}, Case{32, 1, 28, {1, 1, 0}},
                        Case{3, 5, 6, {2, 0, 1}}}) {
    // NCHW takes the plain operators after the convolution, channels-last the fused bias+ReLU pass.
    for (const auto layout : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
      for (const bool relu : {false, true}) {
        const std::string label = std::to_string(c.in) + "->" + std::to_string(c.out) +
                                  (layout == at::MemoryFormat::ChannelsLast ? " channels-last" : " NCHW") +
                                  (relu ? " +relu" : "");
        const auto x = torch::randn({20, c.in, c.side, c.side}).contiguous(layout).requires_grad_();
        const auto weight = torch::randn({c.in, c.out, 3, 3}, torch::requires_grad());
        const auto bias = torch::randn({c.out}, torch::requires_grad());
        const auto ours = transposed_conv2d(x, weight, bias, c.shape, relu);
        auto theirs = torch::conv_transpose2d(x, weight, bias, c.shape.stride, c.shape.padding, c.shape.output_padding);
        if (relu) theirs = torch::relu(theirs);
        expect_same_function(ours, theirs, {x, weight, bias}, torch::randn_like(theirs), label);
      }
    }
  }
}

TEST(SingleChannelDeconv, MatchesConvTranspose2dForwardAndBackward) {
  torch::manual_seed(12);
  for (const auto layout : {at::MemoryFormat::Contiguous, at::MemoryFormat::ChannelsLast}) {
    for (const auto& [channels, side] : std::vector<std::pair<std::int64_t, std::int64_t>>{{32, 28}, {kBlock, 6}}) {
      const auto x = torch::randn({7, channels, side, side}).contiguous(layout).requires_grad_();
      const auto weight = torch::randn({channels, 1, 3, 3}, torch::requires_grad());
      const auto bias = torch::randn({1}, torch::requires_grad());
      const auto ours = single_channel_deconv3x3(x, weight, bias);
      const auto theirs = torch::conv_transpose2d(x, weight, bias, 1, 1);
      expect_same_function(ours, theirs, {x, weight, bias}, torch::randn_like(theirs), std::to_string(channels));
    }
  }
}

TEST(SingleChannelConv, MatchesConv2dAndReluForwardAndBackward) {
  torch::manual_seed(13);
  for (const auto& [channels, side] : std::vector<std::pair<std::int64_t, std::int64_t>>{{32, 28}, {kBlock, 7}}) {
    const auto x = torch::rand({9, 1, side, side}, torch::requires_grad());
    const auto weight = torch::randn({channels, 1, 3, 3}, torch::requires_grad());
    const auto bias = torch::randn({channels}, torch::requires_grad());
    const auto ours = single_channel_conv3x3_s2_relu(x, weight, bias);
    const auto theirs = torch::relu(torch::conv2d(x, weight, bias, 2, 1));
    expect_same_function(ours, theirs, {x, weight, bias},
                         torch::randn_like(theirs).contiguous(at::MemoryFormat::ChannelsLast), std::to_string(channels));
  }
}

// Programming errors, not user errors: LibTorch's c10::Error, checked without its backtrace.
void expect_torch_check(const std::function<void()>& action, const std::string& fragment) {
  try {
    action();
    ADD_FAILURE() << "no error; expected '" << fragment << "'";
  } catch (const c10::Error& error) {
    EXPECT_NE(std::string(error.what_without_backtrace()).find(fragment), std::string::npos)
        << error.what_without_backtrace();
  }
}

TEST(SingleChannelKernels, RefuseChannelCountsOutsideWholeVectorBlocks) {
  const auto x = torch::rand({2, 1, 8, 8});
  expect_torch_check([&] { single_channel_conv3x3_s2_relu(x, torch::randn({5, 1, 3, 3}), torch::randn({5})); },
                     "5 output channels are not a multiple of 32");
  expect_torch_check(
      [&] { single_channel_deconv3x3(torch::randn({2, 5, 8, 8}), torch::randn({5, 1, 3, 3}), torch::randn({1})); },
      "5 input channels are not a multiple of 32");
}

// The layer door picks a kernel only where it computes the layer; any other geometry, channel
// count, device or type runs LibTorch's layer, so asking for the fast kernels never changes a result.
TEST(LayerKernels, EveryLayerComputesWhatLibTorchsLayerComputes) {
  torch::manual_seed(14);
  namespace nn = torch::nn;
  const auto x1 = torch::rand({3, 1, 12, 12});
  for (const std::int64_t channels : {std::int64_t{32}, std::int64_t{5}}) {
    for (const std::int64_t stride : {1, 2}) {
      nn::Conv2d conv(nn::Conv2dOptions(1, channels, 3).stride(stride).padding(1));
      const auto fast = conv2d(*conv, x1, Activation::kRelu, KernelChoice::kFastCpu);
      EXPECT_LT(relative_difference(fast, torch::relu(conv->forward(x1))), 1e-5) << channels << " s" << stride;
      const auto plain = conv2d(*conv, x1, Activation::kNone, KernelChoice::kFastCpu);
      EXPECT_LT(relative_difference(plain, conv->forward(x1)), 1e-5) << "no activation";
    }
  }
  const auto x32 = torch::randn({3, 32, 7, 7});
  const auto x5 = torch::randn({3, 5, 7, 7});
  for (const auto& [x, out, stride, padding, activation] :
       std::vector<std::tuple<torch::Tensor, std::int64_t, std::int64_t, std::int64_t, Activation>>{
           {x32, 1, 1, 1, Activation::kNone}, {x5, 1, 1, 1, Activation::kNone}, {x32, 1, 1, 1, Activation::kRelu},
           {x32, 16, 2, 1, Activation::kRelu}, {x32, 16, 1, 0, Activation::kNone}, {x5, 3, 2, 1, Activation::kRelu}}) {
    nn::ConvTranspose2d layer(
        nn::ConvTranspose2dOptions(x.size(1), out, 3).stride(stride).padding(padding).output_padding(stride - 1));
    const auto theirs = activation == Activation::kRelu ? torch::relu(layer->forward(x)) : layer->forward(x);
    for (const auto choice : {KernelChoice::kFastCpu, KernelChoice::kLibTorch}) {
      const auto ours = conv_transpose2d(*layer, kernel_layout(x, choice), activation, choice);
      EXPECT_LT(relative_difference(ours, theirs), 1e-5)
          << x.size(1) << "->" << out << " s" << stride << " p" << padding << " choice " << static_cast<int>(choice);
    }
  }
  EXPECT_TRUE(kernel_layout(x32, KernelChoice::kFastCpu).is_contiguous(at::MemoryFormat::ChannelsLast));
  EXPECT_TRUE(kernel_layout(x32, KernelChoice::kLibTorch).is_contiguous());
  EXPECT_TRUE(kernel_layout(x32.to(torch::kDouble), KernelChoice::kFastCpu).is_contiguous());
}

TEST(BiasRelu, BiasGradientIsTheSameOnAnyThreadCount) {
  torch::manual_seed(4);
  const auto y = torch::randn({4000, 32});
  const auto grad = torch::randn({4000, 32});
  auto run = [&](int threads) {
    at::set_num_threads(threads);
    auto pre = torch::empty_like(grad);
    auto bias_grad = torch::empty({32});
    bias_relu_backward(grad.data_ptr<float>(), y.data_ptr<float>(), pre.data_ptr<float>(), bias_grad.data_ptr<float>(),
                       4000, 32);
    return std::make_pair(pre, bias_grad);
  };
  const auto one = run(1);
  const auto two = run(2);
  at::set_num_threads(1);
  EXPECT_TRUE(torch::equal(one.first, two.first));
  EXPECT_TRUE(torch::equal(one.second, two.second));
  EXPECT_TRUE(torch::equal(one.first, grad * y.gt(0)));
  EXPECT_LT(relative_difference(one.second, (grad * y.gt(0)).sum(0)), 1e-5);
}

// One step on real digits, fast kernels against LibTorch's layers: the loss, every gradient and
// the parameters after an SGD step agree to 1e-4. oneDNN picks other kernels (other summation
// orders) on AVX-512 than on AVX2, so the tolerances hold for rounding, not for one CPU's bits.
//
// Adam's first step is lr·g/(|g| + ε), about ±lr wherever g is not zero: a gradient at rounding
// level (a dead unit's) moves by ±lr on one side and maybe the other way on the other. So Adam is
// checked in units of lr: no element moves more than lr, and where the gradient is clearly not
// rounding (≥ 1e-3 of its tensor's largest) both move the same way by the same amount.
TEST(TransposedConv, OneStepOnRealDigitsMatchesThePlainModel) {
  constexpr double kLr = 1e-3;
  const Dataset all = load_split(testing::mnist_sample_dir(), Split::kTrain);
  const auto batch = all.images(0, 128);
  for (const LossKind loss : {LossKind::kMse, LossKind::kBce}) {
    torch::manual_seed(21);
    ConvVae fast(ConvVaeOptions().fast_cpu_kernels(true));
    ConvVae plain(ConvVaeOptions().fast_cpu_kernels(false));
    ConvVae fast_adam(ConvVaeOptions().fast_cpu_kernels(true));
    ConvVae plain_adam(ConvVaeOptions().fast_cpu_kernels(false));
    std::map<std::string, torch::Tensor> start;
    {
      torch::NoGradGuard no_grad;
      for (const auto& item : fast->named_parameters()) start[item.key()] = item.value().clone();
      for (ConvVae* copy : {&plain, &fast_adam, &plain_adam}) {
        for (auto& item : (*copy)->named_parameters()) item.value().copy_(start[item.key()]);
      }
    }
    auto step = [&](ConvVae& model, torch::optim::Optimizer& optimizer) {
      torch::manual_seed(5);  // the same ε for every model
      const VaeLoss terms = batch_loss(model, batch, loss, 1.0);
      optimizer.zero_grad();
      terms.total.backward();
      optimizer.step();
      return terms.total.item<double>();
    };
    auto sgd = [&](ConvVae& model) {
      torch::optim::SGD optimizer(model->parameters(), torch::optim::SGDOptions(kLr));
      return step(model, optimizer);
    };
    const double fast_loss = sgd(fast);
    const double plain_loss = sgd(plain);
    EXPECT_NEAR(fast_loss, plain_loss, 1e-4 * std::abs(plain_loss)) << to_string(loss);
    const auto plain_parameters = plain->named_parameters();
    for (const auto& item : fast->named_parameters()) {
      const auto& reference = plain_parameters[item.key()];
      EXPECT_LT(relative_difference(item.value().grad(), reference.grad()), 1e-4) << to_string(loss) << " " << item.key();
      EXPECT_LT(relative_difference(item.value(), reference), 1e-4) << to_string(loss) << " SGD " << item.key();
    }

    step(fast_adam, *make_optimizer(fast_adam, kLr));
    step(plain_adam, *make_optimizer(plain_adam, kLr));
    const auto plain_adam_parameters = plain_adam->named_parameters();
    for (const auto& item : fast_adam->named_parameters()) {
      const std::string label = to_string(loss) + " Adam " + item.key();
      const auto& reference = plain_adam_parameters[item.key()];
      const auto fast_update = (item.value() - start[item.key()]) / kLr;
      const auto plain_update = (reference - start[item.key()]) / kLr;
      EXPECT_LE(fast_update.abs().max().item<double>(), 1.0 + 1e-3) << label;
      EXPECT_LE(plain_update.abs().max().item<double>(), 1.0 + 1e-3) << label;
      const auto gradient = reference.grad().abs();
      const auto clear = gradient >= 1e-3 * gradient.max();
      ASSERT_GT(clear.sum().item<std::int64_t>(), 0) << label;
      EXPECT_LT((fast_update - plain_update).abs().masked_select(clear).max().item<double>(), 1e-2) << label;
    }
  }
}

}  // namespace
}  // namespace vae_cnn
