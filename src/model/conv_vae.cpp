// The layer table of docs/DESIGN.md ("The model"). Keras' "same" padding at stride 2 is padding 1
// here (and output padding 1 for the transposed convolutions): it gives the table's 14x14, 7x7,
// 14x14, 28x28. Other image shapes follow the seed's recipe, which sizes the layers from the input
// (`shape = K.int_shape(x)`): sides halved twice, C channels in and out.
#include "vae_cnn/model/conv_vae.hpp"

#include <stdexcept>

namespace vae_cnn {
namespace {

namespace nn = torch::nn;

// ε ~ N(0, I) with `like`'s dtype and device: from `noise` (a CPU generator, passed as a handle on
// the caller's state) when given, else from the device's default generator.
torch::Tensor draw_epsilon(at::IntArrayRef shape, c10::optional<at::Generator> noise, const torch::Tensor& like) {
  return noise ? standard_normal_like(shape, *noise, like) : torch::randn(shape, like.options());
}

constexpr std::int64_t kHidden = 16;
constexpr std::int64_t kFeatureChannels = 64;
constexpr std::int64_t kSideDivisor = 4;  // two stride-2 convolutions

// The flattened features between the convolutions and Dense(16): 64×7×7 = 3136 for 1×28×28.
std::int64_t feature_count(const ImageShape& shape) {
  return kFeatureChannels * (shape.height / kSideDivisor) * (shape.width / kSideDivisor);
}

// The shape checked before any layer is sized from it: a shape the check refuses never allocates.
const ConvVaeOptions& checked(const ConvVaeOptions& options) {
  check_latent_dim(options.latent_dim());
  check_image_shape(options.image_shape());
  return options;
}

nn::Conv2dOptions conv3x3(std::int64_t in, std::int64_t out) {
  return nn::Conv2dOptions(in, out, 3).stride(2).padding(1);
}

// Keras' "same" padding for a 3x3 transposed convolution: padding 1, and at stride 2 an output
// padding of 1, so that each layer doubles the side exactly.
nn::ConvTranspose2dOptions deconv3x3(std::int64_t in, std::int64_t out, std::int64_t stride) {
  return nn::ConvTranspose2dOptions(in, out, 3).stride(stride).padding(1).output_padding(stride - 1);
}

KernelChoice kernel_choice(bool fast_cpu_kernels) {
  return fast_cpu_kernels ? KernelChoice::kFastCpu : KernelChoice::kLibTorch;
}

// Records one layer when a trace is wanted; a plain forward pass pays nothing for it.
void record(Trace* trace, const std::string& name, const std::string& kind, const torch::Tensor& input,
            const torch::Tensor& output, const nn::Module* layer) {
  if (trace == nullptr) return;
  trace->push_back({name, kind, shape_without_batch(input), shape_without_batch(output),
                    layer ? count_parameters(*layer) : 0});
}

}  // namespace

EncoderImpl::EncoderImpl(const ConvVaeOptions& options)
    : conv1(register_module("conv1", nn::Conv2d(conv3x3(checked(options).image_shape().channels, 32)))),
      conv2(register_module("conv2", nn::Conv2d(conv3x3(32, kFeatureChannels)))),
      fc(register_module("fc", nn::Linear(feature_count(options.image_shape()), kHidden))),
      z_mean(register_module("z_mean", nn::Linear(kHidden, options.latent_dim()))),
      z_log_var(register_module("z_log_var", nn::Linear(kHidden, options.latent_dim()))),
      kernels_(kernel_choice(options.fast_cpu_kernels())) {}

torch::Tensor EncoderImpl::features(const torch::Tensor& x, Trace* trace) {
  record(trace, "encoder_input", "Input", x, x, nullptr);
  auto h1 = conv2d(*conv1, x, Activation::kRelu, kernels_);  // [N,32,14,14] for [N,1,28,28]
  record(trace, "conv1", "Conv2d 3x3 s2 + ReLU", x, h1, conv1.get());
  auto h2 = conv2d(*conv2, h1, Activation::kRelu, kernels_);  // [N,64,7,7]
  record(trace, "conv2", "Conv2d 3x3 s2 + ReLU", h1, h2, conv2.get());
  auto flat = h2.flatten(1);  // [N,3136] for [N,1,28,28]
  record(trace, "flatten", "Flatten", h2, flat, nullptr);
  return flat;
}

torch::Tensor EncoderImpl::hidden(const torch::Tensor& x, Trace* trace) {
  const auto flat = features(x, trace);
  auto units = torch::relu(fc->forward(flat));  // [N,16]
  record(trace, "fc", "Linear + ReLU", flat, units, fc.get());
  return units;
}

std::pair<torch::Tensor, torch::Tensor> EncoderImpl::forward(const torch::Tensor& x, Trace* trace) {
  const auto units = hidden(x, trace);
  auto mean = z_mean->forward(units);
  record(trace, "z_mean", "Linear", units, mean, z_mean.get());
  auto log_var = z_log_var->forward(units);
  record(trace, "z_log_var", "Linear", units, log_var, z_log_var.get());
  return {mean, log_var};
}

DecoderImpl::DecoderImpl(const ConvVaeOptions& options)
    : fc(register_module("fc", nn::Linear(checked(options).latent_dim(), feature_count(options.image_shape())))),
      deconv1(register_module("deconv1", nn::ConvTranspose2d(deconv3x3(kFeatureChannels, 64, 2)))),
      deconv2(register_module("deconv2", nn::ConvTranspose2d(deconv3x3(64, 32, 2)))),
      deconv3(register_module("deconv3", nn::ConvTranspose2d(deconv3x3(32, options.image_shape().channels, 1)))),
      kernels_(kernel_choice(options.fast_cpu_kernels())),
      feature_height_(options.image_shape().height / kSideDivisor),
      feature_width_(options.image_shape().width / kSideDivisor) {}

torch::Tensor DecoderImpl::forward(const torch::Tensor& z, Trace* trace) {
  record(trace, "z_sampling", "Input", z, z, nullptr);
  auto hidden = torch::relu(fc->forward(z));  // [N,3136] for 1×28×28
  record(trace, "fc", "Linear + ReLU", z, hidden, fc.get());
  auto features = kernel_layout(hidden.view({-1, kFeatureChannels, feature_height_, feature_width_}), kernels_);
  record(trace, "reshape", "Reshape", hidden, features, nullptr);
  auto h1 = conv_transpose2d(*deconv1, features, Activation::kRelu, kernels_);  // [N,64,14,14]
  record(trace, "deconv1", "ConvTranspose2d 3x3 s2 + ReLU", features, h1, deconv1.get());
  auto h2 = conv_transpose2d(*deconv2, h1, Activation::kRelu, kernels_);  // [N,32,28,28]
  record(trace, "deconv2", "ConvTranspose2d 3x3 s2 + ReLU", h1, h2, deconv2.get());
  auto logits = conv_transpose2d(*deconv3, h2, Activation::kNone, kernels_);  // [N,1,28,28]
  record(trace, "deconv3", "ConvTranspose2d 3x3 s1 + sigmoid", h2, logits, deconv3.get());
  return logits;
}

void check_latent_dim(std::int64_t latent_dim) {
  if (latent_dim < 1 || latent_dim > kMaxLatentDim) {
    throw std::invalid_argument("latent size " + std::to_string(latent_dim) + " is outside 1.." +
                                std::to_string(kMaxLatentDim));
  }
}

void check_image_shape(const ImageShape& shape) {
  if (shape.channels != 1 && shape.channels != 3) {
    throw std::invalid_argument("image shape " + to_string(shape) + ": " + std::to_string(shape.channels) +
                                " channels, expected 1 (grey) or 3 (RGB)");
  }
  for (const auto& [side, name] : {std::pair{shape.height, "height"}, std::pair{shape.width, "width"}}) {
    if (side < kSideDivisor || side > kMaxImageSide || side % kSideDivisor != 0) {
      throw std::invalid_argument("image shape " + to_string(shape) + ": " + name + " " + std::to_string(side) +
                                  " is not a multiple of 4 from 4 to " + std::to_string(kMaxImageSide) +
                                  " (two stride-2 convolutions halve it twice)");
    }
  }
}

std::string to_string(InitKind kind) { return kind == InitKind::kTorch ? "torch" : "keras"; }

InitKind parse_init_kind(const std::string& text) {
  if (text == "keras") return InitKind::kKeras;
  if (text == "torch") return InitKind::kTorch;
  throw std::invalid_argument("unknown initialisation '" + text + "', expected keras or torch");
}

ConvVaeImpl::ConvVaeImpl(const ConvVaeOptions& options)
    : encoder(register_module("encoder", Encoder(options))),
      decoder(register_module("decoder", Decoder(options))),
      options_(options) {
  if (options.init() == InitKind::kKeras) {
    // Keras' glorot_uniform bound is sqrt(6 / (fan_in + fan_out)) with fans of kernel size times
    // channels, for Dense, Conv2D and Conv2DTranspose alike; xavier_uniform_ computes the same sum
    // from LibTorch's weight layouts. In parameter order, as scripts/vae_cnn_model.py does it, so a
    // seed gives the same weights in both.
    torch::NoGradGuard no_grad;
    for (auto& parameter : named_parameters()) {
      const std::string& name = parameter.key();
      if (name.size() >= 5 && name.compare(name.size() - 5, 5, ".bias") == 0) {
        torch::nn::init::zeros_(parameter.value());
      } else {
        torch::nn::init::xavier_uniform_(parameter.value());
      }
    }
  }
}

VaeOutput ConvVaeImpl::forward(const torch::Tensor& x, c10::optional<at::Generator> noise) {
  // The shape, dtype and device of z_mean, so the same numbers randn_like(z_mean) would draw.
  return forward_with_epsilon(x, draw_epsilon({x.size(0), options_.latent_dim()}, noise, x));
}

VaeOutput ConvVaeImpl::forward_with_epsilon(const torch::Tensor& x, const torch::Tensor& epsilon) {
  auto [z_mean, z_log_var] = encoder->forward(x);
  auto z = reparameterize(z_mean, z_log_var, epsilon);
  auto logits = decoder->forward(z);
  return {logits, torch::sigmoid(logits), z_mean, z_log_var, z};
}

torch::Tensor ConvVaeImpl::decode(const torch::Tensor& z) { return torch::sigmoid(decoder->forward(z)); }

torch::Tensor sample_latent(const torch::Tensor& z_mean, const torch::Tensor& z_log_var,
                            c10::optional<at::Generator> noise) {
  return reparameterize(z_mean, z_log_var, draw_epsilon(z_mean.sizes(), noise, z_mean));
}

torch::Tensor reparameterize(const torch::Tensor& z_mean, const torch::Tensor& z_log_var, const torch::Tensor& epsilon) {
  return z_mean + torch::exp(0.5 * z_log_var) * epsilon;
}

torch::Tensor standard_normal_like(at::IntArrayRef shape, at::Generator& noise, const torch::Tensor& like) {
  return torch::randn(shape, noise, torch::TensorOptions(torch::kFloat)).to(like.device(), like.scalar_type());
}

std::vector<std::int64_t> shape_without_batch(const torch::Tensor& t) {
  return std::vector<std::int64_t>(t.sizes().begin() + 1, t.sizes().end());
}

std::int64_t count_parameters(const torch::nn::Module& module) {
  std::int64_t total = 0;
  for (const auto& parameter : module.parameters()) total += parameter.numel();
  return total;
}

}  // namespace vae_cnn
