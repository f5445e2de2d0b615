// How a data set's images are shaped on loading: their size and colour, and the test split held
// out of a folder that has none.
#pragma once

#include <cstdint>

namespace vae_cnn {

/// Settings of load_data, named by field in the OptionErrors that refuse them.
struct DataOptions {
  /// 0: the data's own size (every image must have it); else every image becomes N×N, area-averaged
  /// when shrinking (stretched, not cropped, when it is not square).
  std::int64_t image_size = 0;
  /// 0: the data's own (image folders: 3 if any image is colour, else 1); 1 grey or 3 RGB.
  std::int64_t channels = 0;
  /// The share of each class held out as the test split of a folder without train/ and test/.
  double test_fraction = 1.0 / 6;
  /// Without image_size, images with a side above this are refused rather than loaded.
  std::int64_t max_image_side = 256;
};

/// Throws OptionError naming the first field outside its bounds: image_size 0..16384, channels
/// 0, 1 or 3, test_fraction in (0, 1), max_image_side 1..16384.
void validate(const DataOptions& options);

}  // namespace vae_cnn
