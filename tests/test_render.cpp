// The canvas: shapes land where asked with soft edges, text inks its box, PNGs read back exactly.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "damaged_font.hpp"
#include "test_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/render/title_text.hpp"
#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/digit_grid.hpp"
#include "vae_cnn/render/digit_manifold.hpp"
#include "vae_cnn/render/digit_pixels.hpp"
#include "vae_cnn/render/png.hpp"
#include "vae_cnn/render/layer_graph.hpp"
#include "vae_cnn/render/line_chart.hpp"
#include "vae_cnn/render/image.hpp"
#include "vae_cnn/render/latent_scatter.hpp"

namespace vae_cnn {
namespace {

using testing::expect_throw_with;
using testing::ScratchDir;

// Darkest pixel's bounding box of non-white pixels: {left, top, right, bottom}, or all -1.
std::vector<int> ink_box(const Image& image) {
  std::vector<int> box{-1, -1, -1, -1};
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      if (image.at(x, y) == Rgb{255, 255, 255}) continue;
      if (box[0] < 0 || x < box[0]) box[0] = x;
      if (box[1] < 0) box[1] = y;
      box[2] = std::max(box[2], x);
      box[3] = y;
    }
  }
  return box;
}

TEST(Image, PngReadsBackPixelForPixel) {
  ScratchDir dir;
  Image image(40, 30, {10, 20, 30});
  image.fill_rect(5, 5, 15, 10, {200, 100, 50});
  image.save_png(dir.file("a.png"));
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load(dir.file("a.png").c_str(), &width, &height, &channels, 3);
  ASSERT_NE(pixels, nullptr);
  EXPECT_EQ(width, 40);
  EXPECT_EQ(height, 30);
  EXPECT_TRUE(std::equal(image.bytes().begin(), image.bytes().end(), pixels));
  stbi_image_free(pixels);
}

TEST(Image, RectIsClippedAndBlended) {
  Image image(10, 10);
  image.fill_rect(-5, -5, 3, 3, {0, 0, 0});
  image.fill_rect(5, 5, 20, 20, {0, 0, 0}, 0.5);
  EXPECT_EQ(image.at(0, 0), (Rgb{0, 0, 0}));
  EXPECT_EQ(image.at(3, 3), (Rgb{255, 255, 255}));
  EXPECT_EQ(image.at(9, 9), (Rgb{128, 128, 128}));
}

TEST(Image, CircleHasASolidCoreAndASoftEdge) {
  Image image(40, 40);
  image.fill_circle(20, 20, 8, {0, 0, 0});
  EXPECT_EQ(image.at(20, 20), (Rgb{0, 0, 0}));
  EXPECT_EQ(image.at(2, 2), (Rgb{255, 255, 255}));
  int partial = 0;
  for (int x = 0; x < 40; ++x) {
    const auto v = image.at(x, 19).r;
    partial += v > 0 && v < 255;
  }
  EXPECT_GE(partial, 2) << "edge pixels should be partly covered";
  const auto box = ink_box(image);
  EXPECT_GE(box[0], 11);
  EXPECT_LE(box[2], 28);
}

TEST(Image, LineCoversItsPathOnly) {
  Image image(50, 50);
  image.draw_line(5, 25, 45, 25, {0, 0, 0}, 2.0);
  EXPECT_LT(image.at(25, 24).r, 80);
  EXPECT_EQ(image.at(25, 10), (Rgb{255, 255, 255}));
  const auto box = ink_box(image);
  EXPECT_GE(box[0], 3);
  EXPECT_LE(box[2], 46);
}

TEST(Image, GrayDigitsAreScaled) {
  Image image(8, 8);
  const std::uint8_t gray[4] = {0, 255, 255, 0};
  image.draw_gray(0, 0, 2, 2, gray, 4);
  EXPECT_EQ(image.at(3, 3), (Rgb{0, 0, 0}));
  EXPECT_EQ(image.at(4, 3), (Rgb{255, 255, 255}));
  EXPECT_EQ(image.at(7, 7), (Rgb{0, 0, 0}));
}

