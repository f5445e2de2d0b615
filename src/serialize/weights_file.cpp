// Weights as a tagged pickled dict {format, format_version, metadata..., state_dict}:
// torch::pickle_save writes the archive Python's torch.load reads, so neither side needs a converter.
#include "vae_cnn/serialize/weights_file.hpp"

#include <algorithm>
#include <cmath>

#include "vae_cnn/data/class_names.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"

namespace vae_cnn {
namespace {

const char* const kWeightsFormat = "vae_cnn.weights";
const char* const kWeightsWhat = "a vae_cnn weights file";

// The data set's name is one folder name: commands read data/<name> and write vae_cnn.<name>.pt.
bool is_folder_name(const std::string& name) {
  if (name.empty() || name.size() > 255 || name == "." || name == "..") return false;
  return std::none_of(name.begin(), name.end(), [](char c) { return c == '/' || static_cast<unsigned char>(c) < 0x20; });
}

// The recorded [channels, height, width], which must be a shape the model can be built for.
ImageShape read_image_shape(const std::string& path, const GenericDict& dict) {
  const std::vector<std::int64_t> sizes = require_int_list(path, dict, "image_shape");
  if (sizes.size() != 3) {
    throw DataError(path, "field 'image_shape' holds " + std::to_string(sizes.size()) +
                              " numbers, expected 3 (channels, height, width)");
  }
  const ImageShape shape{sizes[0], sizes[1], sizes[2]};
  try {
    check_image_shape(shape);
  } catch (const std::invalid_argument& error) {
    throw DataError(path, std::string("field 'image_shape': ") + error.what());
  }
  return shape;
}

// Names that pictures, CSV files and the explorer print: each one line of printable text.
std::vector<std::string> read_class_names(const std::string& path, const GenericDict& dict) {
  std::vector<std::string> names = require_string_list(path, dict, "class_names");
  if (names.size() > kMaxClasses) {
    throw DataError(path, "field 'class_names' holds " + std::to_string(names.size()) + " names, expected at most " +
                              std::to_string(kMaxClasses));
  }
  for (const std::string& name : names) {
    const bool printable = std::none_of(name.begin(), name.end(), [](char c) {
      return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
    if (name.empty() || name.size() > 255 || !printable) {
      throw DataError(path, "field 'class_names' holds a name that is empty, longer than 255 bytes or not printable");
    }
  }
  return names;
}

}  // namespace

std::vector<std::string> digit_class_names() { return numbered_class_names(10); }

void add_model_fields(GenericDict& dict, ConvVae& model, const WeightsMetadata& metadata) {
  c10::Dict<std::string, at::Tensor> state;
  for (const auto& item : model->named_parameters()) state.insert(item.key(), item.value().detach().to(torch::kCPU).clone());
  dict.insert(std::string("latent_dim"), metadata.latent_dim);
  dict.insert(std::string("loss"), to_string(metadata.loss));
  dict.insert(std::string("beta"), metadata.beta);
  dict.insert(std::string("image_shape"), c10::List<std::int64_t>(model->image_shape().sizes()));
  dict.insert(std::string("dataset"), metadata.dataset);
  dict.insert(std::string("epochs"), metadata.epochs);
  dict.insert(std::string("class_names"), c10::List<std::string>(metadata.class_names));
  dict.insert(std::string("test_fraction"), metadata.test_fraction);
  dict.insert(std::string("state_dict"), state);
}

namespace {

WeightsMetadata read_metadata(const std::string& path, const GenericDict& dict) {
  WeightsMetadata meta;
  meta.latent_dim = require_int(path, dict, "latent_dim");
  try {
    check_latent_dim(meta.latent_dim);
  } catch (const std::invalid_argument& error) {
    throw DataError(path, std::string("latent_dim: ") + error.what());
  }
  try {
    meta.loss = parse_loss_kind(require_string(path, dict, "loss"));
  } catch (const std::invalid_argument& error) {
    throw DataError(path, std::string("field 'loss': ") + error.what());
  }
  meta.beta = require_double(path, dict, "beta");
  if (!(std::isfinite(meta.beta) && meta.beta >= 0 && meta.beta <= kMaxBeta)) {
    throw DataError(path, "field 'beta' is " + std::to_string(meta.beta) + ", expected a number from 0 to 1000000");
  }
  meta.dataset = require_string(path, dict, "dataset");
  if (!is_folder_name(meta.dataset)) throw DataError(path, "field 'dataset' is not a folder name");
  meta.epochs = require_int(path, dict, "epochs");
  if (meta.epochs < 0 || meta.epochs > kMaxEpochs) {
    throw DataError(path, "field 'epochs' is " + std::to_string(meta.epochs) + ", expected 0 to " + std::to_string(kMaxEpochs));
  }
  if (dict.contains("class_names")) meta.class_names = read_class_names(path, dict);
  if (dict.contains("test_fraction")) {
    meta.test_fraction = require_double(path, dict, "test_fraction");
    if (!(meta.test_fraction > 0 && meta.test_fraction < 1)) {
      throw DataError(path, "field 'test_fraction' is " + std::to_string(meta.test_fraction) +
                                ", expected a number between 0 and 1");
    }
  }
  return meta;
}

}  // namespace

LoadedWeights read_model_fields(const std::string& path, const GenericDict& dict, torch::Device device) {
  LoadedWeights loaded;
  loaded.metadata = read_metadata(path, dict);
  const WeightsMetadata& meta = loaded.metadata;
  const ImageShape image_shape = read_image_shape(path, dict);
  const GenericDict state = require_dict(path, dict, "state_dict");

  // The file's weights replace the initial ones: draw no more than LibTorch's layers do.
  loaded.model = ConvVae(ConvVaeOptions().latent_dim(meta.latent_dim).image_shape(image_shape).init(InitKind::kTorch));
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
    if (!tensor.is_floating_point()) throw DataError(path, "tensor '" + item.key() + "' is not floating point");
    if (!torch::isfinite(tensor).all().item<bool>()) {
      throw DataError(path, "tensor '" + item.key() + "' holds NaN or infinite values");
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

namespace {

GenericDict weights_dict(ConvVae& model, const WeightsMetadata& metadata) {
  GenericDict dict = new_tagged_dict(kWeightsFormat, kWeightsFormatVersion);
  add_model_fields(dict, model, metadata);
  return dict;
}

}  // namespace

std::vector<char> encode_weights(ConvVae& model, const WeightsMetadata& metadata) {
  return torch::pickle_save(c10::IValue(weights_dict(model, metadata)));
}

void save_weights(const std::string& path, ConvVae& model, const WeightsMetadata& metadata) {
  write_dict_file(path, weights_dict(model, metadata));
}

LoadedWeights load_weights(const std::string& path, torch::Device device) {
  return read_model_fields(path, read_tagged_dict(path, kWeightsFormat, kWeightsWhat, kWeightsFormatVersion), device);
}

}  // namespace vae_cnn
