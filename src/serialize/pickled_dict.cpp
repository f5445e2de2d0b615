// One reader for weights and checkpoints: every failure of the unpickler, and every field that is
// absent or of the wrong type, becomes a DataError naming the file.
#include "vae_cnn/serialize/pickled_dict.hpp"

#include <filesystem>

#include <fstream>
#include <new>
#include <sstream>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/serialize/tensor_archive.hpp"
#include "vae_cnn/serialize/zip_records.hpp"

namespace vae_cnn {
namespace {

// torch::pickle_load(bytes) does what this does, except that its in-memory reader copies whatever
// range the zip reader asks for: a file whose zip directory points past its end made it read out of
// bounds (found by fuzz/weights_loader_fuzz.cpp, kept in fuzz/regressions/). LibTorch's istream
// reader checks every read, so a damaged file ends in an exception instead. Before it sees the
// file, every record is checked against the zip's CRC-32 (zip_records.hpp); while it reads, every
// tensor against its record (tensor_archive.hpp).
c10::IValue unpickle_archive(const std::string& bytes, const std::string& path, const std::string& what,
                             bool objects_as_dicts = false) {
  if (const auto fault = zip_records_fault(bytes.data(), bytes.size())) {
    throw DataError(path, "not " + what + ", or truncated or damaged: " + *fault);
  }
  std::istringstream in(bytes);
  caffe2::serialize::PyTorchStreamReader reader(&in);
  return read_checked_archive(reader, path, what, objects_as_dicts);
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
  // Read whole into memory, so a FIFO or /dev/zero would never end; no file of ours nears the cap.
  constexpr std::uintmax_t kLargestFile = std::uintmax_t{1} << 30;
  if (std::filesystem::exists(path, ignored)) {
    if (!std::filesystem::is_regular_file(path, ignored)) throw DataError(path, "is not a regular file, expected " + what);
    if (std::filesystem::file_size(path, ignored) > kLargestFile) {
      throw DataError(path, "is larger than 1 GiB, far more than " + what + " holds");
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(path, "cannot open (no such file or no permission)");
  c10::IValue root;
  try {
    std::ostringstream contents;
    contents << in.rdbuf();
    if (!in) throw DataError(path, "cannot read");
    const std::string bytes = std::move(contents).str();
    if (bytes.empty()) throw DataError(path, "empty file, expected " + what);
    root = unpickle_archive(bytes, path, what);
  } catch (const DataError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw DataError(path, "memory ran out while reading it (" + std::to_string(std::filesystem::file_size(path, ignored)) +
                              " bytes on disk)");
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

c10::IValue read_module_archive_bytes(const std::string& bytes, const std::string& path, const std::string& what) {
  try {
    return unpickle_archive(bytes, path, what, /*objects_as_dicts=*/true);
  } catch (const DataError&) {
    throw;
  } catch (const std::exception&) {
    throw DataError(path, "not " + what + ", or truncated (cannot be unpickled)");
  }
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

std::vector<std::int64_t> require_int_list(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  if (value.isIntList()) return value.toIntVector();
  const auto fault = [&] { return DataError(path, "field '" + key + "' is not a list of integers"); };
  if (!value.isList()) throw fault();
  std::vector<std::int64_t> numbers;
  for (const c10::IValue& element : value.toListRef()) {
    if (!element.isInt()) throw fault();
    numbers.push_back(element.toInt());
  }
  return numbers;
}

std::vector<std::string> require_string_list(const std::string& path, const GenericDict& dict, const std::string& key) {
  const auto value = require_field(path, dict, key);
  const auto fault = [&] { return DataError(path, "field '" + key + "' is not a list of strings"); };
  if (!value.isList()) throw fault();
  std::vector<std::string> texts;
  for (const c10::IValue& element : value.toListRef()) {
    if (!element.isString()) throw fault();
    texts.push_back(element.toStringRef());
  }
  return texts;
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