TEST(Font, TextInksABoxOfTheMeasuredWidth) {
  const Font font = Font::load_default();
  Image image(200, 40);
  const double width = font.text_width("z[0] = -4.0", 16);
  EXPECT_GT(width, 60);
  EXPECT_LT(width, 120);
  font.draw(image, 10, 28, "z[0] = -4.0", 16, {0, 0, 0});
  const auto box = ink_box(image);
  EXPECT_GE(box[0], 9);
  EXPECT_LE(box[2], 10 + width + 1);
  EXPECT_GE(box[1], 10);
  EXPECT_LE(box[3], 32);
  Image centred(200, 40);
  font.draw(centred, 100, 28, "digit", 16, {0, 0, 0}, Anchor::kCenter);
  const auto middle = ink_box(centred);
  EXPECT_NEAR((middle[0] + middle[2]) / 2.0, 100, 3);
}

TEST(Font, VerticalTextIsTallerThanWide) {
  const Font font = Font::load_default();
  Image image(60, 200);
  font.draw_vertical(image, 30, 100, "z[1] axis", 16, {0, 0, 0});
  const auto box = ink_box(image);
  ASSERT_GE(box[0], 0);
  EXPECT_GT(box[3] - box[1], 2 * (box[2] - box[0]));
}

TEST(Font, MissingFontNamesThePackage) {
  setenv("VAE_CNN_FONT", "/nonexistent/font.ttf", 1);
  expect_throw_with<DataError>([] { Font::load_default(); }, {"/nonexistent/font.ttf", "fonts-dejavu-core"});
  unsetenv("VAE_CNN_FONT");
  ScratchDir dir;
  testing::write_bytes(dir.file("fake.ttf"), {1, 2, 3, 4});
  expect_throw_with<DataError>([&] { Font font(dir.file("fake.ttf")); }, {dir.file("fake.ttf"), "not a usable TrueType font"});
}

// stb_truetype reads wherever a font's table directory points; a cut or damaged file must be
// refused before it does (stb_truetype crashes on a truncated VAE_CNN_FONT).
TEST(Font, TruncatedOrDamagedFontFilesAreRefusedNamingTheFile) {
  const std::string real = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
  std::ifstream in(real, std::ios::binary);
  const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 700000u);
  ScratchDir dir;
  for (const std::size_t size : {std::size_t{10}, std::size_t{200}, std::size_t{100000}, std::size_t{600000},
                                 bytes.size() - 1}) {
    testing::write_bytes(dir.file("cut.ttf"), {bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(size)});
    expect_throw_with<DataError>([&] { Font font(dir.file("cut.ttf")); }, {dir.file("cut.ttf"), "truncated"});
  }
  std::vector<std::uint8_t> flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  testing::write_bytes(dir.file("flipped.ttf"), flipped);
  expect_throw_with<DataError>([&] { Font font(dir.file("flipped.ttf")); }, {dir.file("flipped.ttf"), "checksum"});
  Font whole(real);  // and the real file passes the same checks
  EXPECT_GT(whole.text_width("vae", 20), 0);
}

