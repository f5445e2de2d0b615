// Many images into one uint8 [N,C,H,W] tensor, decoded and converted in parallel on LibTorch's
// intra-op threads.
#pragma once

#include <cstdint>
#include <vector>

#include "vae_cnn/data/data_options.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/data/image_convert.hpp"
#include "vae_cnn/data/image_folder.hpp"
#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// The shape every image of `listing` (both splits) loads as, from their headers alone (each file is
/// read, none decoded): image_size² or the images' own size, which must be the same for all and at
/// most max_image_side; `options.channels`, or 3 when any image has colour, else 1. Throws DataError
/// naming the file (and, for sizes that differ, the first image too).
PixelGrid probe_image_folder(const ImageFolderListing& listing, const DataOptions& options);

/// The images `entries` decoded into `shape` (probe_image_folder's) with their labels; adds the
/// images resized to `*resized`. The error of the first file in `entries` that fails is thrown,
/// whichever thread met it first.
Dataset decode_image_entries(const std::vector<ImageEntry>& entries, const PixelGrid& shape,
                             const DataOptions& options, std::int64_t* resized);

/// `count` images laid out one after another as `grid` ([N,H,W,C] bytes, as IDX and NumPy hold
/// them) as [N,C,H,W] pixels with the channels and size `options` asks; adds the images resized to
/// `*resized`.
torch::Tensor shape_pixels(const std::uint8_t* images, std::int64_t count, const PixelGrid& grid,
                           const DataOptions& options, std::int64_t* resized);

}  // namespace vae_cnn
