// The layer graphs of encoder, decoder and vae, built from a traced forward pass so the diagrams
// can never disagree with the model.
#pragma once

#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/render/layer_graph.hpp"

namespace vae_cnn {

/// One box per traced layer with its input and output shapes (Keras' show_shapes) and parameter
/// count; each layer takes the previous one's output, except z_log_var, which shares z_mean's input,
/// and the sampler z, which takes both z_mean and z_log_var.
LayerGraph layer_graph_of(const std::string& title, const Trace& trace);

}  // namespace vae_cnn
