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

}  // namespace

Image draw_layer_graph(const LayerGraph& graph, const Font& font) {
  const Metrics m;
  const int count = static_cast<int>(graph.boxes.size());
  for (const auto& [from, to] : graph.edges) {
    if (from < 0 || to < 0 || from >= count || to >= count) {
      throw std::invalid_argument("draw_layer_graph: edge " + std::to_string(from) + "->" + std::to_string(to) +
                                  " names a box that is not there");
    }
  }
  GraphvizContext context;
  if (context.gvc == nullptr) throw std::runtime_error("Graphviz: cannot create a context");
  std::string name = "layers";
  context.graph = agopen(text(name), Agdirected, nullptr);
  set_attribute(context.graph, "rankdir", "TB");
  set_attribute(context.graph, "nodesep", "0.35");
  set_attribute(context.graph, "ranksep", "0.35");
  std::vector<Agnode_t*> nodes;
  std::vector<BoxGeometry> sizes;
  for (int i = 0; i < count; ++i) {
    std::string node_name = "n" + std::to_string(i);
    Agnode_t* node = agnode(context.graph, text(node_name), 1);
    const BoxGeometry size = measure(graph.boxes[static_cast<std::size_t>(i)], m, font);
    set_attribute(node, "shape", "box");
    set_attribute(node, "fixedsize", "true");
    set_attribute(node, "label", "");
    set_attribute(node, "width", std::to_string(size.width / kPointsPerInch));
    set_attribute(node, "height", std::to_string(size.height / kPointsPerInch));
    nodes.push_back(node);
    sizes.push_back(size);
  }
  std::vector<Agedge_t*> edges;
  for (const auto& [from, to] : graph.edges) {
    std::string edge_name;
    edges.push_back(agedge(context.graph, nodes[static_cast<std::size_t>(from)], nodes[static_cast<std::size_t>(to)],
                           text(edge_name), 1));
  }
  if (gvLayout(context.gvc, context.graph, "dot") != 0) {
    throw std::runtime_error("Graphviz: the dot layout failed (is libgvc6 with its dot_layout plugin installed?)");
  }
  context.laid_out = true;

  const boxf bounds = GD_bb(context.graph);
  const double margin = m.text * 1.5, title_height = graph.title.empty() ? 0.0 : m.text * 2.6;
  const double graph_width = bounds.UR.x - bounds.LL.x;
  const double width = std::max(graph_width, font.text_width(graph.title, m.text * 1.2)) + 2 * margin;
  const double offset_x = margin + (width - 2 * margin - graph_width) / 2 - bounds.LL.x;
  Image image(static_cast<int>(std::ceil(width)),
              static_cast<int>(std::ceil(bounds.UR.y - bounds.LL.y + 2 * margin + title_height)));
  // Graphviz's y axis points up.
  auto to_x = [&](double x) { return x + offset_x; };
  auto to_y = [&](double y) { return bounds.UR.y - y + margin + title_height; };

  for (Agedge_t* edge : edges) {
    const splines* route = ED_spl(edge);
    if (route == nullptr || route->size < 1) continue;
    const bezier& curve = route->list[0];
    for (int i = 0; i + 3 < curve.size; i += 3) {
      pointf previous = curve.list[i];
      for (int step = 1; step <= 16; ++step) {
        const pointf next = bezier_point(curve.list + i, step / 16.0);
        image.draw_line(to_x(previous.x), to_y(previous.y), to_x(next.x), to_y(next.y), kInk, 1.4);
        previous = next;
      }
    }
    if (curve.eflag && curve.size > 0) {
      const pointf base = curve.list[curve.size - 1], tip = curve.ep;
      const double dx = tip.x - base.x, dy = tip.y - base.y, length = std::hypot(dx, dy);
      if (length > 0) {
        const double nx = -dy * 0.4, ny = dx * 0.4;  // half as wide as 0.8 of its length
        image.fill_triangle(to_x(tip.x), to_y(tip.y), to_x(base.x + nx), to_y(base.y + ny), to_x(base.x - nx),
                            to_y(base.y - ny), kInk);
      }
    }
  }
  for (int i = 0; i < count; ++i) {
    const LayerBox& box = graph.boxes[static_cast<std::size_t>(i)];
    const pointf centre = ND_coord(nodes[static_cast<std::size_t>(i)]);
    const double x0 = to_x(centre.x) - sizes[static_cast<std::size_t>(i)].width / 2;
    const double y0 = to_y(centre.y) - sizes[static_cast<std::size_t>(i)].height / 2;
    const double x1 = x0 + sizes[static_cast<std::size_t>(i)].width, y1 = y0 + sizes[static_cast<std::size_t>(i)].height;
    const double heading_bottom = y0 + m.line + m.pad * 0.5;
    image.fill_rect(static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(y0)), static_cast<int>(std::lround(x1)),
                    static_cast<int>(std::lround(heading_bottom)), kHeadingFill);
    image.fill_rect(static_cast<int>(std::lround(x0)), static_cast<int>(std::lround(heading_bottom)),
                    static_cast<int>(std::lround(x1)), static_cast<int>(std::lround(y1)), kBoxFill);
    image.stroke_rect(x0, y0, x1, y1, kInk, 1.2);
    image.draw_line(x0, heading_bottom, x1, heading_bottom, kInk, 1.0);
    font.draw(image, x0 + m.pad, y0 + m.pad * 0.5 + m.text * 1.0, box.heading, m.text, kInk);
    for (std::size_t f = 0; f < box.fields.size(); ++f) {
      font.draw(image, x0 + m.pad, heading_bottom + m.pad * 0.3 + m.line * static_cast<double>(f) + m.text * 1.05,
                box.fields[f], m.text, kInk);
    }
  }
  if (!graph.title.empty()) {
    font.draw(image, width / 2, margin + m.text * 0.9, graph.title, m.text * 1.2, kInk, Anchor::kCenter);
  }
  return image;
}

}  // namespace vae_cnn
