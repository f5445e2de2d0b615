// What stb_truetype reads of a font file, checked before it reads it: stb_truetype trusts every
// offset and count it finds, so a damaged or hostile font made `plot` read far outside the file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// stb_truetype keeps offsets in int; a font is far smaller (DejaVu Sans is 0.7 MB).
constexpr std::uint64_t kMaxFontFileBytes = std::uint64_t{256} << 20;

/// Checks the tables stb_truetype uses (the table directory and checksums; cmap, head, maxp,
/// hhea, hmtx, loca and glyf; kern and GPOS when present) so that every read it can make while
/// measuring and drawing text stays inside its table, every glyph index it can reach exists, and
/// no composite glyph refers to itself or nests without bound. Returns what is wrong, or "".
std::string truetype_problem(const std::vector<unsigned char>& data);

}  // namespace vae_cnn
