// The canvas: shapes land where asked with soft edges, text inks its box, PNGs read back exactly.
#define STB_IMAGE_IMPLEMENTATION
#include <stb_image.h>

#include <cstdlib>

#include "test_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/render/font.hpp"
#include "vae_cnn/render/digit_manifold.hpp"
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
  expect_throw_with<DataError>([&] { Font font(dir.file("fake.ttf")); }, {dir.file("fake.ttf"), "not a TrueType font"});
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
  const Image image = digit_manifold(digits, grid, 4.0, "manifold", font);
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
  EXPECT_THROW(digit_manifold(std::vector<std::uint8_t>(10), grid, 4.0, "x", font), std::invalid_argument);
}

TEST(DigitManifold, AxisRunsFromMinusToPlusRange) {
  const auto axis = manifold_axis(30, 4.0);
  ASSERT_EQ(axis.size(), 30u);
  EXPECT_DOUBLE_EQ(axis.front(), -4.0);
  EXPECT_DOUBLE_EQ(axis.back(), 4.0);
  EXPECT_NEAR(axis[1] - axis[0], 8.0 / 29.0, 1e-12);
}

}  // namespace
}  // namespace vae_cnn
