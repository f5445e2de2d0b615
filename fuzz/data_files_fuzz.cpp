// The readers of the user's own data on arbitrary bytes: an image file's header and pixels (stb_image
// behind our checks), one .npy entry, and a whole .npz archive (libzip behind our checks). Each must
// return or throw DataError, never crash, read out of bounds, or allocate what a header merely
// claims.
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "fuzz_input_file.hpp"
#include "vae_cnn/data/image_convert.hpp"
#include "vae_cnn/data/image_decode.hpp"
#include "vae_cnn/data/npy_array.hpp"
#include "vae_cnn/data/npz_archive.hpp"
#include "vae_cnn/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    const vae_cnn::PixelGrid header = vae_cnn::read_image_header("fuzz.png", bytes);
    if (header.width * header.height > vae_cnn::kMaxDecodedPixels) std::abort();
    const std::vector<std::uint8_t> pixels = vae_cnn::decode_image("fuzz.png", bytes, header);
    if (pixels.size() != static_cast<std::size_t>(header.width * header.height * header.channels)) std::abort();
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("image", error.what());
  }
  try {
    const std::vector<std::uint8_t> entry(data, data + size);
    const vae_cnn::NpyArray array = vae_cnn::parse_npy("fuzz.npz", "x_train.npy", entry);
    // Every value it promises lies inside the bytes it was given.
    const std::size_t end = static_cast<std::size_t>(array.data - entry.data()) + array.count * array.item_size;
    if (array.count > 0 && end > entry.size()) std::abort();
    if (array.count > 0) (void)array.value(array.count - 1);
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("parse_npy", error.what());
  }
  try {
    const vae_cnn::fuzzing::FuzzInputFile file(data, size);
    const vae_cnn::DataSplits splits = vae_cnn::load_npz(file.path(), {});
    if (splits.train.pixels.size(0) != splits.train.labels.size(0)) std::abort();
  } catch (const vae_cnn::DataError&) {
  } catch (const vae_cnn::OptionError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("load_npz", error.what());
  }
  return 0;
}
