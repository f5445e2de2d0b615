// An optimizer's per-parameter state by parameter name, as a dict of our own inside the checkpoint.
// LibTorch's optimizer archive matches state to parameters by position, and its layout changed
// between 1.13 and 2.x: 2.11 loads a 1.13 archive without an error, handing parameters the moments
// of others. Named tensors read the same in every version, and in Python.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/serialize/pickled_dict.hpp"

namespace vae_cnn {

/// {parameter name: {"step": int, buffer name: tensor, ...}} for every parameter `optimizer` holds
/// state for: Adam's exp_avg and exp_avg_sq, RMSprop's square_avg (and momentum_buffer, grad_avg
/// where defined). `named_parameters` are the optimizer's parameters, in its order.
GenericDict optimizer_state_to_dict(torch::optim::Optimizer& optimizer,
                                    const torch::OrderedDict<std::string, at::Tensor>& named_parameters);

/// Gives each parameter the state `dict` holds for its name, on the parameter's device. Throws
/// DataError naming `path` when a name is unknown, a buffer is missing, not a tensor, or not of its
/// parameter's shape, or the state is another optimizer's.
void optimizer_state_from_dict(const std::string& path, const GenericDict& dict, torch::optim::Optimizer& optimizer,
                               const torch::OrderedDict<std::string, at::Tensor>& named_parameters);

/// The Adam state `optimizer` keeps for `parameter`, made as LibTorch's Adam makes it on a
/// parameter's first step (step 0, zero moments of its shape and layout) when there is none yet.
torch::optim::AdamParamState& adam_state_of(torch::optim::Optimizer& optimizer, const at::Tensor& parameter);

/// Zeroes the slices `index` along `dim` of every buffer `optimizer` keeps for `parameter` (Adam's
/// moments, RMSprop's averages), so those entries restart as if never stepped; the step count,
/// shared by the whole tensor, stays. Nothing happens before the parameter's first step.
void clear_state_slices(torch::optim::Optimizer& optimizer, const at::Tensor& parameter, std::int64_t dim,
                        const at::Tensor& index);

/// The dict optimizer_state_to_dict writes, from LibTorch's own optimizer archive (checkpoints of
/// format 1), read as data (read_module_archive_bytes): {"state": {key: {"step", buffers...}},
/// "param_groups": {"param_groups/size", "param_groups/<i>": {"params/size", "params/<j>": key}}},
/// where the groups list the keys of the optimizer's parameters, in order: `parameter_names`.
/// DataError naming `path` when the layout is not that one or lists another number of parameters.
GenericDict optimizer_state_from_libtorch_archive(const std::string& path, const c10::IValue& archive,
                                                  const std::vector<std::string>& parameter_names);

}  // namespace vae_cnn
