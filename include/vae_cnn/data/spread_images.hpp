// A few images spread evenly over a split: image folders list a split a class at a time, so its
// first images would all be of the first classes.
#pragma once

#include <cstdint>

#include "vae_cnn/data/dataset.hpp"

namespace vae_cnn {

/// Images floor(i·N/count) for i = 0..count-1 of `data`'s N, with their labels (all of them when
/// count is not below N).
Dataset spread_images(const Dataset& data, std::int64_t count);

}  // namespace vae_cnn
