// Model diagrams like Keras' plot_model(show_shapes=True): a box per layer, arrows between them,
// laid out by Graphviz's dot and drawn with our canvas and font.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/image.hpp"

namespace vae_cnn {

struct LayerBox {
  std::string heading;              ///< e.g. "conv1: Conv2d 3x3 s2 + ReLU"
  std::vector<std::string> fields;  ///< e.g. "input: (None, 1, 28, 28)", "output: (None, 32, 14, 14)"
};

struct LayerGraph {
  std::string title;
  std::vector<LayerBox> boxes;
  std::vector<std::pair<int, int>> edges;  ///< indices into boxes, from → to
};

/// Lays the graph out top to bottom with dot and draws it; throws std::invalid_argument for an edge
/// to a missing box and std::runtime_error when Graphviz cannot lay it out.
Image draw_layer_graph(const LayerGraph& graph, const Font& font);

}  // namespace vae_cnn
