// Adam's and RMSprop's per-parameter state to and from named tensors. The one place that reaches
// into LibTorch's optimizer state map, whose key changed between versions (see state_key).
#include "vae_cnn/train/optimizer_state.hpp"

#include <torch/optim/rmsprop.h>

#include <sstream>
#include <type_traits>
#include <vector>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;

// LibTorch 1.13 keys an optimizer's state by its parameter's TensorImpl address as text, 2.x by the
// address itself.
// (A template, so that only the branch of the version at hand is compiled.)
template <class Map = StateMap>
typename Map::key_type state_key(const at::Tensor& parameter) {
  using Key = typename Map::key_type;
  void* const address = parameter.unsafeGetTensorImpl();
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;
    text << address;
    return text.str();
  } else {
    return static_cast<Key>(address);
  }
}

std::string shape_text(at::IntArrayRef sizes) {
  std::ostringstream text;
  text << sizes;
  return text.str();
}

// One buffer of a parameter's state: a reference into the state, so that reading a dict can fill
// it in place. Optional buffers exist only with options we do not set (momentum, centered).
struct Buffer {
  const char* name;
  at::Tensor* tensor;
  bool required;
};

std::vector<Buffer> buffers_of(torch::optim::OptimizerParamState& state) {
  if (auto* adam = dynamic_cast<torch::optim::AdamParamState*>(&state)) {
    return {{"exp_avg", &adam->exp_avg(), true}, {"exp_avg_sq", &adam->exp_avg_sq(), true}};
  }
  if (auto* rmsprop = dynamic_cast<torch::optim::RMSpropParamState*>(&state)) {
    return {{"square_avg", &rmsprop->square_avg(), true},
            {"momentum_buffer", &rmsprop->momentum_buffer(), false},
            {"grad_avg", &rmsprop->grad_avg(), false}};
  }
  return {};
}

// A fresh, empty state of the kind `optimizer` keeps.
std::unique_ptr<torch::optim::OptimizerParamState> new_state_for(torch::optim::Optimizer& optimizer) {
  if (dynamic_cast<torch::optim::RMSprop*>(&optimizer) != nullptr) {
    return std::make_unique<torch::optim::RMSpropParamState>();
  }
  return std::make_unique<torch::optim::AdamParamState>();
}

std::int64_t& step_of(torch::optim::OptimizerParamState& state) {
  if (auto* rmsprop = dynamic_cast<torch::optim::RMSpropParamState*>(&state)) return rmsprop->step();
  return dynamic_cast<torch::optim::AdamParamState&>(state).step();
}

}  // namespace

GenericDict optimizer_state_to_dict(torch::optim::Optimizer& optimizer,
                                    const torch::OrderedDict<std::string, at::Tensor>& named_parameters) {
  GenericDict dict(c10::StringType::get(), c10::AnyType::get());
  auto& states = optimizer.state();
  for (const auto& item : named_parameters) {
    const auto found = states.find(state_key(item.value()));
    if (found == states.end()) continue;
    GenericDict entry(c10::StringType::get(), c10::AnyType::get());
    entry.insert(std::string("step"), step_of(*found->second));
    for (const Buffer& buffer : buffers_of(*found->second)) {
      if (buffer.tensor->defined()) entry.insert(std::string(buffer.name), buffer.tensor->detach().cpu());
    }
    dict.insert(item.key(), entry);
  }
  return dict;
}

void optimizer_state_from_dict(const std::string& path, const GenericDict& dict, torch::optim::Optimizer& optimizer,
                               const torch::OrderedDict<std::string, at::Tensor>& named_parameters) {
  auto& states = optimizer.state();
  states.clear();
  for (const auto& item : dict) {
    if (!item.key().isString()) throw DataError(path, "optimizer state: a key is not a parameter name");
    const std::string name = item.key().toStringRef();
    const at::Tensor* parameter = named_parameters.find(name);
    if (parameter == nullptr) throw DataError(path, "optimizer state for '" + name + "', which the model does not have");
    if (!item.value().isGenericDict()) throw DataError(path, "optimizer state of '" + name + "' is not a dict");
    const GenericDict entry = item.value().toGenericDict();
    const std::string where = "optimizer state of '" + name + "'";
    auto state = new_state_for(optimizer);
    step_of(*state) = require_int(path, entry, "step");
    if (step_of(*state) < 0) throw DataError(path, where + ": 'step' is negative");
    for (const Buffer& buffer : buffers_of(*state)) {
      if (!entry.contains(std::string(buffer.name))) {
        if (buffer.required) throw DataError(path, where + " has no '" + buffer.name + "' (another optimizer's state?)");
        continue;
      }
      const at::Tensor value = require_tensor(path, entry, buffer.name);
      if (value.sizes() != parameter->sizes() || value.scalar_type() != parameter->scalar_type()) {
        throw DataError(path, where + ": '" + buffer.name + "' is " + shape_text(value.sizes()) + ", its parameter " +
                                  shape_text(parameter->sizes()));
      }
      if (!torch::isfinite(value).all().item<bool>()) {
        throw DataError(path, where + ": '" + buffer.name + "' holds NaN or infinite values");
      }
      *buffer.tensor = value.to(parameter->device()).clone();
    }
    states[state_key(*parameter)] = std::move(state);
  }
}

