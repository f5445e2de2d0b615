// Dead units of the encoder's Dense(16) layer brought back. A ReLU unit whose pre-activation is
// negative for every image gets no gradient again, and runs lose half their 16 units in the first
// epoch; the test loss follows how many stay alive (docs/seed-sweeps.md).
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>

#include "vae_cnn/model/conv_vae.hpp"

namespace vae_cnn {

/// How many training images decide whether a unit is dead: enough that a unit firing for any
/// digit shape fires for some of them, few enough that the check costs a fraction of an epoch.
constexpr std::int64_t kRevivalProbeImages = 4096;

/// Every hidden unit that is positive for none of `probe` ([N,1,28,28], on the model's device;
/// N >= 1) starts again: a new glorot_uniform row of incoming weights (Keras' draw for the layer,
/// redrawn up to a few times until the unit fires for some probe image), a zero bias, and zero
/// outgoing weights in both heads, so the model computes exactly what it did before; `optimizer`'s
/// moments for those entries are cleared. Draws from the default CPU generator, so a seed (and a
/// resumed checkpoint) gives the same draws, on every rank of a group. Returns how many units.
std::int64_t revive_dead_hidden_units(ConvVae& model, torch::optim::Optimizer& optimizer, const torch::Tensor& probe,
                                      std::int64_t batch_size);

}  // namespace vae_cnn
