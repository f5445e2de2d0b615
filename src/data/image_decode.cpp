// stb_image behind checks: the header first, against limits, then the pixels.
#include "vae_cnn/data/image_decode.hpp"

#include <stb_image.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

constexpr const char* kImageKinds = "PNG, JPEG, BMP, PGM or PPM";

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string failure_reason() {
  const char* reason = stbi_failure_reason();
  return reason != nullptr ? reason : "unknown fault";
}

int byte_count(const std::string& path, const std::string& bytes) {
  if (bytes.size() > static_cast<std::size_t>(INT_MAX)) {
    throw DataError(path, "holds " + std::to_string(bytes.size()) + " bytes, more than an image file may");
  }
  return static_cast<int>(bytes.size());
}

std::string size_text(std::int64_t width, std::int64_t height) {
  return std::to_string(width) + "x" + std::to_string(height);
}

}  // namespace

bool is_image_file_name(const std::string& name) {
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return false;
  const std::string extension = lower(name.substr(dot + 1));
  for (const char* known : {"png", "jpg", "jpeg", "bmp", "pgm", "ppm", "pnm"}) {
    if (extension == known) return true;
  }
  return false;
}

PixelGrid read_image_header(const std::string& path, const std::string& bytes) {
  int width = 0;
  int height = 0;
  int channels = 0;
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  if (stbi_info_from_memory(data, byte_count(path, bytes), &width, &height, &channels) == 0) {
    throw DataError(path, "cannot be read as an image (" + failure_reason() + "); expected " + kImageKinds);
  }
  const std::int64_t pixels = std::int64_t{width} * height;
  if (width > kMaxDecodedSide || height > kMaxDecodedSide || pixels > kMaxDecodedPixels) {
    throw DataError(path, "its header declares " + size_text(width, height) + " pixels; images above " +
                              std::to_string(kMaxDecodedSide) + " on a side or " + std::to_string(kMaxDecodedPixels) +
                              " pixels in all are refused undecoded");
  }
  if (width < 1 || height < 1 || channels < 1 || channels > 4) {
    throw DataError(path, "its header declares " + size_text(width, height) + " pixels of " +
                              std::to_string(channels) + " channels; expected at least 1x1 of 1 to 4");
  }
  return {width, height, channels};
}

std::vector<std::uint8_t> decode_image(const std::string& path, const std::string& bytes, const PixelGrid& header) {
  int width = 0;
  int height = 0;
  int channels = 0;
  const auto* data = reinterpret_cast<const stbi_uc*>(bytes.data());
  const auto wanted = static_cast<int>(header.channels);
  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
      stbi_load_from_memory(data, byte_count(path, bytes), &width, &height, &channels, wanted), stbi_image_free);
  if (!pixels) throw DataError(path, "cannot be decoded (" + failure_reason() + "); expected a whole " + kImageKinds);
  if (width != header.width || height != header.height) {
    throw DataError(path, "decodes to " + size_text(width, height) + " pixels, but its header declares " +
                              size_text(header.width, header.height));
  }
  const std::size_t size = static_cast<std::size_t>(width) * height * header.channels;
  return std::vector<std::uint8_t>(pixels.get(), pixels.get() + size);
}

}  // namespace vae_cnn