// Damage inside tables whose checksums are right again: the table directory check passes them, and
// stb_truetype would read wherever the damaged field points (far outside the file).
TEST(Font, OffsetsAndCountsInsideTablesAreCheckedBeforeStbTruetypeReadsThem) {
  using testing::DamagedFont;
  const DamagedFont real;
  const std::uint32_t cmap = real.table("cmap"), glyf = real.table("glyf"), loca = real.table("loca");
  const std::uint32_t glyphs = real.get16(real.table("maxp") + 4);
  ASSERT_EQ(real.get16(real.table("head") + 50), 1) << "DejaVu Sans' loca holds 32-bit offsets";
  // The Unicode map stb_truetype uses: the last (3,10) or (0,*) record, format 12 in DejaVu Sans.
  std::uint32_t unicode_map = 0;
  for (std::uint32_t i = 0; i < real.get16(cmap + 2); ++i) {
    const std::uint32_t record = cmap + 4 + 8 * i;
    const std::uint16_t platform = real.get16(record), encoding = real.get16(record + 2);
    if (platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10))) unicode_map = cmap + real.get32(record + 4);
  }
  ASSERT_EQ(real.get16(unicode_map), 12);
  // The first composite glyph, and the first simple one with an outline.
  std::uint32_t composite = 0, simple = 0;
  for (std::uint32_t g = 0; g < glyphs && (composite == 0 || simple == 0); ++g) {
    const std::uint32_t begin = real.get32(loca + 4 * g), end = real.get32(loca + 4 * g + 4);
    if (begin == end) continue;
    const auto contours = static_cast<std::int16_t>(real.get16(glyf + begin));
    if (contours < 0 && composite == 0) composite = g;
    if (contours > 0 && simple == 0) simple = g;
  }
  ASSERT_GT(composite, 0u);
  // DejaVu Sans kerns through GPOS pair adjustment by classes (lookup type 2, format 2).
  const std::uint32_t gpos = real.table("GPOS"), lookups = gpos + real.get16(gpos + 8);
  std::uint32_t class_pairs = 0;
  for (std::uint32_t i = 0; i < real.get16(lookups) && class_pairs == 0; ++i) {
    const std::uint32_t lookup = lookups + real.get16(lookups + 2 + 2 * i);
    const std::uint32_t subtable = lookup + real.get16(lookup + 6);
    if (real.get16(lookup) == 2 && real.get16(subtable) == 2) class_pairs = subtable;
  }
  ASSERT_GT(class_pairs, 0u);

  const struct {
    const char* what;
    std::function<void(DamagedFont&)> damage;
    std::string expected;
  } cases[] = {
      // The last character map record, (3,10), is the one stb_truetype takes.
      {"Unicode map far outside", [&](DamagedFont& f) { f.put32(cmap + 4 + 8 * 4 + 4, 0x7fff0000); },
       "table 'cmap' is read at bytes 2147418112"},
      {"map groups past the table", [&](DamagedFont& f) { f.put32(unicode_map + 12, 0x00ffffff); }, "table 'cmap' (its Unicode map) is read"},
      {"character to a glyph that is not there", [&](DamagedFont& f) { f.put32(unicode_map + 16 + 8, 60000); },
       "maps character"},
      {"loca far outside glyf", [&](DamagedFont& f) { f.put32(loca + 4 * 10, 0x7fff0000); }, "table 'loca' puts glyph 9"},
      {"unknown loca format", [&](DamagedFont& f) { f.put16(f.table("head") + 50, 7); }, "glyph index format 7"},
      {"more metrics than glyphs", [&](DamagedFont& f) { f.put16(f.table("hhea") + 34, 65535); }, "long horizontal metrics"},
      {"instructions past the glyph",
       [&](DamagedFont& f) {
         const std::uint32_t at = glyf + f.get32(loca + 4 * simple);
         f.put16(at + 10 + 2 * f.get16(at), 0xffff);
       },
       "glyph " + std::to_string(simple) + " is read at bytes"},
      {"composite made of itself",
       [&](DamagedFont& f) { f.put16(glyf + f.get32(loca + 4 * composite) + 12, static_cast<std::uint16_t>(composite)); },
       "glyph " + std::to_string(composite) + " is made of itself"},
      {"kern pairs past the table", [&](DamagedFont& f) { f.put16(f.table("kern") + 10, 0xffff); }, "table 'kern' is read"},
      {"GPOS class records past the table", [&](DamagedFont& f) { f.put16(class_pairs + 12, 0xffff); },
       "table 'GPOS' is read"},
  };
  ScratchDir dir;
  for (const auto& c : cases) {
    DamagedFont font;
    c.damage(font);
    font.save(dir.file("damaged.ttf"));
    SCOPED_TRACE(c.what);
    expect_throw_with<DataError>([&] { Font loaded(dir.file("damaged.ttf")); },
                                 {dir.file("damaged.ttf") + ": not a usable TrueType font: ", c.expected});
  }
  real.save(dir.file("undamaged.ttf"));  // checksums recomputed alike: the real font still loads
  Font whole(dir.file("undamaged.ttf"));
  EXPECT_GT(whole.text_width("vae", 20), 0);
}

