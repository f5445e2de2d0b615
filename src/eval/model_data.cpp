#include "vae_cnn/eval/model_data.hpp"

#include "vae_cnn/errors.hpp"

namespace vae_cnn {

DataOptions data_options_for(const ImageShape& shape, const WeightsMetadata& metadata) {
  DataOptions options;
  options.channels = shape.channels;
  // Resizing makes squares only; a model of another shape was trained on images of that size.
  if (shape.height == shape.width) options.image_size = shape.height;
  options.test_fraction = metadata.test_fraction;
  return options;
}

void check_images_fit(const std::string& path, const Dataset& data, const ImageShape& shape) {
  if (!data.pixels.defined() || data.size() == 0) return;
  const ImageShape found{data.pixels.size(1), data.pixels.size(2), data.pixels.size(3)};
  if (found != shape) {
    throw DataError(path, "holds images of shape " + to_string(found) + ", but the model takes " + to_string(shape));
  }
}

Dataset load_split_for(const std::string& path, Split split, const ImageShape& shape, const WeightsMetadata& metadata) {
  Dataset data = load_split(path, split, data_options_for(shape, metadata));
  check_images_fit(path, data, shape);
  return data;
}

SplitSample load_split_sample_for(const std::string& path, Split split, const std::vector<std::int64_t>& indices,
                                  const ImageShape& shape, const WeightsMetadata& metadata) {
  SplitSample sample = load_split_sample(path, split, indices, data_options_for(shape, metadata));
  check_images_fit(path, sample.images, shape);
  return sample;
}

}  // namespace vae_cnn
