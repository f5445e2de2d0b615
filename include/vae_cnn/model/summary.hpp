// Keras-style model summaries: per layer its name, kind, output shape and parameter count.
#pragma once

#include <string>

#include "vae_cnn/model/conv_vae.hpp"

namespace vae_cnn {

/// The layers of encoder, decoder and the whole VAE as one forward pass of a single image meets them.
struct ModelTraces {
  Trace encoder;
  Trace decoder;
  Trace vae;
};

/// Traces `model` on one blank image (no gradients, on the model's device).
ModelTraces trace_model(ConvVae& model);

/// "(None, 32, 14, 14)", Keras' way of writing a shape with its batch dimension.
std::string shape_text(const std::vector<std::int64_t>& shape);

/// A table like Keras' `Model.summary()` for one traced model.
std::string summary_table(const std::string& model_name, const Trace& trace);

/// The three tables `vae_cnn summary` prints: encoder, decoder, vae.
std::string model_summary(ConvVae& model);

}  // namespace vae_cnn
