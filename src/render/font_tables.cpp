// Each check below mirrors a read of stb_truetype 1.26 (stbtt_InitFont, stbtt_FindGlyphIndex,
// stbtt_GetGlyphHMetrics, stbtt__GetGlyfOffset, stbtt__GetGlyphShapeTT, the kern and GPOS lookups):
// it reads the same fields in the same way, through a reader that refuses any byte past the end
// of the table it belongs to. No Debian package validates a font for stb_truetype (FreeType would
// replace it rather than guard it), hence this file.
#include "vae_cnn/render/font_tables.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>
#include <stdexcept>

namespace vae_cnn {
namespace {

// stb_truetype recurses once per level of a composite glyph and allocates every vertex of it.
constexpr int kMaxCompositeDepth = 16;
constexpr std::uint64_t kMaxGlyphVertices = std::uint64_t{1} << 20;
// A glyph's box in font units against the line height (ascent - descent): stb_truetype allocates
// the glyph's bitmap as int width × height, which a huge box would overflow.
constexpr int kMaxGlyphBoxInLines = 16;

class FontFault : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string text(std::uint64_t value) { return std::to_string(value); }

// The bytes of one table (or of a part of one); every read is checked against its end.
class Table {
 public:
  Table(const unsigned char* bytes, std::uint64_t length, std::string name)
      : bytes_(bytes), length_(length), name_(std::move(name)) {}

  std::uint8_t u8(std::uint64_t at) const {
    need(at, 1);
    return bytes_[at];
  }
  std::uint16_t u16(std::uint64_t at) const {
    need(at, 2);
    return static_cast<std::uint16_t>((bytes_[at] << 8) | bytes_[at + 1]);
  }
  std::int16_t s16(std::uint64_t at) const { return static_cast<std::int16_t>(u16(at)); }
  std::uint32_t u32(std::uint64_t at) const {
    need(at, 4);
    return (std::uint32_t{bytes_[at]} << 24) | (std::uint32_t{bytes_[at + 1]} << 16) |
           (std::uint32_t{bytes_[at + 2]} << 8) | bytes_[at + 3];
  }
  /// Throws unless bytes [at, at + count) lie inside.
  void need(std::uint64_t at, std::uint64_t count) const {
    if (at + count > length_) {
      throw FontFault(name_ + " is read at bytes " + text(at) + ".." + text(at + count) + ", past its end at byte " +
                      text(length_));
    }
  }
  /// Bytes [at, at + count) as a part of their own, named `name`.
  Table part(std::uint64_t at, std::uint64_t count, const std::string& name) const {
    need(at, count);
    return Table(bytes_ + at, count, name);
  }
  std::uint64_t length() const { return length_; }