TEST(LatentScatter, PointsLandInTheirColourAndOutsidersAreCounted) {
  const Font font = Font::load_default();
  std::vector<ScatterPoint> points;
  for (int i = 0; i < 40; ++i) points.push_back({0.0, 0.0, 3});  // a dense stack at the origin
  points.push_back({9.0, 0.0, 1});
  points.push_back({0.0, -5.0, 2});
  ScatterOptions options;
  options.title = "test";
  options.size = 400;
  int outside = -1;
  const Image image = latent_scatter(points, options, font, &outside);
  EXPECT_EQ(outside, 2);
  // The origin is the centre of the square plot area; 40 translucent layers reach the colour.
  const int left = static_cast<int>(400 / 50.0 * 4.5), top = static_cast<int>(400 / 50.0 * 3);
  const int plot = 400 - top - static_cast<int>(400 / 50.0 * 5.5);
  const Rgb centre = image.at(left + plot / 2, top + plot / 2);
  const Rgb expected = class_colour(3);
  EXPECT_NEAR(centre.r, expected.r, 3);
  EXPECT_NEAR(centre.g, expected.g, 3);
  EXPECT_NEAR(centre.b, expected.b, 3);
  // The legend shows all ten colours right of the plot.
  for (int label = 0; label < 10; ++label) {
    bool found = false;
    for (int y = 0; y < image.height() && !found; ++y) {
      for (int x = left + plot + 2; x < image.width() && !found; ++x) found = image.at(x, y) == class_colour(label);
    }
    EXPECT_TRUE(found) << "legend colour " << label;
  }
}

TEST(LatentScatter, AnnotationWritesTheDigitsBesideThePoints) {
  const Font font = Font::load_default();
  std::vector<ScatterPoint> points;
  for (int i = 0; i < 40; ++i) points.push_back({-3.5 + 0.17 * i, 3.0 - 0.15 * i, i % 10});
  ScatterOptions options;
  const Image plain = latent_scatter(points, options, font);
  options.annotate_every = 4;
  const Image labelled = latent_scatter(points, options, font);
  std::size_t changed = 0;
  for (std::size_t i = 0; i < plain.bytes().size(); ++i) changed += plain.bytes()[i] != labelled.bytes()[i];
  EXPECT_GT(changed, 10u * 20u) << "ten labels of a digit each";
  options.annotate_every = 1;
  const Image every = latent_scatter(points, options, font);
  std::size_t more = 0;
  for (std::size_t i = 0; i < plain.bytes().size(); ++i) more += plain.bytes()[i] != every.bytes()[i];
  EXPECT_GT(more, changed * 3);
}

TEST(LatentScatter, PaletteHasTenDistinctColours) {
  for (int a = 0; a < 10; ++a) {
    for (int b = a + 1; b < 10; ++b) EXPECT_FALSE(class_colour(a) == class_colour(b)) << a << " " << b;
  }
}

TEST(DigitManifold, CellsKeepTheirPlaceAndGreyLevel) {
  const Font font = Font::load_default();
  const int grid = 5;
  std::vector<std::uint8_t> digits(grid * grid * 784);
  for (int cell = 0; cell < grid * grid; ++cell) {
    std::fill(digits.begin() + cell * 784, digits.begin() + (cell + 1) * 784, static_cast<std::uint8_t>(cell * 10));
  }
  const Image image = digit_manifold(digits, ImageShape{}, grid, grid, 4.0, "manifold", font);
  // Find the grid by its black top-left cell (grey 0) and check each cell's centre.
  int left = -1, top = -1;
  for (int y = 0; y < image.height() && left < 0; ++y) {
    for (int x = 0; x < image.width(); ++x) {
      if (image.at(x, y) == Rgb{0, 0, 0} && image.at(x + 27, y + 27) == Rgb{0, 0, 0}) {
        left = x;
        top = y;
        break;
      }
    }
  }
  ASSERT_GE(left, 0);
  for (int row = 0; row < grid; ++row) {
    for (int col = 0; col < grid; ++col) {
      const auto v = static_cast<std::uint8_t>((row * grid + col) * 10);
      EXPECT_EQ(image.at(left + col * 28 + 14, top + row * 28 + 14), (Rgb{v, v, v})) << row << "," << col;
    }
  }
  EXPECT_THROW(digit_manifold(std::vector<std::uint8_t>(10), ImageShape{}, grid, grid, 4.0, "x", font), std::invalid_argument);
}

