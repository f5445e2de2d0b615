// torch::jit::readArchiveAndTensors, with the records it hands the unpickler remembered by address,
// so that each tensor's storage can be traced back to its record afterwards.
#include "vae_cnn/serialize/tensor_archive.hpp"

#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <map>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/pickle_framing.hpp"

namespace vae_cnn {
namespace {

struct Record {
  // Read through the map's iterator in check_tensor, which cppcheck does not follow.
  // cppcheck-suppress unusedStructMember
  std::string name;
  std::size_t bytes = 0;
};
using RecordsByAddress = std::map<const void*, Record>;

// The highest element a view reaches, in elements from the storage's start; nothing when a figure
// is negative or the arithmetic overflows.
std::optional<std::int64_t> last_element_reached(const at::Tensor& tensor) {
  std::int64_t last = tensor.storage_offset();
  if (last < 0) return std::nullopt;
  for (std::int64_t dim = 0; dim < tensor.dim(); ++dim) {
    const std::int64_t size = tensor.size(dim);
    const std::int64_t stride = tensor.stride(dim);
    if (size < 0 || stride < 0) return std::nullopt;
    std::int64_t reach = 0;
    if (size > 0 && (__builtin_mul_overflow(size - 1, stride, &reach) || __builtin_add_overflow(last, reach, &last))) {
      return std::nullopt;
    }
  }
  return last;
}

void check_tensor(const at::Tensor& tensor, const std::string& where, const RecordsByAddress& records,
                  const std::string& path) {
  const auto fault = [&](const std::string& text) { return DataError(path, "tensor '" + where + "' " + text); };
  if (!tensor.has_storage()) throw fault("has no storage");
  const c10::Storage& storage = tensor.storage();
  const std::size_t declared = storage.nbytes();
  if (declared > 0) {
    const auto record = records.find(storage.data());
    if (storage.data() == nullptr || record == records.end()) {
      throw fault("declares " + std::to_string(declared) + " bytes of data but its record is empty or missing");
    }
    if (record->second.bytes != declared) {
      throw fault("declares " + std::to_string(declared) + " bytes of data but its record '" + record->second.name +
                  "' holds " + std::to_string(record->second.bytes) + " (truncated or damaged)");
    }
  }
  const auto last = last_element_reached(tensor);
  if (!last) throw fault("has a negative or overflowing offset, size or stride");
  const auto element = static_cast<std::int64_t>(tensor.element_size());
  std::int64_t needed = 0;
  if (tensor.numel() > 0 && (__builtin_mul_overflow(*last + 1, element, &needed) ||
                             static_cast<std::uint64_t>(needed) > declared)) {
    throw fault("reaches past the end of its " + std::to_string(declared) + "-byte storage (offset " +
                std::to_string(tensor.storage_offset()) + ", shape " + c10::str(tensor.sizes()) + ", strides " +
                c10::str(tensor.strides()) + ")");
  }
}

void check_tensors_in(const c10::IValue& value, const std::string& where, const RecordsByAddress& records,
                      const std::string& path) {
  if (value.isTensor()) {
    check_tensor(value.toTensor(), where, records, path);
  } else if (value.isGenericDict()) {
    for (const auto& item : value.toGenericDict()) {
      const std::string key = item.key().isString() ? item.key().toStringRef() : "?";
      check_tensors_in(item.value(), where.empty() ? key : where + "." + key, records, path);
    }
  } else if (value.isList()) {
    const auto list = value.toList();
    for (std::size_t i = 0; i < list.size(); ++i) check_tensors_in(list.get(i), where + "[" + std::to_string(i) + "]", records, path);
  } else if (value.isTuple()) {
    const auto& elements = value.toTupleRef().elements();
    for (std::size_t i = 0; i < elements.size(); ++i) check_tensors_in(elements[i], where + "[" + std::to_string(i) + "]", records, path);
  }
}

}  // namespace

c10::IValue read_checked_archive(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path,
                                 const std::string& what) {
  // Not a structured binding: C++17 lambdas cannot capture one.
  const auto pickle_record = reader.getRecord("data.pkl");
  const std::size_t pickle_size = std::get<1>(pickle_record);
  const auto* pickle_bytes = static_cast<const char*>(std::get<0>(pickle_record).get());
  if (const auto fault = pickle_framing_fault(pickle_bytes, pickle_size)) {
    throw DataError(path, "not " + what + ", or damaged: its pickle (data.pkl) " + *fault);
  }
  std::size_t pickle_read = 0;
  const auto read_pickle = [&](char* buffer, std::size_t length) -> std::size_t {
    length = std::min(length, pickle_size - pickle_read);
    std::memcpy(buffer, pickle_bytes + pickle_read, length);
    pickle_read += length;
    return length;
  };
  RecordsByAddress records;
  const auto read_record = [&](const std::string& key) {
    auto [data, bytes] = reader.getRecord("data/" + key);
    records[data.get()] = Record{"data/" + key, bytes};
    return std::move(data);
  };
  torch::jit::Unpickler unpickler(read_pickle, nullptr, nullptr, read_record, {});
  unpickler.set_version(reader.version());
  c10::IValue root = unpickler.parse_ivalue();
  check_tensors_in(root, "", records, path);
  return root;
}

}  // namespace vae_cnn
