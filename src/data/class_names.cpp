#include "vae_cnn/data/class_names.hpp"

#include <algorithm>

namespace vae_cnn {

std::vector<std::string> numbered_class_names(std::int64_t count) {
  std::vector<std::string> names;
  for (std::int64_t k = 0; k < count; ++k) names.push_back(std::to_string(k));
  return names;
}

std::vector<std::string> numbered_class_names_of(const DataSplits& data) {
  std::int64_t largest = -1;
  for (const Dataset* split : {&data.train, &data.test}) {
    if (split->size() > 0) largest = std::max(largest, split->labels.max().item<std::int64_t>());
  }
  return numbered_class_names(largest + 1);
}

}  // namespace vae_cnn