// A latent of one dimension has no z[1]: one row of digits, no second axis.
TEST(DigitManifold, OneDimensionIsOneRow) {
  const Font font = Font::load_default();
  const int grid = 5;
  const std::vector<std::uint8_t> row(grid * 784, 200);
  const Image one = digit_manifold(row, ImageShape{}, grid, 1, 4.0, "along z[0]", font);
  const Image plane = digit_manifold(std::vector<std::uint8_t>(grid * grid * 784, 200), ImageShape{}, grid, grid, 4.0, "plane", font);
  EXPECT_EQ(one.width(), plane.width());
  EXPECT_EQ(plane.height() - one.height(), (grid - 1) * 28);
  EXPECT_THROW(digit_manifold(row, ImageShape{}, grid, 2, 4.0, "x", font), std::invalid_argument);
}

// A colour digit of its own width and height: 3 planes (as image_bytes gives them) of 6 rows of 10.
std::vector<std::uint8_t> colour_digit(std::uint8_t red, std::uint8_t green, std::uint8_t blue) {
  std::vector<std::uint8_t> digit;
  for (const std::uint8_t level : {red, green, blue}) digit.insert(digit.end(), 6 * 10, level);
  return digit;
}

TEST(DigitManifold, DigitsOfAnyShapeLandInTheirCells) {
  const Font font = Font::load_default();
  const ImageShape shape{3, 6, 10};
  const int grid = 4;
  std::vector<std::uint8_t> digits;
  for (int cell = 0; cell < grid * grid; ++cell) {
    const auto level = static_cast<std::uint8_t>(cell * 15);
    const auto digit = colour_digit(level, static_cast<std::uint8_t>(255 - level), 7);
    digits.insert(digits.end(), digit.begin(), digit.end());
  }
  const Image image = digit_manifold(digits, shape, grid, grid, 4.0, "colour", font);
  for (int row = 0; row < grid; ++row) {
    for (int column = 0; column < grid; ++column) {
      const auto level = static_cast<std::uint8_t>((row * grid + column) * 15);
      const PixelPoint origin = manifold_cell(grid, row, column, shape);
      for (const auto& [x, y] : std::vector<std::pair<int, int>>{{0, 0}, {9, 5}}) {
        EXPECT_EQ(image.at(origin.x + x, origin.y + y), (Rgb{level, static_cast<std::uint8_t>(255 - level), 7}))
            << row << "," << column;
      }
    }
  }
  // The next cell starts one digit width to the right and one digit height down.
  EXPECT_EQ(manifold_cell(grid, 1, 1, shape).x - manifold_cell(grid, 0, 0, shape).x, 10);
  EXPECT_EQ(manifold_cell(grid, 1, 1, shape).y - manifold_cell(grid, 0, 0, shape).y, 6);
  expect_throw_with<std::invalid_argument>(
      [&] { digit_manifold(std::vector<std::uint8_t>(grid * grid * 2 * 60), ImageShape{2, 6, 10}, grid, grid, 4.0, "x", font); },
      {"[2, 6, 10]", "1 or 3 channels"});
}

// Each digit on its own row, 0 on top, when the latent has one dimension (there is no z[1] to draw).
TEST(LatentScatter, OneDimensionPutsEachDigitOnItsRow) {
  const Font font = Font::load_default();
  ScatterOptions options;
  options.rows_by_digit = true;
  std::vector<ScatterPoint> points;
  for (int i = 0; i < 200; ++i) points.push_back({0.5, 0.0, i % 2 == 0 ? 0 : 9});
  const Image image = latent_scatter(points, options, font);
  // The plot area's geometry (latent_scatter.cpp): text = size/50, top = 3 text, plot = size - 8.5 text.
  const double text = options.size / 50.0;
  const int top = static_cast<int>(text * 3), plot = options.size - top - static_cast<int>(text * 5.5);
  const int left = static_cast<int>(text * 4.5);
  const int column = static_cast<int>(left + (0.5 + options.range) / (2 * options.range) * plot);
  int inked_rows = 0;
  for (int y = top + 3; y < top + plot - 3; ++y) {
    const Rgb pixel = image.at(column, y);
    if (std::min({pixel.r, pixel.g, pixel.b}) >= 200) continue;  // white, or the light grid
    ++inked_rows;
    const double row = (y - top) * 10.0 / plot;
    EXPECT_TRUE(row < 1.0 || row > 9.0) << "ink at y " << y << " (row " << row << "), between the rows of 0 and 9";
  }
  EXPECT_GT(inked_rows, 10);
}

