// The bounds of DataOptions, checked before any file is read.
#include "vae_cnn/data/data_options.hpp"

#include <string>

#include "vae_cnn/data/image_decode.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/number_text.hpp"

namespace vae_cnn {

void validate(const DataOptions& options) {
  if (options.image_size < 0 || options.image_size > kMaxDecodedSide) {
    throw OptionError("image_size", std::to_string(options.image_size),
                      "between 0 and " + std::to_string(kMaxDecodedSide) + " (0: the images' own size)");
  }
  if (options.channels != 0 && options.channels != 1 && options.channels != 3) {
    throw OptionError("channels", std::to_string(options.channels), "0, 1 or 3 (0: the images' own)");
  }
  if (!(options.test_fraction > 0 && options.test_fraction < 1)) {
    throw OptionError("test_fraction", short_number(options.test_fraction), "above 0 and below 1");
  }
  if (options.max_image_side < 1 || options.max_image_side > kMaxDecodedSide) {
    throw OptionError("max_image_side", std::to_string(options.max_image_side),
                      "between 1 and " + std::to_string(kMaxDecodedSide));
  }
}

}  // namespace vae_cnn
