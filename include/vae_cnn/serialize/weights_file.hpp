// Self-describing weights: the state_dict plus what is needed to rebuild the model, in the pickle
// format of torch.save, so Python's torch.load reads it as a dict.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>
#include <vector>

#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/model/loss.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"

namespace vae_cnn {

constexpr std::int64_t kWeightsFormatVersion = 1;
/// The most epochs a run may ask for, and so the most a weights file can record.
constexpr std::int64_t kMaxEpochs = 1000000;

/// "0".."9": MNIST's classes.
std::vector<std::string> digit_class_names();

/// The most classes a weights file may name.
constexpr std::size_t kMaxClasses = 100000;

/// What travels with the tensors, besides the image shape: the model's own (ConvVae::image_shape).
struct WeightsMetadata {
  std::int64_t latent_dim = 2;
  LossKind loss = LossKind::kMse;
  double beta = 1.0;
  std::string dataset = "mnist";
  std::int64_t epochs = 0;  ///< epochs trained
  /// The classes' names by label: the data's class folders, "0".."9" for MNIST (and for files from
  /// before they were recorded); empty when the data set has no labels.
  std::vector<std::string> class_names = digit_class_names();
  /// The share of the images held out for testing where the data set has no test split of its own
  /// (class folders alone): commands reading the weights take the same images as training did.
  double test_fraction = 1.0 / 6;
};


/// A model rebuilt from a weights file.
struct LoadedWeights {
  ConvVae model{nullptr};
  WeightsMetadata metadata;
};

/// Adds the model's tensors and metadata to a weights or checkpoint dict.
void add_model_fields(GenericDict& dict, ConvVae& model, const WeightsMetadata& metadata);

/// Rebuilds the model from those fields; DataError names the file and the mismatch.
LoadedWeights read_model_fields(const std::string& path, const GenericDict& dict, torch::Device device);

/// The bytes of a weights file for `model`.
std::vector<char> encode_weights(ConvVae& model, const WeightsMetadata& metadata);

/// Writes the weights atomically; throws WriteError.
void save_weights(const std::string& path, ConvVae& model, const WeightsMetadata& metadata);

/// Reads and checks a weights file, rebuilding the model on `device`; throws DataError naming the
/// file and the fault (missing, truncated, not ours, newer format, wrong architecture).
LoadedWeights load_weights(const std::string& path, torch::Device device = torch::kCPU);


}  // namespace vae_cnn