// A title longer than the picture is wide stays inside it, half a line from either edge.
TEST(Titles, ALongTitleStaysInsideThePicture) {
  const Font font = Font::load_default();
  Image image(300, 60);
  const double size = 20;
  draw_title(image, font, 150, 40, "vae_cnn " + std::string(120, 'W') + " weights: latent means", size);
  int leftmost = image.width(), rightmost = -1;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) {
      if (image.at(x, y) == Rgb{255, 255, 255}) continue;
      leftmost = std::min(leftmost, x);
      rightmost = std::max(rightmost, x);
    }
  }
  ASSERT_GE(rightmost, 0) << "nothing drawn";
  EXPECT_GE(leftmost, static_cast<int>(size * 0.5) - 1);
  EXPECT_LE(rightmost, image.width() - static_cast<int>(size * 0.5));
}

TEST(DigitManifold, AxisRunsFromMinusToPlusRange) {
  const auto axis = manifold_axis(30, 4.0);
  ASSERT_EQ(axis.size(), 30u);
  EXPECT_DOUBLE_EQ(axis.front(), -4.0);
  EXPECT_DOUBLE_EQ(axis.back(), 4.0);
  EXPECT_NEAR(axis[1] - axis[0], 8.0 / 29.0, 1e-12);
}

TEST(Image, TriangleFillsItsInsideOnly) {
  Image image(40, 40);
  image.fill_triangle(5, 5, 35, 5, 5, 35, {0, 0, 0});
  EXPECT_EQ(image.at(10, 10), (Rgb{0, 0, 0}));
  EXPECT_EQ(image.at(30, 30), (Rgb{255, 255, 255}));  // beyond the hypotenuse
  EXPECT_EQ(image.at(2, 20), (Rgb{255, 255, 255}));
  // The same triangle given clockwise fills the same pixels.
  Image reversed(40, 40);
  reversed.fill_triangle(5, 5, 5, 35, 35, 5, {0, 0, 0});
  EXPECT_EQ(image.bytes(), reversed.bytes());
}

int count_colour(const Image& image, Rgb colour) {
  int count = 0;
  for (int y = 0; y < image.height(); ++y) {
    for (int x = 0; x < image.width(); ++x) count += image.at(x, y) == colour;
  }
  return count;
}

TEST(LineChart, NiceTicksAreRoundAndCoverTheRange) {
  EXPECT_EQ(nice_ticks(52.3, 61.8, 6), (std::vector<double>{52, 54, 56, 58, 60, 62}));
  EXPECT_EQ(nice_ticks(1, 50, 8, 1.0), (std::vector<double>{0, 10, 20, 30, 40, 50}));
  EXPECT_EQ(nice_ticks(1, 1, 8, 1.0), (std::vector<double>{0, 1, 2}));
  const auto small = nice_ticks(0.012, 0.049, 5);
  ASSERT_GE(small.size(), 3u);
  EXPECT_LE(small.front(), 0.012);
  EXPECT_GE(small.back(), 0.049);
  EXPECT_NEAR(small[1] - small[0], 0.01, 1e-12);
}

TEST(LineChart, EverySeriesIsDrawnInItsColour) {
  const Font font = Font::load_default();
  const Rgb red{200, 30, 30}, blue{30, 30, 200};
  ChartOptions options;
  options.title = "loss";
  const Image chart = line_chart({1, 2, 3, 4}, {{"train", red, {60, 55, 53, 52}}, {"validation", blue, {58, 56, NAN, 54}}},
                                 options, font);
  EXPECT_EQ(chart.width(), options.width);
  EXPECT_GT(count_colour(chart, red), 200);
  EXPECT_GT(count_colour(chart, blue), 100);
  EXPECT_THROW(line_chart({1, 2}, {{"short", red, {1}}}, options, font), std::invalid_argument);
  EXPECT_THROW(line_chart({}, {}, options, font), std::invalid_argument);
}

