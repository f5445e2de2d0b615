// PNG output through stb_image_write, checked and atomic.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// Encodes `pixels` (rows top to bottom, `channels` bytes per pixel: 1 grey, 3 RGB) as PNG bytes;
/// throws std::runtime_error if stb refuses.
std::vector<std::uint8_t> encode_png(int width, int height, int channels, const std::vector<std::uint8_t>& pixels);

/// Writes a PNG atomically; throws WriteError naming the file.
void write_png(const std::string& path, int width, int height, int channels, const std::vector<std::uint8_t>& pixels);

}  // namespace vae_cnn
