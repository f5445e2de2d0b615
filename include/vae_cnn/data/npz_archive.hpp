// NumPy archives (.npz) of x_train, y_train, x_test, y_test: Keras' mnist.npz and anything saved
// like it with np.savez or np.savez_compressed.
#pragma once

#include <string>

#include "vae_cnn/data/data_options.hpp"
#include "vae_cnn/data/dataset.hpp"

namespace vae_cnn {

/// Loads both splits of the archive `path`: x_train and x_test uint8 (or another integer type
/// holding 0..255) shaped [N,H,W] or [N,H,W,C] with C 1 to 4, the same H, W and C in both;
/// y_train and y_test integers 0..65535 shaped [N] or [N,1], or both absent (unlabelled). Class
/// names "0".."K-1" for K = the largest label + 1. Throws DataError naming the archive, the entry
/// and the fault.
DataSplits load_npz(const std::string& path, const DataOptions& options);

/// One split of the archive `path`, checked and shaped as load_npz does; adds to `*resized`.
Dataset load_npz_split(const std::string& path, Split split, const DataOptions& options, std::int64_t* resized = nullptr);

}  // namespace vae_cnn