// A history of 2 million epochs drawn as a line and a marker per epoch would take most of a minute:
// what is drawn is bounded by the chart's width, and keeps the peaks and the gaps.
TEST(LineChart, AMillionPointsAreDrawnAsABoundedEnvelopeThatKeepsPeaksAndGaps) {
  const std::size_t n = 2000000;
  std::vector<double> x(n), values(n);
  for (std::size_t i = 0; i < n; ++i) {
    x[i] = static_cast<double>(i + 1);
    values[i] = 100.0 / (1.0 + 1e-4 * static_cast<double>(i));
  }
  values[777777] = 500.0;
  values[1500000] = NAN;
  const auto points = points_to_draw(x, values, 800);
  EXPECT_LE(points.size(), 5u * 800);
  const auto has = [&](double px, bool gap) {
    return std::any_of(points.begin(), points.end(), [&](const ChartPoint& p) {
      return p.x == px && (gap ? std::isnan(p.y) : p.y == values[static_cast<std::size_t>(px) - 1]);
    });
  };
  EXPECT_TRUE(has(777778, false)) << "the peak";
  EXPECT_TRUE(has(1500001, true)) << "the gap";
  EXPECT_TRUE(has(1, false) && has(static_cast<double>(n), false)) << "both ends";
  const std::vector<double> few_x{1, 2, 3}, few{3, NAN, 1};
  const auto all = points_to_draw(few_x, few, 800);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_TRUE(std::isnan(all[1].y));
  // The chart itself draws the envelope of the 2 million points.
  ChartOptions options;
  options.x_min_step = 1;
  const Image chart = line_chart(x, {{"loss", {200, 0, 0}, values}}, options, Font::load_default());
  EXPECT_EQ(chart.width(), options.width);
}

TEST(DigitGrid, CellsLandAtTheirOriginsScaled) {
  const Font font = Font::load_default();
  const std::vector<std::string> titles{"test", "decoded"};
  DigitGridLayout layout;
  layout.columns = 3;
  std::vector<std::uint8_t> digits(2 * 3 * 784);
  for (int cell = 0; cell < 6; ++cell) {
    std::fill(digits.begin() + cell * 784, digits.begin() + (cell + 1) * 784, static_cast<std::uint8_t>(40 * cell));
  }
  const Image image = digit_grid(digits, titles, "pairs", layout, font);
  EXPECT_EQ(layout.digit, ImageShape{});
  for (int row = 0; row < 2; ++row) {
    for (int column = 0; column < 3; ++column) {
      const PixelPoint origin = digit_grid_cell(titles, layout, font, row, column);
      const auto v = static_cast<std::uint8_t>(40 * (row * 3 + column));
      EXPECT_EQ(image.at(origin.x, origin.y), (Rgb{v, v, v})) << row << "," << column;
      EXPECT_EQ(image.at(origin.x + 55, origin.y + 55), (Rgb{v, v, v})) << row << "," << column;
    }
  }
  // The row titles sit left of the first column.
  const PixelPoint first = digit_grid_cell(titles, layout, font, 0, 0);
  EXPECT_GT(first.x, static_cast<int>(font.text_width("decoded", 16)));
  EXPECT_THROW(digit_grid(std::vector<std::uint8_t>(784), titles, "x", layout, font), std::invalid_argument);
}

TEST(DigitGrid, ColourDigitsOfTheirOwnShapeAreDrawnScaled) {
  const Font font = Font::load_default();
  DigitGridLayout layout;
  layout.columns = 2;
  layout.digit = ImageShape{3, 6, 10};
  auto digits = colour_digit(200, 100, 50);
  const auto second = colour_digit(10, 20, 30);
  digits.insert(digits.end(), second.begin(), second.end());
  const Image image = digit_grid(digits, {"row"}, "colour", layout, font);
  for (int column = 0; column < 2; ++column) {
    const PixelPoint origin = digit_grid_cell({"row"}, layout, font, 0, column);
    const Rgb expected = column == 0 ? Rgb{200, 100, 50} : Rgb{10, 20, 30};
    EXPECT_EQ(image.at(origin.x, origin.y), expected) << column;
    EXPECT_EQ(image.at(origin.x + 10 * layout.scale - 1, origin.y + 6 * layout.scale - 1), expected) << column;
  }
  EXPECT_EQ(digit_grid_cell({"row"}, layout, font, 0, 1).x - digit_grid_cell({"row"}, layout, font, 0, 0).x,
            10 * layout.scale + layout.gap);
  expect_throw_with<std::invalid_argument>([&] { digit_grid(digits, {"row", "more"}, "x", layout, font); },
                                           {"digits of shape [3, 6, 10]", "360 bytes"});
}

