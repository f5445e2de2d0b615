// One reader for weights and checkpoints: every failure of the unpickler, and every field that is
// absent or of the wrong type, becomes a DataError naming the file.
#include "vae_cnn/train/pickled_dict.hpp"

#include <fstream>
#include <iterator>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"

namespace vae_cnn {
namespace {

std::vector<char> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot open (no such file or no permission)");
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

GenericDict new_tagged_dict(const std::string& format, std::int64_t version) {
  GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  dict.insert(std::string("format"), format);
  dict.insert(std::string("format_version"), version);
  return dict;
}

void write_dict_file(const std::string& path, const GenericDict& dict) {
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  write_file_atomically(path, std::string(bytes.begin(), bytes.end()));
}

GenericDict read_tagged_dict(const std::string& path, const std::string& format, const std::string& what,
                             std::int64_t max_version) {
  const std::vector<char> bytes = read_all(path);
  if (bytes.empty()) throw DataError(path, "empty file, expected " + what);
  c10::IValue root;
  try {
    root = torch::pickle_load(bytes);
  } catch (const std::exception&) {
    throw DataError(path, "not " + what + ", or truncated (cannot be unpickled)");
  }
  if (!root.isGenericDict()) throw DataError(path, "not " + what + " (no dict at the top)");
  GenericDict dict = root.toGenericDict();
  const auto tag = dict.find(std::string("format"));
  if (tag == dict.end() || !tag->value().isString() || tag->value().toStringRef() != format) {
    throw DataError(path, "not " + what + " (format is not '" + format + "')");
  }
  const std::int64_t version = require_int(path, dict, "format_version");
  if (version > max_version) {
    throw DataError(path, "format version " + std::to_string(version) + " is newer than this vae_cnn reads (" +
                              std::to_string(max_version) + "); upgrade vae_cnn");
  }
  return dict;
}

c10::IValue require_field(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto found = dict.find(key);
  if (found == dict.end()) throw DataError(path, "field '" + key + "' is missing");
  return found->value();
}

std::int64_t require_int(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  if (!value.isInt()) throw DataError(path, "field '" + key + "' is not an integer");
  return value.toInt();
}

double require_double(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  if (!value.isDouble()) throw DataError(path, "field '" + key + "' is not a number");
  return value.toDouble();
}

std::string require_string(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  if (!value.isString()) throw DataError(path, "field '" + key + "' is not a string");
  return value.toStringRef();
}

at::Tensor require_tensor(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  if (!value.isTensor()) throw DataError(path, "field '" + key + "' is not a tensor");
  return value.toTensor();
}

GenericDict require_dict(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  if (!value.isGenericDict()) throw DataError(path, "field '" + key + "' is not a dict");
  return value.toGenericDict();
}

}  // namespace vae_cnn
