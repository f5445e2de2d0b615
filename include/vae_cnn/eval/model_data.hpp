// The data a trained model reads: its images shaped as the model takes them, its test split the one
// it was validated on. Every command that reads weights and data loads through here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/data/data_options.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/model/image_shape.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

/// The options that load a data set as a model of `shape` takes it: its channels, its side when
/// square (a non-square model keeps the data's own size), and the test share it was trained with.
DataOptions data_options_for(const ImageShape& shape, const WeightsMetadata& metadata);

/// Throws DataError naming `path` unless the images of `data` have `shape`.
void check_images_fit(const std::string& path, const Dataset& data, const ImageShape& shape);

/// One split of the data at `path` as the model of `shape` takes it.
Dataset load_split_for(const std::string& path, Split split, const ImageShape& shape, const WeightsMetadata& metadata);

/// Some images of one split (interpolate's two), as the model of `shape` takes them.
SplitSample load_split_sample_for(const std::string& path, Split split, const std::vector<std::int64_t>& indices,
                                  const ImageShape& shape, const WeightsMetadata& metadata);

}  // namespace vae_cnn