 private:
  const unsigned char* bytes_;
  std::uint64_t length_;
  std::string name_;
};

std::uint32_t file_u32(const std::vector<unsigned char>& data, std::uint64_t at) {
  return (std::uint32_t{data[at]} << 24) | (std::uint32_t{data[at + 1]} << 16) | (std::uint32_t{data[at + 2]} << 8) |
         data[at + 3];
}

// Where the font's table directory starts: 0, or for a collection (.ttc) its first font's offset,
// as stbtt_GetFontOffsetForIndex(data, 0) finds it.
std::uint64_t font_start(const std::vector<unsigned char>& data) {
  if (data.size() < 12) throw FontFault("truncated (no table directory)");
  if (std::string(data.begin(), data.begin() + 4) != "ttcf") return 0;
  if (data.size() < 16) throw FontFault("truncated (font collection header cut short)");
  const std::uint32_t version = file_u32(data, 4);
  if (version != 0x00010000 && version != 0x00020000) throw FontFault("font collection of unknown version");
  if (static_cast<std::int32_t>(file_u32(data, 8)) < 1) throw FontFault("font collection holds no font");
  const std::uint64_t start = file_u32(data, 12);
  if (start + 12 > data.size()) throw FontFault("truncated or damaged: the collection's first font lies past the end");
  return start;
}

// The table directory: every table inside the file and matching its checksum (TrueType's sum of
// big-endian words; the head table counts its checkSumAdjustment field as 0). The first table of
// a tag wins, as in stb_truetype's lookup.
std::map<std::string, Table> table_directory(const std::vector<unsigned char>& data, std::uint64_t start) {
  const std::size_t tables = (std::size_t{data[start + 4]} << 8) | data[start + 5];
  if (tables == 0 || data.size() < start + 12 + 16 * tables) throw FontFault("truncated (table directory cut short)");
  std::map<std::string, Table> directory;
  for (std::size_t t = 0; t < tables; ++t) {
    const std::uint64_t record = start + 12 + 16 * t;
    const std::string tag(reinterpret_cast<const char*>(data.data() + record), 4);
    const std::uint64_t offset = file_u32(data, record + 8), length = file_u32(data, record + 12);
    if (offset + length > data.size()) {
      throw FontFault("truncated or damaged: table '" + tag + "' reaches byte " + text(offset + length) + " of " +
                      text(data.size()));
    }
    std::uint32_t sum = 0;
    for (std::uint64_t i = 0; i < length; i += 4) {
      unsigned char word[4] = {0, 0, 0, 0};
      for (std::uint64_t k = 0; k < 4 && i + k < length; ++k) {
        const bool adjustment = tag == "head" && i + k >= 8 && i + k < 12;
        word[k] = adjustment ? 0 : data[offset + i + k];
      }
      sum += (std::uint32_t{word[0]} << 24) | (std::uint32_t{word[1]} << 16) | (std::uint32_t{word[2]} << 8) | word[3];
    }
    if (sum != file_u32(data, record + 4)) throw FontFault("damaged: table '" + tag + "' does not match its checksum");
    directory.emplace(tag, Table(data.data() + offset, length, "table '" + tag + "'"));
  }
  return directory;
}

const Table& required(const std::map<std::string, Table>& directory, const std::string& tag, const std::string& why = "") {
  const auto found = directory.find(tag);
  if (found == directory.end()) throw FontFault("no '" + tag + "' table" + why);
  return found->second;
}

// The figures of head, maxp and hhea that the other checks need.
struct FontHeader {
  std::uint32_t glyphs = 0;
  std::uint16_t long_metrics = 0;
  int line_height = 0;  ///< ascent - descent, what stbtt_ScaleForPixelHeight divides by
  bool long_loca = false;
};

FontHeader font_header(const std::map<std::string, Table>& directory) {
  FontHeader header;
  const Table& head = required(directory, "head");
  const std::uint16_t loca_format = head.u16(50);
  if (loca_format > 1) throw FontFault("table 'head': glyph index format " + text(loca_format) + ", expected 0 or 1");
  header.long_loca = loca_format == 1;
  header.glyphs = required(directory, "maxp").u16(4);
  if (header.glyphs == 0) throw FontFault("table 'maxp': the font holds no glyphs");
  const Table& hhea = required(directory, "hhea");
  header.line_height = hhea.s16(4) - hhea.s16(6);
  if (header.line_height <= 0) {
    throw FontFault("table 'hhea': ascent " + std::to_string(hhea.s16(4)) + " is not above descent " +
                    std::to_string(hhea.s16(6)));
  }
  header.long_metrics = hhea.u16(34);
  if (header.long_metrics == 0 || header.long_metrics > header.glyphs) {
    throw FontFault("table 'hhea': " + text(header.long_metrics) + " long horizontal metrics for " +
                    text(header.glyphs) + " glyphs");
  }
  // stbtt_GetGlyphHMetrics: a long record per glyph up to long_metrics, a bearing for the rest.
  required(directory, "hmtx").need(0, 4 * std::uint64_t{header.long_metrics} + 2 * (header.glyphs - header.long_metrics));
  return header;
}

// What one glyph needs of the others: the glyphs it is made of (composite) and the vertices
// stb_truetype allocates for its own outline.
struct GlyphOutline {
  std::vector<std::uint16_t> components;
  std::uint64_t vertices = 0;
};

// A simple glyph as stbtt__GetGlyphShapeTT reads it: contour ends, instructions, flags (with
// repeats), then x and y coordinates; all of it inside the glyph's bytes.
std::uint64_t simple_glyph_vertices(const Table& glyph, int contours, std::vector<std::uint8_t>& flags) {
  const std::uint64_t instructions = glyph.u16(10 + 2 * std::uint64_t(contours));
  int previous_end = -1;
  for (int c = 0; c < contours; ++c) {
    const int end = glyph.u16(10 + 2 * std::uint64_t(c));
    if (end <= previous_end) throw FontFault("contour ends that do not increase");
    previous_end = end;
  }
  const std::uint64_t points = std::uint64_t(previous_end) + 1;
  std::uint64_t at = 10 + 2 * std::uint64_t(contours) + 2 + instructions;
  flags.assign(points, 0);
  std::uint8_t flag = 0, repeats = 0;
  for (std::uint64_t i = 0; i < points; ++i) {
    if (repeats == 0) {
      flag = glyph.u8(at++);
      if (flag & 8) repeats = glyph.u8(at++);
    } else {
      --repeats;
    }
    flags[i] = flag;
  }
  for (const std::uint8_t f : flags) at += (f & 2) ? 1 : (f & 16) ? 0 : 2;  // x
  for (const std::uint8_t f : flags) at += (f & 4) ? 1 : (f & 32) ? 0 : 2;  // y
  glyph.need(0, at);
  // A last contour of one point that starts off the curve: stb_truetype looks at the point after it.
  const std::uint64_t last_start = contours > 1 ? std::uint64_t(glyph.u16(10 + 2 * std::uint64_t(contours - 2))) + 1 : 0;
  if (last_start + 1 == points && !(flags.back() & 1)) throw FontFault("a last contour of one off-curve point");
  return points + 2 * std::uint64_t(contours);  // stb_truetype's own bound on the vertices it allocates
}

// A composite glyph as stbtt__GetGlyphShapeTT reads it (which reads no arguments for a component
// placed by matching points, so neither does this).
std::vector<std::uint16_t> composite_components(const Table& glyph) {
  std::vector<std::uint16_t> components;
  std::uint64_t at = 10;
  for (bool more = true; more;) {
    const std::uint16_t flags = glyph.u16(at);
    components.push_back(glyph.u16(at + 2));
    at += 4;
    if (flags & 2) at += (flags & 1) ? 4 : 2;
    if (flags & (1 << 3)) at += 2;
    else if (flags & (1 << 6)) at += 4;
    else if (flags & (1 << 7)) at += 8;
    glyph.need(0, at);
    more = (flags & (1 << 5)) != 0;
  }
  return components;
}

// One glyph of glyf: its box (stb_truetype's bitmap size) and its outline or components.
GlyphOutline glyph_outline(const Table& glyph, const FontHeader& header, std::vector<std::uint8_t>& flags) {
  const int contours = glyph.s16(0);
  const int x_min = glyph.s16(2), y_min = glyph.s16(4), x_max = glyph.s16(6), y_max = glyph.s16(8);
  if (x_min > x_max || y_min > y_max) throw FontFault("a box whose minimum lies above its maximum");
  if (x_max - x_min > kMaxGlyphBoxInLines * header.line_height ||
      y_max - y_min > kMaxGlyphBoxInLines * header.line_height) {
    throw FontFault("a box of " + std::to_string(x_max - x_min) + "x" + std::to_string(y_max - y_min) +
                    " units, more than " + std::to_string(kMaxGlyphBoxInLines) + " line heights");
  }
  GlyphOutline outline;
  if (contours > 0) outline.vertices = simple_glyph_vertices(glyph, contours, flags);
  if (contours < 0) outline.components = composite_components(glyph);
  return outline;
}

std::vector<GlyphOutline> glyph_outlines(const std::map<std::string, Table>& directory, const FontHeader& header) {
  const Table& loca = required(directory, "loca");
  const Table& glyf = required(directory, "glyf", " (CFF outlines are not supported: use a TrueType font)");
  loca.need(0, (header.long_loca ? 4 : 2) * (std::uint64_t{header.glyphs} + 1));
  const auto location = [&](std::uint64_t g) -> std::uint64_t {
    return header.long_loca ? loca.u32(g * 4) : 2 * std::uint64_t{loca.u16(g * 2)};
  };
  std::vector<GlyphOutline> outlines(header.glyphs);
  std::vector<std::uint8_t> flags;
  for (std::uint32_t g = 0; g < header.glyphs; ++g) {
    const std::uint64_t begin = location(g), end = location(g + 1);
    if (begin == end) continue;  // no outline: stb_truetype reads nothing
    const std::string name = "glyph " + text(g);
    if (begin > end || end > glyf.length()) {
      throw FontFault("table 'loca' puts " + name + " at bytes " + text(begin) + ".." + text(end) +
                      " of a 'glyf' table of " + text(glyf.length()));
    }
    try {
      outlines[g] = glyph_outline(glyf.part(begin, end - begin, name), header, flags);
    } catch (const FontFault& fault) {
      const std::string what = fault.what();
      throw FontFault(what.rfind(name, 0) == 0 ? what : name + ": " + what);
    }
  }
  return outlines;
}

// stb_truetype draws a composite glyph by recursing into its components and gathering their
// vertices: no component may lead back to the glyph, nest deeper than kMaxCompositeDepth or add up
// to more than kMaxGlyphVertices. Walked with a stack of our own, not by recursion.
void check_composites(const std::vector<GlyphOutline>& outlines) {
  enum class State : std::uint8_t { kNew, kOpen, kDone };
  std::vector<State> state(outlines.size(), State::kNew);
  std::vector<std::uint64_t> vertices(outlines.size(), 0);
  std::vector<int> depth(outlines.size(), 0);
  for (std::size_t root = 0; root < outlines.size(); ++root) {
    if (state[root] != State::kNew) continue;
    std::vector<std::pair<std::size_t, std::size_t>> stack{{root, 0}};  // glyph, next component
    state[root] = State::kOpen;
    while (!stack.empty()) {
      auto& [glyph, next] = stack.back();
      const auto& components = outlines[glyph].components;
      if (next < components.size()) {
        const std::size_t child = components[next++];
        if (child >= outlines.size()) continue;  // stb_truetype draws nothing for it
        if (state[child] == State::kOpen) throw FontFault("glyph " + text(child) + " is made of itself");
        if (state[child] == State::kNew) {
          state[child] = State::kOpen;
          stack.emplace_back(child, 0);
        }
        continue;
      }
      std::uint64_t total = outlines[glyph].vertices;
      int deepest = 0;
      for (const std::size_t child : components) {
        if (child >= outlines.size()) continue;
        total = std::min(total + vertices[child], kMaxGlyphVertices + 1);
        deepest = std::max(deepest, depth[child] + 1);
      }
      if (deepest > kMaxCompositeDepth) {
        throw FontFault("glyph " + text(glyph) + " nests components " + std::to_string(deepest) + " deep, more than " +
                        std::to_string(kMaxCompositeDepth));
      }
      if (total > kMaxGlyphVertices) {
        throw FontFault("glyph " + text(glyph) + " adds up to more than " + text(kMaxGlyphVertices) + " vertices");
      }
      vertices[glyph] = total;
      depth[glyph] = deepest;
      state[glyph] = State::kDone;
      stack.pop_back();
    }
  }
}

void check_glyph_index(std::uint64_t glyph, const FontHeader& header, std::uint64_t code_point) {
  if (glyph >= header.glyphs) {
    throw FontFault("table 'cmap' maps character " + text(code_point) + " to glyph " + text(glyph) + " of " +
                    text(header.glyphs));
  }
}

// stbtt_FindGlyphIndex's format 4 (segments searched by halves), read as it reads it, for one
// character of the Basic Multilingual Plane; returns the glyph.
std::uint32_t format4_glyph(const Table& map, std::uint32_t code_point) {
  const std::uint32_t segments = map.u16(6) >> 1;
  std::uint32_t search_range = map.u16(8) >> 1;
  std::uint32_t entry_selector = map.u16(10);
  const std::uint32_t range_shift = map.u16(12) >> 1;
  const std::uint32_t end_count = 14;
  std::uint32_t search = end_count;
  if (code_point >= map.u16(search + range_shift * 2)) search += range_shift * 2;
  search -= 2;
  while (entry_selector) {
    search_range >>= 1;
    if (code_point > map.u16(search + search_range * 2)) search += search_range * 2;
    --entry_selector;
  }
  search += 2;
  const std::uint32_t item = static_cast<std::uint16_t>((search - end_count) >> 1);
  const std::uint32_t start = map.u16(14 + segments * 2 + 2 + 2 * item);
  const std::uint32_t last = map.u16(end_count + 2 * item);
  if (code_point < start || code_point > last) return 0;
  const std::uint32_t offset = map.u16(14 + segments * 6 + 2 + 2 * item);
  if (offset == 0) return static_cast<std::uint16_t>(code_point + static_cast<std::uint16_t>(map.s16(14 + segments * 4 + 2 + 2 * item)));
  return map.u16(std::uint64_t{offset} + (code_point - start) * 2 + 14 + segments * 6 + 2 + 2 * item);
}

// The character map stbtt_InitFont picks (the last Unicode one) and every glyph it can give.
void check_character_map(const std::map<std::string, Table>& directory, const FontHeader& header) {
  const Table& cmap = required(directory, "cmap");
  const std::uint32_t maps = cmap.u16(2);
  std::uint64_t chosen = 0;
  for (std::uint32_t i = 0; i < maps; ++i) {
    const std::uint64_t record = 4 + 8 * std::uint64_t{i};
    const std::uint16_t platform = cmap.u16(record), encoding = cmap.u16(record + 2);
    if (platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10))) chosen = cmap.u32(record + 4);
  }
  if (chosen == 0) throw FontFault("table 'cmap' holds no Unicode character map");
  const Table map = cmap.part(chosen, cmap.length() - std::min(chosen, cmap.length()), "table 'cmap' (its Unicode map)");
  const std::uint16_t format = map.u16(0);
  if (format == 0) {
    const std::uint32_t bytes = map.u16(2);
    for (std::uint32_t c = 0; c + 6 < bytes; ++c) check_glyph_index(map.u8(6 + c), header, c);
  } else if (format == 6) {
    const std::uint32_t first = map.u16(6), count = map.u16(8);
    for (std::uint32_t c = 0; c < count; ++c) check_glyph_index(map.u16(10 + 2 * c), header, first + c);
  } else if (format == 4) {
    for (std::uint32_t c = 0; c <= 0xffff; ++c) check_glyph_index(format4_glyph(map, c), header, c);
  } else if (format == 12 || format == 13) {
    const std::uint32_t groups = map.u32(12);
    if (static_cast<std::int32_t>(groups) < 0) return;  // stb_truetype's search does not start
    map.need(16, 12 * std::uint64_t{groups});
    for (std::uint64_t g = 0; g < groups; ++g) {
      const std::uint64_t first = map.u32(16 + g * 12), last = map.u32(16 + g * 12 + 4), glyph = map.u32(16 + g * 12 + 8);
      if (last < first) continue;
      check_glyph_index(format == 12 ? glyph + (last - first) : glyph, header, last);
    }
  } else {
    throw FontFault("table 'cmap': its Unicode map has format " + text(format) + ", which stb_truetype does not read");
  }
}

