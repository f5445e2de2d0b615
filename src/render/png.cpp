// stb_image_write is a single-header library: this file holds its implementation for the project.
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBI_WRITE_NO_STDIO  // we write through write_file_atomically, never straight to a FILE*
#include <stb_image_write.h>

#include <stdexcept>

#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/render/png.hpp"

namespace vae_cnn {
namespace {

extern "C" void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<std::uint8_t>*>(context);
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

}  // namespace

std::vector<std::uint8_t> encode_png(int width, int height, int channels, const std::vector<std::uint8_t>& pixels) {
  if (width <= 0 || height <= 0 || (channels != 1 && channels != 3 && channels != 4) ||
      pixels.size() != static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * static_cast<std::size_t>(channels)) {
    throw std::invalid_argument("encode_png: " + std::to_string(pixels.size()) + " bytes do not make a " +
                                std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(channels) +
                                " image");
  }
  std::vector<std::uint8_t> png;
  const int ok = stbi_write_png_to_func(append_bytes, &png, width, height, channels, pixels.data(), width * channels);
  if (ok == 0 || png.empty()) throw std::runtime_error("stb_image_write could not encode a PNG");
  return png;
}

void write_png(const std::string& path, int width, int height, int channels, const std::vector<std::uint8_t>& pixels) {
  write_file_atomically(path, encode_png(width, height, channels, pixels));
}

}  // namespace vae_cnn
