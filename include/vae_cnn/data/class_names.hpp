// The names of classes that come as numbers (IDX files, NumPy archives, MNIST's digits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"

namespace vae_cnn {

/// "0".."count-1".
std::vector<std::string> numbered_class_names(std::int64_t count);

/// "0" up to the largest label either split of `data` holds.
std::vector<std::string> numbered_class_names_of(const DataSplits& data);

}  // namespace vae_cnn
