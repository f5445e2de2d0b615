// The IDX reader (raw and gzip, recognised by content) on arbitrary bytes: it must return or throw
// DataError, never crash, read out of bounds, overflow or allocate what the header merely claims.
#include <cstdint>
#include <exception>

#include "fuzz_input_file.hpp"
#include "vae_cnn/data/idx_file.hpp"
#include "vae_cnn/errors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const vae_cnn::fuzzing::FuzzInputFile file(data, size);
  try {
    const vae_cnn::IdxImages images = vae_cnn::read_idx_images(file.path());
    if (images.pixels.size() != std::size_t{images.count} * images.rows * images.cols) std::abort();
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("read_idx_images", error.what());
  }
  try {
    const std::vector<std::uint8_t> labels = vae_cnn::read_idx_labels(file.path());
    for (const std::uint8_t label : labels) {
      if (label >= vae_cnn::kNumClasses) std::abort();
    }
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("read_idx_labels", error.what());
  }
  // The streamed reader of a few images (interpolate's) must agree with the whole read.
  try {
    const vae_cnn::IdxImages some = vae_cnn::read_idx_images_at(file.path(), {0, 3, 1});
    std::size_t asked_in_file = 0;
    for (const std::uint64_t index : {0, 3, 1}) asked_in_file += index < some.count;
    if (some.pixels.size() != asked_in_file * some.rows * some.cols) std::abort();
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("read_idx_images_at", error.what());
  }
  return 0;
}
