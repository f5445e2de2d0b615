// The branch rules are by layer name because the trace is a flat list; the model test pins the names.
#include "vae_cnn/render/model_diagrams.hpp"

#include <map>

#include "vae_cnn/number_text.hpp"

namespace vae_cnn {

LayerGraph layer_graph_of(const std::string& title, const Trace& trace) {
  LayerGraph graph;
  graph.title = title;
  std::map<std::string, int> index_of;
  for (std::size_t i = 0; i < trace.size(); ++i) {
    const LayerTrace& layer = trace[i];
    const int index = static_cast<int>(i);
    LayerBox box;
    box.heading = layer.name + ": " + layer.kind;
    std::string input = shape_text(layer.input);
    if (layer.name == "z" && index_of.count("z_mean") && index_of.count("z_log_var")) {
      input = "[" + input + ", " + input + "]";  // the sampler reads mean and log-variance
      graph.edges.push_back({index_of["z_mean"], index});
      graph.edges.push_back({index_of["z_log_var"], index});
    } else if (layer.name == "z_log_var" && index_of.count("z_mean") && index_of["z_mean"] > 0) {
      graph.edges.push_back({index_of["z_mean"] - 1, index});
    } else if (i > 0 && layer.kind != "Input") {
      graph.edges.push_back({index - 1, index});
    }
    box.fields = {"input: " + input, "output: " + shape_text(layer.output)};
    if (layer.parameters > 0) box.fields.push_back("parameters: " + with_thousands(layer.parameters));
    graph.boxes.push_back(box);
    index_of[layer.name] = index;
  }
  return graph;
}

}  // namespace vae_cnn
