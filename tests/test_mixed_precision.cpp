// `train --precision bf16`: autocast on and off, and a bf16 run against an fp32 one on real digits.
#include "vae_cnn/kernels/autocast_scope.hpp"

#include "test_support.hpp"
#include "vae_cnn/kernels/layer_kernels.hpp"
#include "vae_cnn/kernels/precision_advice.hpp"
#include "vae_cnn/train/trainer.hpp"

namespace vae_cnn {
namespace {

Dataset real_digits(Split split, std::int64_t count) {
  const Dataset all = load_split(testing::mnist_sample_dir(), split);
  return all.head(count);
}

TEST(MixedPrecision, TheScopeTurnsAutocastOnForItsLifeOnly) {
  torch::manual_seed(41);
  torch::nn::Linear linear(8, 4);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 4, 3).stride(2).padding(1));
  const auto x = torch::rand({2, 8});
  const auto image = torch::rand({2, 1, 28, 28});
  EXPECT_FALSE(autocast_enabled_on(torch::kCPU));
  {
    const AutocastScope fp32(Precision::kFp32, torch::kCPU);
    EXPECT_FALSE(autocast_enabled_on(torch::kCPU));
    EXPECT_EQ(linear->forward(x).scalar_type(), torch::kFloat);
  }
  {
    const AutocastScope bf16(Precision::kBf16, torch::kCPU);
    EXPECT_TRUE(autocast_enabled_on(torch::kCPU));
    EXPECT_EQ(linear->forward(x).scalar_type(), torch::kBFloat16);
    // The fast CPU kernels cannot be autocast, so they step aside for LibTorch's layer.
    EXPECT_EQ(conv2d(*conv, image, Activation::kRelu, KernelChoice::kFastCpu).scalar_type(), torch::kBFloat16);
    EXPECT_EQ(linear->weight.scalar_type(), torch::kFloat) << "the master weights stay fp32";
  }
  EXPECT_FALSE(autocast_enabled_on(torch::kCPU));
  EXPECT_EQ(linear->forward(x).scalar_type(), torch::kFloat);
  EXPECT_EQ(conv2d(*conv, image, Activation::kRelu, KernelChoice::kFastCpu).scalar_type(), torch::kFloat);
}

TEST(MixedPrecision, NamesAreParsedAndOthersRefused) {
  EXPECT_EQ(parse_precision("fp32"), Precision::kFp32);
  EXPECT_EQ(parse_precision("bf16"), Precision::kBf16);
  EXPECT_EQ(to_string(Precision::kBf16), "bf16");
  EXPECT_THROW(parse_precision("fp16"), std::invalid_argument);
}

// Two epochs of the same seed in fp32 and in bf16: the weights stay fp32, and the losses agree to
// what bfloat16's 8-bit mantissa (a relative rounding of 2^-9 per operation) allows over a few steps.
TEST(MixedPrecision, ABf16RunTracksTheFp32Run) {
  const Dataset train = real_digits(Split::kTrain, 256);
  const Dataset test = real_digits(Split::kTest, 128);
  auto run = [&](Precision precision) {
    torch::manual_seed(42);
    ConvVae model;
    auto optimizer = make_optimizer(model, 1e-3);
    FitOptions options = testing::plain_fit_options();
    options.epochs = 2;
    options.batch_size = 64;
    options.loss = LossKind::kBce;
    options.precision = precision;
    auto history = fit(model, *optimizer, train, test, options, {});
    for (const auto& parameter : model->parameters()) EXPECT_EQ(parameter.scalar_type(), torch::kFloat);
    return history;
  };
  const auto fp32 = run(Precision::kFp32);
  const auto bf16 = run(Precision::kBf16);
  ASSERT_EQ(bf16.size(), 2u);
  for (std::size_t epoch = 0; epoch < 2; ++epoch) {
    EXPECT_TRUE(std::isfinite(bf16[epoch].loss));
    EXPECT_NEAR(bf16[epoch].loss, fp32[epoch].loss, 0.02 * fp32[epoch].loss) << "epoch " << epoch + 1;
    EXPECT_NEAR(bf16[epoch].val_loss, fp32[epoch].val_loss, 0.02 * fp32[epoch].val_loss) << "epoch " << epoch + 1;
  }
  EXPECT_NE(bf16[1].loss, fp32[1].loss) << "bf16 must change the arithmetic, or autocast never ran";
}

TEST(MixedPrecision, CpuFeaturesAreReadFromTheFirstProcessorsFlags) {
  const std::string cpuinfo =
      "processor\t: 0\nmodel name\t: Some Xeon @ 2.80GHz\nflags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile\n\n"
      "processor\t: 1\nmodel name\t: Other\nflags\t\t: fpu amx_bf16\n";
  const CpuFeatures features = parse_cpu_features(cpuinfo);
  EXPECT_EQ(features.model, "Some Xeon @ 2.80GHz");
  EXPECT_TRUE(features.avx512);
  EXPECT_TRUE(features.avx512_bf16);
  EXPECT_FALSE(features.amx_bf16) << "amx_tile is not amx_bf16, and processor 1's flags are not read";
  EXPECT_TRUE(features.has_bf16_instructions());
  const CpuFeatures none = parse_cpu_features("flags\t: fpu avx512fx avx512_bf16x\n");
  EXPECT_FALSE(none.avx512 || none.has_bf16_instructions()) << "flags are whole words";
  EXPECT_TRUE(none.model.empty());
}

TEST(MixedPrecision, Bf16OnTheCpuCarriesANoteThatSaysWhy) {
  CpuFeatures plain;
  plain.model = "Plain CPU";
  const std::string note = slower_precision_note(Precision::kBf16, torch::Device(torch::kCPU), plain);
  EXPECT_EQ(note.rfind("note: --precision bf16 trains slower than fp32 on the CPU", 0), 0u) << note;
  EXPECT_NE(note.find("this CPU (Plain CPU) has no bf16 instructions"), std::string::npos) << note;
  CpuFeatures amx = plain;
  amx.amx_bf16 = true;
  const std::string with_amx = slower_precision_note(Precision::kBf16, torch::Device(torch::kCPU), amx);
  EXPECT_NE(with_amx.find("fast CPU kernels are fp32"), std::string::npos) << with_amx;
  EXPECT_EQ(with_amx.find("no bf16 instructions"), std::string::npos) << with_amx;
  EXPECT_EQ(slower_precision_note(Precision::kFp32, torch::Device(torch::kCPU), plain), "");
  EXPECT_EQ(slower_precision_note(Precision::kBf16, torch::Device(torch::kCUDA, 0), plain), "");
}

}  // namespace
}  // namespace vae_cnn
