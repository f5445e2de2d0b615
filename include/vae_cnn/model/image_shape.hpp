// The size of the images a model reads and draws. Every layer above the model (weights files,
// pictures, the server) asks the model for it instead of assuming MNIST's 1×28×28.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// One image: channels × height × width. The default is the seed's: a 28×28 grey digit.
struct ImageShape {
  std::int64_t channels = 1;  ///< 1 grey, 3 RGB
  std::int64_t height = 28;
  std::int64_t width = 28;

  /// Values in one image, channels × height × width: its bytes as image_bytes gives them.
  std::int64_t numel() const { return channels * height * width; }
  /// [channels, height, width], as weights files record it.
  std::vector<std::int64_t> sizes() const { return {channels, height, width}; }
  /// [n, channels, height, width]: a batch of n images.
  std::vector<std::int64_t> batch(std::int64_t n) const { return {n, channels, height, width}; }

  bool operator==(const ImageShape& other) const {
    return channels == other.channels && height == other.height && width == other.width;
  }
  bool operator!=(const ImageShape& other) const { return !(*this == other); }
};

/// "[1, 28, 28]": the shape as a list, the way weights files and Python show it.
inline std::string to_string(const ImageShape& shape) {
  return "[" + std::to_string(shape.channels) + ", " + std::to_string(shape.height) + ", " +
         std::to_string(shape.width) + "]";
}

}  // namespace vae_cnn