// A digit's own PNG: grey as the model's bytes are, colour with each pixel's channels together.
TEST(DigitPixels, PngsOfGreyAndColourDigitsReadBack) {
  std::vector<std::uint8_t> grey(784);
  for (std::size_t i = 0; i < grey.size(); ++i) grey[i] = static_cast<std::uint8_t>(i % 251);
  EXPECT_EQ(encode_digit_png(ImageShape{}, grey), encode_png(28, 28, 1, grey));
  // Red rises along x, green along y, blue is constant: planes in, interleaved RGB out.
  const ImageShape shape{3, 6, 10};
  std::vector<std::uint8_t> planes(static_cast<std::size_t>(shape.numel()));
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 10; ++x) {
      planes[static_cast<std::size_t>(y * 10 + x)] = static_cast<std::uint8_t>(20 * x);
      planes[static_cast<std::size_t>(60 + y * 10 + x)] = static_cast<std::uint8_t>(30 * y);
      planes[static_cast<std::size_t>(120 + y * 10 + x)] = 77;
    }
  }
  ScratchDir dir;
  write_digit_png(dir.file("colour.png"), shape, planes);
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load(dir.file("colour.png").c_str(), &width, &height, &channels, 0);
  ASSERT_NE(pixels, nullptr);
  EXPECT_EQ(width, 10);
  EXPECT_EQ(height, 6);
  EXPECT_EQ(channels, 3);
  for (int y = 0; y < 6; ++y) {
    for (int x = 0; x < 10; ++x) {
      const unsigned char* pixel = pixels + (y * 10 + x) * 3;
      EXPECT_EQ((std::vector<int>{pixel[0], pixel[1], pixel[2]}), (std::vector<int>{20 * x, 30 * y, 77})) << x << "," << y;
    }
  }
  stbi_image_free(pixels);
  EXPECT_THROW(encode_digit_png(shape, grey), std::invalid_argument);
  EXPECT_THROW(encode_digit_png(ImageShape{4, 6, 10}, std::vector<std::uint8_t>(240)), std::invalid_argument);
}

TEST(LayerGraph, DotStacksTheBoxesWithArrowsBetween) {
  const Font font = Font::load_default();
  LayerGraph graph;
  graph.title = "chain";
  graph.boxes = {{"input: Input", {"output: (None, 4)"}}, {"dense: Linear", {"input: (None, 4)", "output: (None, 2)"}},
                 {"out: Sigmoid", {"output: (None, 2)"}}};
  graph.edges = {{0, 1}, {1, 2}};
  const Image image = draw_layer_graph(graph, font);
  EXPECT_GT(image.height(), image.width()) << "a chain is laid out top to bottom";
  // Three bands of rows holding the heading fill, one per box, and arrow ink in each gap between them.
  int headings = 0, gaps_with_ink = 0;
  bool in_heading = false, gap_has_ink = false;
  for (int y = 0; y < image.height(); ++y) {
    bool heading = false, ink = false;
    for (int x = 0; x < image.width(); ++x) {
      heading = heading || image.at(x, y) == Rgb{208, 222, 242};
      ink = ink || image.at(x, y) == Rgb{40, 40, 40};
    }
    if (heading && !in_heading) {
      gaps_with_ink += headings > 0 && gap_has_ink;
      ++headings;
    }
    if (!heading && in_heading) gap_has_ink = false;
    gap_has_ink = gap_has_ink || (!heading && ink);
    in_heading = heading;
  }
  EXPECT_EQ(headings, 3);
  EXPECT_EQ(gaps_with_ink, 2);
  graph.edges.push_back({2, 7});
  EXPECT_THROW(draw_layer_graph(graph, font), std::invalid_argument);
}

}  // namespace
}  // namespace vae_cnn