torch::optim::AdamParamState& adam_state_of(torch::optim::Optimizer& optimizer, const at::Tensor& parameter) {
  auto& states = optimizer.state();
  auto& slot = states[state_key(parameter)];
  if (!slot) {
    auto state = std::make_unique<torch::optim::AdamParamState>();
    state->step(0);
    state->exp_avg(torch::zeros_like(parameter, at::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::zeros_like(parameter, at::MemoryFormat::Preserve));
    slot = std::move(state);
  }
  return dynamic_cast<torch::optim::AdamParamState&>(*slot);
}

void clear_state_slices(torch::optim::Optimizer& optimizer, const at::Tensor& parameter, std::int64_t dim,
                        const at::Tensor& index) {
  auto& states = optimizer.state();
  const auto found = states.find(state_key(parameter));
  if (found == states.end()) return;
  torch::NoGradGuard no_grad;
  for (const Buffer& buffer : buffers_of(*found->second)) {
    if (buffer.tensor->defined()) buffer.tensor->index_fill_(dim, index.to(buffer.tensor->device()), 0);
  }
}

namespace {

// A count LibTorch's archive writes as a one-element int64 tensor ("param_groups/size").
std::int64_t archived_count(const std::string& path, const GenericDict& dict, const std::string& key,
                            std::int64_t most) {
  const at::Tensor count = require_tensor(path, dict, key);
  if (count.numel() != 1 || count.scalar_type() != torch::kInt64) {
    throw DataError(path, "optimizer archive: '" + key + "' is not a count");
  }
  const std::int64_t value = count.item<std::int64_t>();
  if (value < 0 || value > most) {
    throw DataError(path, "optimizer archive: '" + key + "' is " + std::to_string(value) + ", expected 0 to " +
                              std::to_string(most) + " (the model's parameters)");
  }
  return value;
}

}  // namespace

GenericDict optimizer_state_from_libtorch_archive(const std::string& path, const c10::IValue& archive,
                                                  const std::vector<std::string>& parameter_names) {
  if (!archive.isGenericDict()) throw DataError(path, "optimizer archive: no object at the top");
  const GenericDict root = archive.toGenericDict();
  const GenericDict states = require_dict(path, root, "state");
  const GenericDict groups = require_dict(path, root, "param_groups");
  const auto most = static_cast<std::int64_t>(parameter_names.size());
  GenericDict named(c10::StringType::get(), c10::AnyType::get());
  std::size_t listed = 0;
  const std::int64_t group_count = archived_count(path, groups, "param_groups/size", most);
  for (std::int64_t group_index = 0; group_index < group_count; ++group_index) {
    const GenericDict group = require_dict(path, groups, "param_groups/" + std::to_string(group_index));
    const std::int64_t size = archived_count(path, group, "params/size", most);
    for (std::int64_t index = 0; index < size; ++index) {
      const std::string key = require_string(path, group, "params/" + std::to_string(index));
      const std::size_t position = listed++;
      const auto state = states.find(key);
      if (position >= parameter_names.size() || state == states.end()) continue;  // too many: refused below
      if (!state->value().isGenericDict()) {
        throw DataError(path, "optimizer archive: the state of '" + key + "' is not an object");
      }
      GenericDict entry(c10::StringType::get(), c10::AnyType::get());
      for (const auto& item : state->value().toGenericDict()) {
        if (item.key().isString()) entry.insert(item.key(), item.value());
      }
      named.insert(parameter_names[position], entry);
    }
  }
  if (listed != parameter_names.size()) {
    throw DataError(path, "optimizer archive: lists " + std::to_string(listed) + " parameters, the model has " +
                              std::to_string(parameter_names.size()));
  }
  return named;
}

}  // namespace vae_cnn