// stbtt__GetGlyphKernInfoAdvance: the first subtable's pairs, when it is horizontal.
void check_kern(const std::map<std::string, Table>& directory) {
  const auto found = directory.find("kern");
  if (found == directory.end()) return;
  const Table& kern = found->second;
  if (kern.u16(2) < 1 || kern.u16(8) != 1) return;
  kern.need(18, 6 * std::uint64_t{kern.u16(10)});
}

// GPOS offsets are relative to the structure that holds them, so positions below are bytes from
// the start of the GPOS table; `work` counts the records looked at, since stb_truetype walks every
// lookup and subtable for every pair of characters it kerns (a font that makes that walk absurd
// is refused rather than checked for minutes).
constexpr std::uint64_t kMaxGposRecords = std::uint64_t{1} << 22;

void count_work(std::uint64_t& work, std::uint64_t records) {
  work += records;
  if (work > kMaxGposRecords) throw FontFault("table 'GPOS' has more than " + text(kMaxGposRecords) + " kerning records");
}

// stbtt__GetCoverageIndex: the coverage table's records, and the largest index it can return.
std::int64_t largest_coverage_index(const Table& gpos, std::uint64_t coverage, std::uint64_t& work) {
  const std::uint16_t format = gpos.u16(coverage);
  if (format != 1 && format != 2) return -1;
  const std::uint64_t count = gpos.u16(coverage + 2);
  count_work(work, count);
  if (format == 1) {
    gpos.need(coverage + 4, 2 * count);
    return static_cast<std::int64_t>(count) - 1;
  }
  gpos.need(coverage + 4, 6 * count);
  std::int64_t largest = -1;
  for (std::uint64_t r = 0; r < count; ++r) {
    const std::int64_t first = gpos.u16(coverage + 4 + 6 * r), last = gpos.u16(coverage + 4 + 6 * r + 2);
    if (last >= first) largest = std::max<std::int64_t>(largest, gpos.u16(coverage + 4 + 6 * r + 4) + last - first);
  }
  return largest;
}

