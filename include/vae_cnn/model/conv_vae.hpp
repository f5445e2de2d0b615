// The CNN-VAE of the Keras vae_cnn example: encoder, sampler and decoder as LibTorch modules.
// Parameter names follow the equivalent PyTorch module (scripts/vae_cnn_model.py), so a state_dict
// moves between the two unchanged.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>
#include <vector>

#include "vae_cnn/kernels/layer_kernels.hpp"
#include "vae_cnn/model/image_shape.hpp"

namespace vae_cnn {

/// How the weights start: as the seed's Keras model starts them (glorot_uniform kernels, zero
/// biases), or as PyTorch's layers do (Kaiming-uniform with a = √5, uniform biases).
enum class InitKind { kKeras, kTorch };

std::string to_string(InitKind kind);
/// "keras" or "torch"; throws std::invalid_argument otherwise.
InitKind parse_init_kind(const std::string& text);

/// The largest latent size any command accepts: far beyond what a 16-unit hidden layer can feed,
/// small enough that a file claiming more is refused before anything is allocated.
constexpr std::int64_t kMaxLatentDim = 4096;

/// Throws std::invalid_argument "latent size N is outside 1..4096" unless 1 <= latent_dim <= kMaxLatentDim.
void check_latent_dim(std::int64_t latent_dim);

/// The largest image side the model takes: at 256×256 Dense(16) already reads 262,144 features
/// (4.2 M weights, 31 times the seed's whole model); larger images are resized (--image-size).
constexpr std::int64_t kMaxImageSide = 256;

/// Throws std::invalid_argument naming the shape and the rule unless it has 1 or 3 channels and
/// sides that are multiples of 4 from 4 to kMaxImageSide: the two stride-2 convolutions halve each
/// side twice and the transposed ones double it back exactly.
void check_image_shape(const ImageShape& shape);

struct ConvVaeOptions {
  /// Size of the latent space (the seed uses 2, so it can be drawn).
  TORCH_ARG(std::int64_t, latent_dim) = 2;
  /// On the CPU: activations in channels-last layout (oneDNN's own, so no reorder per call) and
  /// the decoder's transposed convolutions through oneDNN convolution kernels (transposed_conv.hpp).
  /// false keeps LibTorch's plain NCHW ConvTranspose2d path: the reference in tests.
  TORCH_ARG(bool, fast_cpu_kernels) = true;
  /// Initial weights; kTorch draws nothing beyond what LibTorch's layers draw when built.
  TORCH_ARG(InitKind, init) = InitKind::kKeras;
  /// The images the encoder reads and the decoder draws (check_image_shape says which it takes);
  /// the layers are sized from it, the seed's 134,165 parameters at 1×28×28.
  TORCH_ARG(ImageShape, image_shape) = ImageShape{};
};

/// What one forward pass of the VAE gives.
struct VaeOutput {
  torch::Tensor logits;          ///< [N,C,H,W] decoder output before the sigmoid
  torch::Tensor reconstruction;  ///< [N,C,H,W] sigmoid(logits), in [0,1]
  torch::Tensor z_mean;          ///< [N,latent]
  torch::Tensor z_log_var;       ///< [N,latent]
  torch::Tensor z;               ///< [N,latent] sampled with the reparameterisation trick
};

/// One layer as a forward pass met it: for summaries and model diagrams.
struct LayerTrace {
  std::string name;                   ///< e.g. "conv1"
  std::string kind;                   ///< e.g. "Conv2d 3x3 s2 + ReLU"
  std::vector<std::int64_t> input;    ///< input shape without the batch dimension
  std::vector<std::int64_t> output;   ///< output shape without the batch dimension
  std::int64_t parameters = 0;
};
using Trace = std::vector<LayerTrace>;

class EncoderImpl : public torch::nn::Module {
 public:
  explicit EncoderImpl(const ConvVaeOptions& options);
  /// x: [N,C,H,W] -> {z_mean [N,latent], z_log_var [N,latent]}; appends each layer to `trace` if given.
  std::pair<torch::Tensor, torch::Tensor> forward(const torch::Tensor& x, Trace* trace = nullptr);
  /// x: [N,C,H,W] -> the ReLU outputs of the Dense(16) layer that both heads read, [N,16]. When
  /// every one of them is zero for every image, z_mean no longer depends on the input.
  torch::Tensor hidden(const torch::Tensor& x, Trace* trace = nullptr);
  /// x: [N,C,H,W] -> the flattened convolution features the Dense(16) layer reads, [N,64·H/4·W/4]
  /// (3136 for 28×28).
  torch::Tensor features(const torch::Tensor& x, Trace* trace = nullptr);

  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::Linear fc{nullptr}, z_mean{nullptr}, z_log_var{nullptr};

