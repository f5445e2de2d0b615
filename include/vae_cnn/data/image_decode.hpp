// Image files (PNG, JPEG, BMP, PGM/PPM) read through stb_image, their headers checked before any
// pixel is decoded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/data/image_convert.hpp"

namespace vae_cnn {

/// Sides and pixel counts an image header may declare: a 100 KB PNG can declare 100,000² pixels,
/// 10 GB once decoded, so larger headers are refused before decoding.
constexpr std::int64_t kMaxDecodedSide = 16384;
constexpr std::int64_t kMaxDecodedPixels = std::int64_t{1} << 26;
/// An image file larger than this is refused unread.
constexpr std::uint64_t kMaxImageFileBytes = std::uint64_t{1} << 28;

/// Whether a file name is an image's by its extension (.png, .jpg, .jpeg, .bmp, .pgm, .ppm, .pnm,
/// any case): the files image folders read; others are passed over and counted.
bool is_image_file_name(const std::string& name);

/// The size and channels the encoded image `bytes` (the file `path`) declares, read without
/// decoding; throws DataError naming `path` when stb_image cannot read the header or the header
/// declares more than kMaxDecodedSide on a side or kMaxDecodedPixels in all.
PixelGrid read_image_header(const std::string& path, const std::string& bytes);

/// The image `bytes` decoded as [H,W,C] bytes with the channels `header` (read_image_header's)
/// gives; throws DataError naming `path` when it cannot be decoded or decodes to another size.
std::vector<std::uint8_t> decode_image(const std::string& path, const std::string& bytes, const PixelGrid& header);

}  // namespace vae_cnn