// stbtt__GetGlyphClass: the class definition's records.
void check_class_definition(const Table& gpos, std::uint64_t classes) {
  const std::uint16_t format = gpos.u16(classes);
  if (format == 1) gpos.need(classes + 6, 2 * std::uint64_t{gpos.u16(classes + 4)});
  if (format == 2) gpos.need(classes + 4, 6 * std::uint64_t{gpos.u16(classes + 2)});
}

// One pair-adjustment subtable at `table`, as stbtt__GetGlyphGPOSInfoAdvance reads it for any pair
// of glyphs (it reads a pair set's offset and count before checking the index against the count).
void check_pair_adjustment(const Table& gpos, std::uint64_t table, std::uint64_t& work) {
  const std::uint16_t format = gpos.u16(table);
  const std::int64_t largest = largest_coverage_index(gpos, table + gpos.u16(table + 2), work);
  if (largest < 0 || (format != 1 && format != 2)) return;
  if (gpos.u16(table + 4) != 4 || gpos.u16(table + 6) != 0) return;  // value formats it does not read
  if (format == 1) {
    const std::int64_t pair_sets = gpos.u16(table + 8);
    count_work(work, static_cast<std::uint64_t>(largest) + 1);
    for (std::int64_t index = 0; index <= largest; ++index) {
      const std::uint64_t pairs = table + gpos.u16(table + 10 + 2 * static_cast<std::uint64_t>(index));
      const std::uint64_t count = gpos.u16(pairs);
      if (index < pair_sets) gpos.need(pairs + 2, 4 * count);
    }
    return;
  }
  check_class_definition(gpos, table + gpos.u16(table + 8));
  check_class_definition(gpos, table + gpos.u16(table + 10));
  gpos.need(table + 16, 2 * std::uint64_t{gpos.u16(table + 12)} * gpos.u16(table + 14));
}

