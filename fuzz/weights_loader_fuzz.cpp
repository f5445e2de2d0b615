// The weights and checkpoint loaders on arbitrary bytes: each must return a usable model or throw
// DataError naming the file. The unpickler itself is LibTorch's (not instrumented); what this
// explores is everything of ours around it, and whatever LibTorch lets through to us. Most of its
// inputs stop at the zip's CRC check: weights_structure_fuzz.cpp reaches behind it.
#include "exercise_loaders.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vae_cnn::fuzzing::exercise_loaders(data, size);
  return 0;
}
