// One reader for weights and checkpoints: every failure of the unpickler, and every field that is
// absent or of the wrong type, becomes a DataError naming the file.
#include "vae_cnn/serialize/pickled_dict.hpp"

#include <filesystem>

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/import_read.h>

#include <fstream>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/serialize/pickle_framing.hpp"

namespace vae_cnn {
namespace {

// torch::pickle_load(bytes) does what this does, except that its in-memory reader copies whatever
// range the zip reader asks for: a file whose zip directory points past its end made it read out of
// bounds (found by fuzz/weights_loader_fuzz.cpp, kept in fuzz/regressions/). LibTorch's istream
// reader checks every read, so a damaged file ends in an exception instead.
// The pickle's framing is checked first (pickle_framing.hpp): LibTorch's unpickler would allocate
// whatever length a damaged string opcode announces.
c10::IValue unpickle_archive(std::istream& in, const std::string& path, const std::string& what) {
  caffe2::serialize::PyTorchStreamReader reader(&in);
  const auto [pickle, pickle_size] = reader.getRecord("data.pkl");
  if (const auto fault = pickle_framing_fault(static_cast<const char*>(pickle.get()), pickle_size)) {
    throw DataError(path, "not " + what + ", or damaged: its pickle (data.pkl) " + *fault);
  }
  return torch::jit::readArchiveAndTensors("data", "", "", c10::nullopt, c10::nullopt, c10::nullopt, reader);
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
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) throw DataError(path, "is a folder, expected " + what);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot open (no such file or no permission)");
  if (in.peek() == std::ifstream::traits_type::eof()) throw DataError(path, "empty file, expected " + what);
  c10::IValue root;
  try {
    root = unpickle_archive(in, path, what);
  } catch (const DataError&) {
    throw;
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