void check_gpos(const std::map<std::string, Table>& directory) {
  const auto found = directory.find("GPOS");
  if (found == directory.end()) return;
  const Table& gpos = found->second;
  if (gpos.u16(0) != 1 || gpos.u16(2) != 0) return;  // a version stb_truetype does not read
  const std::uint64_t list = gpos.u16(8);
  const std::uint64_t lookups = gpos.u16(list);
  std::uint64_t work = 0;
  std::set<std::uint64_t> checked;  // subtables shared by several lookups are checked once
  for (std::uint64_t i = 0; i < lookups; ++i) {
    const std::uint64_t lookup = list + gpos.u16(list + 2 + 2 * i);
    const std::uint16_t type = gpos.u16(lookup);
    const std::uint64_t subtables = gpos.u16(lookup + 4);
    count_work(work, 1);
    if (type != 2) continue;
    count_work(work, subtables);
    for (std::uint64_t s = 0; s < subtables; ++s) {
      const std::uint64_t table = lookup + gpos.u16(lookup + 6 + 2 * s);
      if (checked.insert(table).second) check_pair_adjustment(gpos, table, work);
    }
  }
}

}  // namespace

std::string truetype_problem(const std::vector<unsigned char>& data) {
  try {
    if (data.size() > kMaxFontFileBytes) return "larger than " + text(kMaxFontFileBytes >> 20) + " MB";
    const auto directory = table_directory(data, font_start(data));
    const FontHeader header = font_header(directory);
    check_composites(glyph_outlines(directory, header));
    check_character_map(directory, header);
    check_kern(directory);
    check_gpos(directory);
  } catch (const FontFault& fault) {
    return fault.what();
  }
  return "";
}

}  // namespace vae_cnn
