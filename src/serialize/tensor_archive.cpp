// torch::jit::readArchiveAndTensors, with the records it hands the unpickler remembered by address,
// so that each tensor's storage can be traced back to its record afterwards.
#include "vae_cnn/serialize/tensor_archive.hpp"

#include <torch/csrc/jit/api/compilation_unit.h>
#include <torch/csrc/jit/serialization/storage_context.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_set>
#include <utility>

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

// Each container once: through the memo a pickle can hand one container to many others, and 100
// levels each holding the one below twice would be walked 2^100 times.
void check_tensors_in(const c10::IValue& value, const std::string& where, const RecordsByAddress& records,
                      const std::string& path, std::unordered_set<const void*>& visited) {
  if (value.isPtrType() && !value.isTensor() && !visited.insert(value.internalToPointer()).second) return;
  if (value.isTensor()) {
    check_tensor(value.toTensor(), where, records, path);
  } else if (value.isGenericDict()) {
    for (const auto& item : value.toGenericDict()) {
      const std::string key = item.key().isString() ? item.key().toStringRef() : "?";
      check_tensors_in(item.value(), where.empty() ? key : where + "." + key, records, path, visited);
    }
  } else if (value.isList()) {
    const auto list = value.toList();
    for (std::size_t i = 0; i < list.size(); ++i) check_tensors_in(list.get(i), where + "[" + std::to_string(i) + "]", records, path, visited);
  } else if (value.isTuple()) {
    const auto& elements = value.toTupleRef().elements();
    for (std::size_t i = 0; i < elements.size(); ++i) check_tensors_in(elements[i], where + "[" + std::to_string(i) + "]", records, path, visited);
  }
}

const char* const kStateSlot = "__state__";

struct TypeNestedTooDeep : std::exception {};

// LibTorch parses the type a container is tagged with ("Dict[str, List[int]]") recursively, one
// call per bracket; our files' types nest 2 deep. The pickle check bounds the containers, this the
// brackets of their names.
c10::TypePtr bounded_type_parser(const std::string& text) {
  constexpr int kMaxBrackets = 100;
  int open = 0;
  for (const char c : text) {
    open += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (open > kMaxBrackets) throw TypeNestedTooDeep();
  }
  return torch::jit::Unpickler::defaultTypeParser(text);
}

// `value` with every object in it (and in the dicts and lists under it) replaced by its state, each
// container once. The pickle check bounds how deep this recurses.
c10::IValue objects_unwrapped(const c10::IValue& value, std::unordered_set<const void*>& visited) {
  if (value.isObject()) return objects_unwrapped(value.toObjectRef().getSlot(0), visited);
  if (!value.isPtrType() || !visited.insert(value.internalToPointer()).second) return value;
  if (value.isGenericDict()) {
    for (const auto& item : value.toGenericDict()) item.setValue(objects_unwrapped(item.value(), visited));
  } else if (value.isList()) {
    auto list = value.toList();
    for (std::size_t i = 0; i < list.size(); ++i) list.set(i, objects_unwrapped(list.get(i), visited));
  }
  return value;
}

c10::IValue objects_unwrapped(const c10::IValue& value) {
  std::unordered_set<const void*> visited;
  return objects_unwrapped(value, visited);
}

// What LibTorch's unpickler cannot read, said as such rather than as damage.
void refuse_what_libtorch_cannot_unpickle(std::string_view pickle, const std::string& path, const std::string& what) {
  if (pickle.substr(0, 1) != "\x80" || (pickle.size() >= 2 && pickle[1] != 2)) {
    const std::string protocol = pickle.substr(0, 1) == "\x80" ? std::to_string(static_cast<unsigned char>(pickle[1])) : "0 or 1";
    throw DataError(path, "its pickle is of protocol " + protocol + ", which LibTorch does not read: save it with " +
                              "torch.save's default protocol (2), without pickle_protocol");
  }
  if (pickle.substr(2, 25) == "ccollections\nOrderedDict\n") {
    throw DataError(path, "holds an OrderedDict, as Python's torch.save(model.state_dict()) writes, which LibTorch does "
                          "not read; expected " + what + " (a dict with the tensors and the model's metadata)");
  }
}

// Every class is one of its name with one attribute, the object's state, kept as a new dict (not
// the state itself, which the pickle could still reach through its memo).
std::pair<torch::jit::TypeResolver, torch::jit::ObjLoader> objects_as_dict_hooks(const std::string& path,
                                                                                 const std::string& what) {
  const auto classes = std::make_shared<torch::jit::CompilationUnit>();
  torch::jit::TypeResolver resolve_class = [classes](const c10::QualifiedName& name) {
    // The unpickler asks here for the types containers are tagged with too ("List[int]").
    if (name.qualifiedName().find('[') != std::string::npos) {
      return c10::StrongTypePtr(classes, bounded_type_parser(name.qualifiedName()));
    }
    auto type = c10::ClassType::create(name, classes);
    type->addAttribute(kStateSlot, c10::AnyType::get());
    return c10::StrongTypePtr(classes, type);
  };
  torch::jit::ObjLoader load_object = [path, what](const c10::StrongTypePtr& type, const c10::IValue& state) {
    if (!state.isGenericDict()) {
      throw DataError(path, "not " + what + ": an object of class " + type.type_->str() + " whose state is not a dict");
    }
    auto object = c10::ivalue::Object::create(type, 1);
    object->setSlot(0, state.toGenericDict().copy());
    return object;
  };
  return {std::move(resolve_class), std::move(load_object)};
}

}  // namespace

c10::IValue read_checked_archive(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path,
                                 const std::string& what, bool objects_as_dicts) {
  // Not a structured binding: C++17 lambdas cannot capture one.
  const auto pickle_record = reader.getRecord("data.pkl");
  const std::size_t pickle_size = std::get<1>(pickle_record);
  const auto* pickle_bytes = static_cast<const char*>(std::get<0>(pickle_record).get());
  if (const auto fault = pickle_framing_fault(pickle_bytes, pickle_size)) {
    throw DataError(path, "not " + what + ", or damaged: its pickle (data.pkl) " + *fault);
  }
  refuse_what_libtorch_cannot_unpickle(std::string_view(pickle_bytes, pickle_size), path, what);
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
  torch::jit::TypeResolver resolve_class = nullptr;
  torch::jit::ObjLoader load_object = nullptr;
  if (objects_as_dicts) std::tie(resolve_class, load_object) = objects_as_dict_hooks(path, what);
  // A record is read once, however many tensors name it: copied per tensor, one 1 MB record named by
  // 6,000 tensors of a 1.3 MB file would ask for 6 GB. The tensors share its storage, as in Python.
  const auto storages = std::make_shared<torch::jit::DeserializationStorageContext>();
  torch::jit::Unpickler unpickler(read_pickle, std::move(resolve_class), std::move(load_object), read_record,
                                  c10::nullopt, /*use_storage_device=*/false, bounded_type_parser, storages);
  unpickler.set_version(reader.version());
  c10::IValue root;
  try {
    root = unpickler.parse_ivalue();
  } catch (const TypeNestedTooDeep&) {
    throw DataError(path, "not " + what + ", or damaged: its pickle (data.pkl) tags a container with a type nested "
                                          "more than 100 deep");
  }
  if (objects_as_dicts) root = objects_unwrapped(root);
  std::unordered_set<const void*> visited;
  check_tensors_in(root, "", records, path, visited);
  return root;
}

}  // namespace vae_cnn
