// Builds the layer tables from a traced forward pass, so they can never disagree with the model.
#include "vae_cnn/model/summary.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <sstream>

#include "vae_cnn/number_text.hpp"

namespace vae_cnn {

ModelTraces trace_model(ConvVae& model) {
  torch::NoGradGuard no_grad;
  const auto device = model->parameters().front().device();
  const auto image = torch::zeros(model->image_shape().batch(1), torch::TensorOptions(device));
  ModelTraces traces;
  auto [z_mean, z_log_var] = model->encoder->forward(image, &traces.encoder);
  // A generator of its own: printing the summary must not shift training's random stream (with it,
  // `vae_cnn train --seed S` draws the same shuffles and ε as a PyTorch script seeded S).
  at::Generator noise = at::detail::createCPUGenerator(0);
  const auto z = sample_latent(z_mean, z_log_var, noise);
  traces.encoder.push_back({"z", "Sampling", shape_without_batch(z_mean), shape_without_batch(z), 0});
  const auto logits = model->decoder->forward(z, &traces.decoder);
  traces.vae = {
      {"encoder_input", "Input", shape_without_batch(image), shape_without_batch(image), 0},
      {"encoder", "Model", shape_without_batch(image), shape_without_batch(z), count_parameters(*model->encoder)},
      {"decoder", "Model", shape_without_batch(z), shape_without_batch(logits), count_parameters(*model->decoder)},
  };
  return traces;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "(None";
  for (const auto dim : shape) text += ", " + std::to_string(dim);
  return text + ")";
}

std::string summary_table(const std::string& model_name, const Trace& trace) {
  std::size_t layer_width = std::string("Layer (type)").size();
  std::size_t shape_width = std::string("Output Shape").size();
  std::int64_t total = 0;
  for (const auto& layer : trace) {
    layer_width = std::max(layer_width, layer.name.size() + layer.kind.size() + 3);
    shape_width = std::max(shape_width, shape_text(layer.output).size());
    total += layer.parameters;
  }
  layer_width += 2;
  shape_width += 2;
  const std::size_t width = layer_width + shape_width + 10;
  std::ostringstream out;
  auto cell = [&](const std::string& text, std::size_t cell_width) {
    out << text << std::string(cell_width > text.size() ? cell_width - text.size() : 1, ' ');
  };
  out << "Model: \"" << model_name << "\"\n" << std::string(width, '_') << '\n';
  cell("Layer (type)", layer_width);
  cell("Output Shape", shape_width);
  out << "Param #\n" << std::string(width, '=') << '\n';
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const auto& layer = trace[i];
    cell(layer.name + " (" + layer.kind + ")", layer_width);
    cell(shape_text(layer.output), shape_width);
    out << with_thousands(layer.parameters) << '\n';
    out << std::string(width, i + 1 == trace.size() ? '=' : '_') << '\n';
  }
  out << "Total params: " << with_thousands(total) << '\n'
      << "Trainable params: " << with_thousands(total) << '\n'
      << "Non-trainable params: 0\n"
      << std::string(width, '_') << '\n';
  return out.str();
}

std::string model_summary(ConvVae& model) {
  const ModelTraces traces = trace_model(model);
  return summary_table("encoder", traces.encoder) + "\n" + summary_table("decoder", traces.decoder) + "\n" +
         summary_table("vae", traces.vae);
}

}  // namespace vae_cnn