 private:
  KernelChoice kernels_;
};
TORCH_MODULE(Encoder);

class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const ConvVaeOptions& options);
  /// z: [N,latent] -> logits [N,C,H,W] (apply a sigmoid for pixel values).
  torch::Tensor forward(const torch::Tensor& z, Trace* trace = nullptr);

  torch::nn::Linear fc{nullptr};
  torch::nn::ConvTranspose2d deconv1{nullptr}, deconv2{nullptr}, deconv3{nullptr};

 private:
  KernelChoice kernels_;
  std::int64_t feature_height_, feature_width_;  ///< the side of the 64 feature maps fc's output is seen as
};
TORCH_MODULE(Decoder);

class ConvVaeImpl : public torch::nn::Module {
 public:
  explicit ConvVaeImpl(const ConvVaeOptions& options = {});
  /// x: [N,C,H,W] in [0,1] -> reconstruction, z_mean, z_log_var, z. ε comes from `noise` when
  /// given (drawn on the CPU, so a seed gives the same ε on every device), else from the device's
  /// default generator.
  VaeOutput forward(const torch::Tensor& x, c10::optional<at::Generator> noise = c10::nullopt);
  /// The same with ε [N,latent] given: data-parallel ranks each take their rows of one ε drawn for
  /// the whole batch, so together they sample exactly what one process would.
  VaeOutput forward_with_epsilon(const torch::Tensor& x, const torch::Tensor& epsilon);
  /// Decodes latent points to images in [0,1]: z [N,latent] -> [N,C,H,W].
  torch::Tensor decode(const torch::Tensor& z);
  const ConvVaeOptions& options() const { return options_; }
  /// The shape of one image in and out: what pictures, weights files and the server build on.
  const ImageShape& image_shape() const { return options_.image_shape(); }

  Encoder encoder{nullptr};
  Decoder decoder{nullptr};

 private:
  ConvVaeOptions options_;
};
TORCH_MODULE(ConvVae);

/// z = z_mean + exp(0.5·z_log_var)·ε with ε ~ N(0, I) from `noise` (a CPU generator) when given,
/// else from the device's default generator.
torch::Tensor sample_latent(const torch::Tensor& z_mean, const torch::Tensor& z_log_var,
                            c10::optional<at::Generator> noise = c10::nullopt);

/// z = z_mean + exp(0.5·z_log_var)·ε for a given ε.
torch::Tensor reparameterize(const torch::Tensor& z_mean, const torch::Tensor& z_log_var, const torch::Tensor& epsilon);

/// ε ~ N(0, I) of `shape` from a CPU generator, moved to `like`'s device and dtype.
torch::Tensor standard_normal_like(at::IntArrayRef shape, at::Generator& noise, const torch::Tensor& like);

/// A tensor's shape without its leading batch dimension.
std::vector<std::int64_t> shape_without_batch(const torch::Tensor& t);

/// Number of trainable scalars in a module.
std::int64_t count_parameters(const torch::nn::Module& module);

}  // namespace vae_cnn
