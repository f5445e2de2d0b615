// Weights as a pickled dict {format, format_version, metadata..., state_dict}: torch::pickle_save
// writes the archive Python's torch.load reads, so no converter is needed on either side.
#include "vae_cnn/train/weights_file.hpp"

#include <fstream>
#include <iterator>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"

namespace vae_cnn {
namespace {

const char* const kFormatName = "vae_cnn.weights";

using GenericDict = c10::Dict<c10::IValue, c10::IValue>;

c10::IValue require(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto found = dict.find(key);
  if (found == dict.end()) throw DataError(path, "field '" + key + "' is missing");
  return found->value();
}

std::int64_t require_int(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require(path, dict, key);
  if (!value.isInt()) throw DataError(path, "field '" + key + "' is not an integer");
  return value.toInt();
}

std::string require_string(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require(path, dict, key);
  if (!value.isString()) throw DataError(path, "field '" + key + "' is not a string");
  return value.toStringRef();
}

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot open (no such file or no permission)");
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

std::vector<char> encode_weights(ConvVae& model, const WeightsMetadata& metadata) {
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& item : model->named_parameters()) state.insert(item.key(), item.value().detach().to(torch::kCPU).clone());
  c10::impl::GenericDict file(c10::StringType::get(), c10::AnyType::get());
  file.insert("format", std::string(kFormatName));
  file.insert("format_version", kWeightsFormatVersion);
  file.insert("latent_dim", metadata.latent_dim);
  file.insert("loss", to_string(metadata.loss));
  file.insert("beta", metadata.beta);
  file.insert("image_shape", c10::List<std::int64_t>(metadata.image_shape));
  file.insert("dataset", metadata.dataset);
  file.insert("epochs", metadata.epochs);
  file.insert("state_dict", state);
  return torch::pickle_save(c10::IValue(file));
}

void save_weights(const std::string& path, ConvVae& model, const WeightsMetadata& metadata) {
  const auto bytes = encode_weights(model, metadata);
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

LoadedWeights load_weights(const std::string& path, torch::Device device) {
  const std::vector<char> bytes = read_all(path);
  if (bytes.empty()) throw DataError(path, "empty file, expected vae_cnn weights");
  c10::IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const std::exception&) {
    throw DataError(path, "not a vae_cnn weights file, or truncated (cannot be unpickled)");
  }
  if (!root.isGenericDict()) throw DataError(path, "not a vae_cnn weights file (no dict at the top)");
  const GenericDict dict = root.toGenericDict();
  if (dict.find(std::string("format")) == dict.end() || !require(path, dict, "format").isString() ||
      require_string(path, dict, "format") != kFormatName) {
    throw DataError(path, "not a vae_cnn weights file (format is not '" + std::string(kFormatName) + "')");
  }
  const std::int64_t version = require_int(path, dict, "format_version");
  if (version > kWeightsFormatVersion) {
    throw DataError(path, "format version " + std::to_string(version) + " is newer than this vae_cnn reads (" +
                              std::to_string(kWeightsFormatVersion) + "); upgrade vae_cnn");
  }

  LoadedWeights loaded;
  WeightsMetadata& meta = loaded.metadata;
  meta.latent_dim = require_int(path, dict, "latent_dim");
  if (meta.latent_dim < 1 || meta.latent_dim > 4096) {
    throw DataError(path, "latent_dim " + std::to_string(meta.latent_dim) + " is outside 1..4096");
  }
  try {
    meta.loss = parse_loss_kind(require_string(path, dict, "loss"));
  } catch (const std::invalid_argument& error) {
    throw DataError(path, std::string("field 'loss': ") + error.what());
  }
  const auto beta = require(path, dict, "beta");
  if (!beta.isDouble()) throw DataError(path, "field 'beta' is not a number");
  meta.beta = beta.toDouble();
  const auto shape = require(path, dict, "image_shape");
  if (!shape.isIntList() || shape.toIntVector() != std::vector<std::int64_t>{1, 28, 28}) {
    throw DataError(path, "image_shape is not [1, 28, 28]");
  }
  meta.dataset = require_string(path, dict, "dataset");
  meta.epochs = require_int(path, dict, "epochs");

  const auto state_value = require(path, dict, "state_dict");
  if (!state_value.isGenericDict()) throw DataError(path, "field 'state_dict' is not a dict");
  const GenericDict state = state_value.toGenericDict();

  loaded.model = ConvVae(ConvVaeOptions().latent_dim(meta.latent_dim));
  torch::NoGradGuard no_grad;
  std::size_t matched = 0;
  for (auto& item : loaded.model->named_parameters()) {
    const auto found = state.find(item.key());
    if (found == state.end()) throw DataError(path, "tensor '" + item.key() + "' is missing: a different architecture");
    if (!found->value().isTensor()) throw DataError(path, "'" + item.key() + "' is not a tensor");
    const at::Tensor tensor = found->value().toTensor();
    if (tensor.sizes() != item.value().sizes()) {
      throw DataError(path, "tensor '" + item.key() + "' has shape " + c10::str(tensor.sizes()) + ", expected " +
                                c10::str(item.value().sizes()) + ": a different architecture");
    }
    item.value().copy_(tensor);
    ++matched;
  }
  if (matched != state.size()) {
    throw DataError(path, "holds " + std::to_string(state.size()) + " tensors, expected " + std::to_string(matched) +
                              ": a different architecture");
  }
  loaded.model->to(device);
  loaded.model->eval();
  return loaded;
}

}  // namespace vae_cnn
