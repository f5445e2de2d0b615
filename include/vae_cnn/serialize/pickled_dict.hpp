// Files that are one pickled dict (torch::pickle_save, the format of Python's torch.save) tagged
// with a format name and version: the container of weights and checkpoints.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>
#include <vector>

namespace vae_cnn {

using GenericDict = c10::impl::GenericDict;

/// An empty dict with string keys, tagged {format, format_version}.
GenericDict new_tagged_dict(const std::string& format, std::int64_t version);

/// Writes the dict atomically; throws WriteError.
void write_dict_file(const std::string& path, const GenericDict& dict);

/// Reads a tagged dict; throws DataError naming the file when it is missing, truncated, not a
/// dict, of another format (`what` says what was expected, e.g. "vae_cnn weights") or newer than
/// `max_version`.
GenericDict read_tagged_dict(const std::string& path, const std::string& format, const std::string& what,
                             std::int64_t max_version);

/// A TorchScript module archive held in `bytes` (a field of the file `path`), read as data with
/// every check a file of ours gets (zip records, pickle, tensors; tensor_archive.hpp): each object
/// becomes the dict of its attributes. DataError names `path` and `what` the archive is.
c10::IValue read_module_archive_bytes(const std::string& bytes, const std::string& path, const std::string& what);

/// Typed fields; a missing field or one of another type is a DataError naming file and field.
c10::IValue require_field(const std::string& path, const GenericDict& dict, const std::string& key);
std::int64_t require_int(const std::string& path, const GenericDict& dict, const std::string& key);
double require_double(const std::string& path, const GenericDict& dict, const std::string& key);
std::string require_string(const std::string& path, const GenericDict& dict, const std::string& key);
/// A list of integers, as LibTorch writes it (an int list) or as Python's torch.save does (a list
/// whose elements are all ints).
std::vector<std::int64_t> require_int_list(const std::string& path, const GenericDict& dict, const std::string& key);
std::vector<std::string> require_string_list(const std::string& path, const GenericDict& dict, const std::string& key);
at::Tensor require_tensor(const std::string& path, const GenericDict& dict, const std::string& key);
GenericDict require_dict(const std::string& path, const GenericDict& dict, const std::string& key);

}  // namespace vae_cnn
