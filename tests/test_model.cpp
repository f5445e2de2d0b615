// The model of docs/DESIGN.md exactly: parameter counts per layer, shapes, summary totals, tensor names.
#include "vae_cnn/model/conv_vae.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

#include "test_support.hpp"
#include "vae_cnn/model/summary.hpp"

namespace vae_cnn {
namespace {

TEST(ConvVae, HasTheSeedsParameterCountPerLayer) {
  torch::manual_seed(0);
  ConvVae model;
  EXPECT_EQ(count_parameters(*model), 134165);
  EXPECT_EQ(count_parameters(*model->encoder), 69076);
  EXPECT_EQ(count_parameters(*model->decoder), 65089);
  EXPECT_EQ(count_parameters(*model->encoder->conv1), 320);
  EXPECT_EQ(count_parameters(*model->encoder->conv2), 18496);
  EXPECT_EQ(count_parameters(*model->encoder->fc), 50192);
  EXPECT_EQ(count_parameters(*model->encoder->z_mean), 34);
  EXPECT_EQ(count_parameters(*model->encoder->z_log_var), 34);
  EXPECT_EQ(count_parameters(*model->decoder->fc), 9408);
  EXPECT_EQ(count_parameters(*model->decoder->deconv1), 36928);
  EXPECT_EQ(count_parameters(*model->decoder->deconv2), 18464);
  EXPECT_EQ(count_parameters(*model->decoder->deconv3), 289);
}

// glorot_uniform: U(-b, b) with b = sqrt(6 / (fan_in + fan_out)), fans being channels times kernel
// area (Keras' for Dense, Conv2D and Conv2DTranspose); biases zero.
TEST(ConvVae, StartsAsKerasStartsTheSeedsModel) {
  torch::manual_seed(3);
  ConvVae model;
  const std::map<std::string, double> fans{
      {"encoder.conv1.weight", (1 + 32) * 9},      {"encoder.conv2.weight", (32 + 64) * 9},
      {"encoder.fc.weight", 3136 + 16},            {"encoder.z_mean.weight", 16 + 2},
      {"encoder.z_log_var.weight", 16 + 2},        {"decoder.fc.weight", 2 + 3136},
      {"decoder.deconv1.weight", (64 + 64) * 9},   {"decoder.deconv2.weight", (64 + 32) * 9},
      {"decoder.deconv3.weight", (32 + 1) * 9}};
  for (const auto& item : model->named_parameters()) {
    const auto& values = item.value();
    if (item.key().find(".bias") != std::string::npos) {
      EXPECT_EQ(values.abs().max().item<double>(), 0.0) << item.key();
      continue;
    }
    ASSERT_EQ(fans.count(item.key()), 1u) << item.key();
    const double bound = std::sqrt(6.0 / fans.at(item.key()));
    EXPECT_LE(values.abs().max().item<double>(), bound) << item.key();
    // A uniform over [-b, b] has standard deviation b / sqrt(3); 18 draws (z_mean) are few.
    const double tolerance = values.numel() >= 1000 ? 0.05 : 0.45;
    EXPECT_NEAR(values.std().item<double>(), bound / std::sqrt(3.0), tolerance * bound / std::sqrt(3.0)) << item.key();
  }
  // PyTorch's defaults on request: uniform biases, not Keras' zeros.
  ConvVae torch_default(ConvVaeOptions().init(InitKind::kTorch));
  EXPECT_GT(torch_default->encoder->conv1->bias.abs().max().item<double>(), 0.0);
  EXPECT_EQ(parse_init_kind("torch"), InitKind::kTorch);
  EXPECT_EQ(to_string(InitKind::kKeras), "keras");
  testing::expect_throw_with<std::invalid_argument>([] { parse_init_kind("he"); }, {"'he'", "keras or torch"});
}

TEST(ConvVae, LatentSizeChangesOnlyTheLatentLayers) {
  ConvVae model(ConvVaeOptions().latent_dim(8));
  EXPECT_EQ(count_parameters(*model), 134165 + 2 * 6 * 16 + 2 * 6 + 6 * 3136);
}

TEST(ConvVae, ForwardGivesTheTableShapes) {
  torch::manual_seed(0);
  ConvVae model;
  const auto x = torch::rand({3, 1, 28, 28});
  const VaeOutput out = model->forward(x);
  EXPECT_EQ(out.reconstruction.sizes(), (std::vector<std::int64_t>{3, 1, 28, 28}));
  EXPECT_EQ(out.logits.sizes(), (std::vector<std::int64_t>{3, 1, 28, 28}));
  EXPECT_EQ(out.z_mean.sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(out.z_log_var.sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_EQ(out.z.sizes(), (std::vector<std::int64_t>{3, 2}));
  EXPECT_GE(out.reconstruction.min().item<float>(), 0.0f);
  EXPECT_LE(out.reconstruction.max().item<float>(), 1.0f);

  const ModelTraces traces = trace_model(model);
  auto output_of = [](const Trace& trace, const std::string& name) {
    for (const auto& layer : trace) {
      if (layer.name == name) return layer.output;
    }
    return std::vector<std::int64_t>{};
  };
  EXPECT_EQ(output_of(traces.encoder, "conv1"), (std::vector<std::int64_t>{32, 14, 14}));
  EXPECT_EQ(output_of(traces.encoder, "conv2"), (std::vector<std::int64_t>{64, 7, 7}));
  EXPECT_EQ(output_of(traces.encoder, "fc"), (std::vector<std::int64_t>{16}));
  EXPECT_EQ(output_of(traces.decoder, "reshape"), (std::vector<std::int64_t>{64, 7, 7}));
  EXPECT_EQ(output_of(traces.decoder, "deconv1"), (std::vector<std::int64_t>{64, 14, 14}));
  EXPECT_EQ(output_of(traces.decoder, "deconv2"), (std::vector<std::int64_t>{32, 28, 28}));
  EXPECT_EQ(output_of(traces.decoder, "deconv3"), (std::vector<std::int64_t>{1, 28, 28}));
}

// Data-parallel ranks each take rows of one ε drawn for the whole batch: that ε must be the one a
// plain forward pass of the whole batch draws, and rows of it must give those rows' outputs.
TEST(ConvVae, RowsOfTheBatchsEpsilonGiveThoseRowsOfThePlainForwardPass) {
  torch::manual_seed(0);
  ConvVae model(ConvVaeOptions().latent_dim(3));
  model->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::rand({20, 1, 28, 28});
  torch::manual_seed(7);
  const VaeOutput plain = model->forward(x);
  torch::manual_seed(7);
  const auto epsilon = torch::randn({20, 3});
  const VaeOutput tail = model->forward_with_epsilon(x.slice(0, 12, 20), epsilon.slice(0, 12, 20));
  EXPECT_TRUE(torch::allclose(tail.z, plain.z.slice(0, 12, 20), 1e-6, 1e-6));
  EXPECT_TRUE(torch::allclose(tail.reconstruction, plain.reconstruction.slice(0, 12, 20), 1e-5, 1e-6));
  // And a different ε gives a different z: the test above is not comparing constants.
  EXPECT_FALSE(torch::allclose(model->forward_with_epsilon(x, epsilon + 1).z, plain.z));
}

TEST(ConvVae, DecodeGivesImagesInUnitRange) {
  ConvVae model;
  const auto images = model->decode(torch::randn({5, 2}) * 4);
  EXPECT_EQ(images.sizes(), (std::vector<std::int64_t>{5, 1, 28, 28}));
  EXPECT_GE(images.min().item<float>(), 0.0f);
  EXPECT_LE(images.max().item<float>(), 1.0f);
}

// Every layer above the model reads the image shape from it: the seed's 1×28×28 by default, the
// shape decode gives and encode takes.
TEST(ConvVae, SaysItsImageShapeAndRefusesOneItsLayersCannotTake) {
  ConvVae model;
  const ImageShape shape = model->image_shape();
  EXPECT_EQ(shape.sizes(), (std::vector<std::int64_t>{1, 28, 28}));
  EXPECT_EQ(shape.numel(), 784);
  EXPECT_EQ(to_string(shape), "[1, 28, 28]");
  torch::NoGradGuard no_grad;
  EXPECT_EQ(model->decode(torch::zeros({4, 2})).sizes(), shape.batch(4));
  EXPECT_EQ(model->forward(torch::zeros(shape.batch(3))).reconstruction.sizes(), shape.batch(3));
  for (const ImageShape other : {ImageShape{2, 28, 28}, ImageShape{4, 32, 32}, ImageShape{0, 28, 28}}) {
    testing::expect_throw_with<std::invalid_argument>([&] { ConvVae refused(ConvVaeOptions().image_shape(other)); },
                                                      {to_string(other), "channels, expected 1 (grey) or 3 (RGB)"});
  }
  for (const ImageShape other : {ImageShape{1, 30, 28}, ImageShape{3, 32, 2}, ImageShape{1, 0, 28},
                                 ImageShape{1, 260, 260}, ImageShape{3, -4, 32}}) {
    testing::expect_throw_with<std::invalid_argument>([&] { ConvVae refused(ConvVaeOptions().image_shape(other)); },
                                                      {to_string(other), "is not a multiple of 4 from 4 to 256"});
  }
}

// The seed's recipe for any C×H×W: the layers are sized from the shape, the decoder draws it back,
// and the fast CPU kernels (single-channel paths only at C = 1) agree with LibTorch's layers.
TEST(ConvVae, BuildsTheSeedsRecipeForColourAndOtherSizes) {
  for (const ImageShape shape : {ImageShape{3, 32, 32}, ImageShape{1, 16, 24}, ImageShape{3, 8, 4}}) {
    torch::manual_seed(3);
    ConvVae fast(ConvVaeOptions().image_shape(shape));
    torch::manual_seed(3);
    ConvVae plain(ConvVaeOptions().image_shape(shape).fast_cpu_kernels(false));
    EXPECT_EQ(fast->image_shape(), shape);
    EXPECT_EQ(fast->encoder->conv1->weight.size(1), shape.channels);
    EXPECT_EQ(fast->decoder->deconv3->weight.size(1), shape.channels);
    EXPECT_EQ(fast->encoder->fc->weight.size(1), 64 * (shape.height / 4) * (shape.width / 4));
    const auto x = torch::rand(shape.batch(5));
    const auto epsilon = torch::randn({5, 2});
    const VaeOutput out = fast->forward_with_epsilon(x, epsilon);
    const VaeOutput reference = plain->forward_with_epsilon(x, epsilon);
    EXPECT_EQ(out.reconstruction.sizes(), shape.batch(5));
    EXPECT_TRUE(torch::allclose(out.logits, reference.logits, 1e-4, 1e-4)) << to_string(shape);
    (out.logits.sum() + out.z_mean.sum()).backward();
    (reference.logits.sum() + reference.z_mean.sum()).backward();
    EXPECT_TRUE(torch::allclose(fast->encoder->conv1->weight.grad(), plain->encoder->conv1->weight.grad(), 1e-3, 1e-3));
    EXPECT_TRUE(torch::allclose(fast->decoder->deconv3->weight.grad(), plain->decoder->deconv3->weight.grad(), 1e-3,
                                1e-3));
  }
  // 3×32×32: 896 + 18,496 + 65,552 + 34 + 34 (encoder) + 12,288 + 36,928 + 18,464 + 867 (decoder).
  EXPECT_EQ(count_parameters(*ConvVae(ConvVaeOptions().image_shape({3, 32, 32}))), 153559);
  EXPECT_EQ(count_parameters(*ConvVae()), 134165);
}

TEST(ConvVae, TensorNamesFollowThePyTorchModule) {
  ConvVae model;
  std::vector<std::string> names;
  for (const auto& item : model->named_parameters()) names.push_back(item.key());
  const std::vector<std::string> expected{
      "encoder.conv1.weight", "encoder.conv1.bias", "encoder.conv2.weight", "encoder.conv2.bias",
      "encoder.fc.weight", "encoder.fc.bias", "encoder.z_mean.weight", "encoder.z_mean.bias",
      "encoder.z_log_var.weight", "encoder.z_log_var.bias", "decoder.fc.weight", "decoder.fc.bias",
      "decoder.deconv1.weight", "decoder.deconv1.bias", "decoder.deconv2.weight", "decoder.deconv2.bias",
      "decoder.deconv3.weight", "decoder.deconv3.bias"};
  EXPECT_EQ(names, expected);
}

TEST(ModelSummary, TablesCarryTheTotals) {
  ConvVae model;
  const std::string text = model_summary(model);
  EXPECT_NE(text.find("Model: \"encoder\""), std::string::npos);
  EXPECT_NE(text.find("Model: \"decoder\""), std::string::npos);
  EXPECT_NE(text.find("Model: \"vae\""), std::string::npos);
  EXPECT_NE(text.find("Total params: 69,076"), std::string::npos);
  EXPECT_NE(text.find("Total params: 65,089"), std::string::npos);
  EXPECT_NE(text.find("Total params: 134,165"), std::string::npos);
  EXPECT_NE(text.find("conv2 (Conv2d 3x3 s2 + ReLU)"), std::string::npos);
  EXPECT_NE(text.find("(None, 64, 7, 7)"), std::string::npos);
  EXPECT_NE(text.find("18,496"), std::string::npos);
}

TEST(ModelSummary, FollowsTheImageShape) {
  ConvVae model(ConvVaeOptions().image_shape({3, 32, 32}));
  const std::string text = model_summary(model);
  EXPECT_NE(text.find("(None, 3, 32, 32)"), std::string::npos) << text;
  EXPECT_NE(text.find("(None, 64, 8, 8)"), std::string::npos) << text;
  EXPECT_NE(text.find("Total params: 153,559"), std::string::npos) << text;
  // The decoder draws the shape back.
  const auto decoder = text.find("Model: \"decoder\"");
  ASSERT_NE(decoder, std::string::npos);
  EXPECT_NE(text.find("(None, 3, 32, 32)", text.find("deconv3", decoder)), std::string::npos) << text;
}

}  // namespace
}  // namespace vae_cnn
