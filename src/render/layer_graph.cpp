// Graphviz places the boxes and routes the edges (we give it each box's size, measured with our
// font, as a fixed size); we draw boxes, text and the edge splines ourselves, so the diagrams share
// the charts' font and need none of Graphviz's rendering plugins.
#include "vae_cnn/render/layer_graph.hpp"

#include <graphviz/gvc.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "vae_cnn/render/chart_style.hpp"

namespace vae_cnn {
namespace {

constexpr Rgb kBoxFill{236, 242, 250};
constexpr Rgb kHeadingFill{208, 222, 242};
constexpr double kPointsPerInch = 72.0;  // Graphviz sizes nodes in inches, positions in points

// cgraph's API takes char* for strings it only reads or copies.
char* text(std::string& value) { return value.data(); }

void set_attribute(void* object, std::string name, std::string value) {
  std::string no_default;
  agsafeset(object, text(name), text(value), text(no_default));
}

struct BoxGeometry {
  double width = 0, height = 0;
};

struct Metrics {
  double text = 15;
  double line = 15 * 1.45;
  double pad = 15 * 0.7;
};

BoxGeometry measure(const LayerBox& box, const Metrics& m, const Font& font) {
  double widest = font.text_width(box.heading, m.text);
  for (const auto& field : box.fields) widest = std::max(widest, font.text_width(field, m.text));
  return {widest + 2 * m.pad, m.line * (1 + static_cast<double>(box.fields.size())) + m.pad * 1.2};
}

struct GraphvizContext {
  GVC_t* gvc = gvContext();
  Agraph_t* graph = nullptr;
  bool laid_out = false;
  ~GraphvizContext() {
    if (laid_out) gvFreeLayout(gvc, graph);
    if (graph != nullptr) agclose(graph);
    if (gvc != nullptr) gvFreeContext(gvc);
  }
};

pointf bezier_point(const pointf* p, double t) {
  const double u = 1 - t;
  return {u * u * u * p[0].x + 3 * u * u * t * p[1].x + 3 * u * t * t * p[2].x + t * t * t * p[3].x,
          u * u * u * p[0].y + 3 * u * u * t * p[1].y + 3 * u * t * t * p[2].y + t * t * t * p[3].y};
}

void check_edges(const LayerGraph& graph) {
  const int count = static_cast<int>(graph.boxes.size());
  for (const auto& [from, to] : graph.edges) {
    if (from < 0 || to < 0 || from >= count || to >= count) {
      throw std::invalid_argument("draw_layer_graph: edge " + std::to_string(from) + "->" + std::to_string(to) +
                                  " names a box that is not there");
    }
  }
}

// The graph handed to Graphviz and laid out by dot: fixed-size boxes, edges between them.
struct Layout {
  GraphvizContext context;
  std::vector<Agnode_t*> nodes;
  std::vector<BoxGeometry> sizes;
  std::vector<Agedge_t*> edges;
};

void lay_out(const LayerGraph& graph, const Metrics& m, const Font& font, Layout& layout) {
  GraphvizContext& context = layout.context;
  if (context.gvc == nullptr) throw std::runtime_error("Graphviz: cannot create a context");
  std::string name = "layers";
  context.graph = agopen(text(name), Agdirected, nullptr);
  set_attribute(context.graph, "rankdir", "TB");
  set_attribute(context.graph, "nodesep", "0.35");
  set_attribute(context.graph, "ranksep", "0.35");
  for (std::size_t i = 0; i < graph.boxes.size(); ++i) {
    std::string node_name = "n" + std::to_string(i);
    Agnode_t* node = agnode(context.graph, text(node_name), 1);
    const BoxGeometry size = measure(graph.boxes[i], m, font);
    set_attribute(node, "shape", "box");
    set_attribute(node, "fixedsize", "true");
    set_attribute(node, "label", "");
    set_attribute(node, "width", std::to_string(size.width / kPointsPerInch));
    set_attribute(node, "height", std::to_string(size.height / kPointsPerInch));
    layout.nodes.push_back(node);
    layout.sizes.push_back(size);
  }
  for (const auto& [from, to] : graph.edges) {
    std::string edge_name;
    layout.edges.push_back(agedge(context.graph, layout.nodes[static_cast<std::size_t>(from)],
                                  layout.nodes[static_cast<std::size_t>(to)], text(edge_name), 1));
  }
  if (gvLayout(context.gvc, context.graph, "dot") != 0) {
    throw std::runtime_error("Graphviz: the dot layout failed (is libgvc6 with its dot_layout plugin installed?)");
  }
  context.laid_out = true;
}

// From Graphviz's points (y up) to the picture's pixels (y down).
struct Frame {
  double offset_x, graph_top, margin, title_height;
  double x(double graph_x) const { return graph_x + offset_x; }
  double y(double graph_y) const { return graph_top - graph_y + margin + title_height; }
};

void draw_edge(Image& image, Agedge_t* edge, const Frame& frame) {
  const splines* route = ED_spl(edge);
  if (route == nullptr || route->size < 1) return;
  const bezier& curve = route->list[0];
  for (int i = 0; i + 3 < curve.size; i += 3) {
    pointf previous = curve.list[i];
    for (int step = 1; step <= 16; ++step) {
      const pointf next = bezier_point(curve.list + i, step / 16.0);
      image.draw_line(frame.x(previous.x), frame.y(previous.y), frame.x(next.x), frame.y(next.y), kInk, 1.4);
      previous = next;
    }
  }
  if (!curve.eflag || curve.size < 1) return;
  const pointf base = curve.list[curve.size - 1], tip = curve.ep;
  const double dx = tip.x - base.x, dy = tip.y - base.y;
  if (std::hypot(dx, dy) <= 0) return;
  const double nx = -dy * 0.4, ny = dx * 0.4;  // half as wide as 0.8 of its length
  image.fill_triangle(frame.x(tip.x), frame.y(tip.y), frame.x(base.x + nx), frame.y(base.y + ny),
                      frame.x(base.x - nx), frame.y(base.y - ny), kInk);
}

int rounded(double value) { return static_cast<int>(std::lround(value)); }

void draw_box(Image& image, const LayerBox& box, double x0, double y0, const BoxGeometry& size, const Metrics& m,
              const Font& font) {
  const double x1 = x0 + size.width, y1 = y0 + size.height;
  const double heading_bottom = y0 + m.line + m.pad * 0.5;
  image.fill_rect(rounded(x0), rounded(y0), rounded(x1), rounded(heading_bottom), kHeadingFill);
  image.fill_rect(rounded(x0), rounded(heading_bottom), rounded(x1), rounded(y1), kBoxFill);
  image.stroke_rect(x0, y0, x1, y1, kInk, 1.2);
  image.draw_line(x0, heading_bottom, x1, heading_bottom, kInk, 1.0);
  font.draw(image, x0 + m.pad, y0 + m.pad * 0.5 + m.text * 1.0, box.heading, m.text, kInk);
  for (std::size_t f = 0; f < box.fields.size(); ++f) {
    font.draw(image, x0 + m.pad, heading_bottom + m.pad * 0.3 + m.line * static_cast<double>(f) + m.text * 1.05,
              box.fields[f], m.text, kInk);
  }
}

}  // namespace

Image draw_layer_graph(const LayerGraph& graph, const Font& font) {
  const Metrics m;
  check_edges(graph);
  Layout layout;
  lay_out(graph, m, font, layout);
  const boxf bounds = GD_bb(layout.context.graph);
  const double margin = m.text * 1.5, title_height = graph.title.empty() ? 0.0 : m.text * 2.6;
  const double graph_width = bounds.UR.x - bounds.LL.x;
  const double width = std::max(graph_width, font.text_width(graph.title, m.text * 1.2)) + 2 * margin;
  Image image(static_cast<int>(std::ceil(width)),
              static_cast<int>(std::ceil(bounds.UR.y - bounds.LL.y + 2 * margin + title_height)));
  const Frame frame{margin + (width - 2 * margin - graph_width) / 2 - bounds.LL.x, bounds.UR.y, margin, title_height};
  for (Agedge_t* edge : layout.edges) draw_edge(image, edge, frame);
  for (std::size_t i = 0; i < graph.boxes.size(); ++i) {
    const pointf centre = ND_coord(layout.nodes[i]);
    draw_box(image, graph.boxes[i], frame.x(centre.x) - layout.sizes[i].width / 2,
             frame.y(centre.y) - layout.sizes[i].height / 2, layout.sizes[i], m, font);
  }
  if (!graph.title.empty()) {
    font.draw(image, width / 2, margin + m.text * 0.9, graph.title, m.text * 1.2, kInk, Anchor::kCenter);
  }
  return image;
}

}  // namespace vae_cnn
