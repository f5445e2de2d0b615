// The in-memory data set: IDX files turned into tensors, and the folder layout they live in.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>
#include <vector>

namespace vae_cnn {

/// One split of a data set.
struct Dataset {
  torch::Tensor images;  ///< [N,1,28,28] float32 in [0,1]
  torch::Tensor labels;  ///< [N] int64 in 0..9
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }
};

/// A file a data folder was read from.
struct DataFileChoice {
  std::string path;
  bool gzip_ignored = false;  ///< both `stem` and `stem.gz` were there; the raw file won
};

/// Both splits of a data folder and the data set's name (the folder's name, e.g. "mnist").
struct DataSplits {
  std::string name;
  Dataset train;
  Dataset test;
  std::vector<DataFileChoice> files;  ///< the four files read, in the order read
};

enum class Split { kTrain, kTest };

/// Which file of `directory` holds `stem` (e.g. "train-images-idx3-ubyte"): the raw file if present,
/// else `stem.gz`; throws DataError when neither exists. `raw_won_over_gzip` tells when both did.
std::string locate_idx_file(const std::string& directory, const std::string& stem, bool* raw_won_over_gzip = nullptr);

/// Loads an image file and its label file; the counts must agree. Throws ResourceError naming the
/// image file when memory runs out holding it.
Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path);

/// Loads one split of a data folder holding the four standard IDX files; appends the files read
/// to `chosen` when given.
Dataset load_split(const std::string& directory, Split split, std::vector<DataFileChoice>* chosen = nullptr);

/// Some images of a split and the split's size.
struct SplitSample {
  Dataset images;               ///< the images asked for whose index is in the split, in the order asked
  std::int64_t split_size = 0;  ///< images in the split
};

/// The images `indices` of one split of a data folder with their labels, streamed from the files:
/// memory for those images only, however large the split, while every file is checked as
/// load_split checks it (what `interpolate` needs: two test images).
SplitSample load_split_sample(const std::string& directory, Split split, const std::vector<std::int64_t>& indices);

/// Loads both splits of a data folder.
DataSplits load_data_dir(const std::string& directory);

/// The data set's name as weights and pictures call it: the folder's last component.
std::string dataset_name(const std::string& directory);

/// The data folder a command reads for weights trained on `dataset`: `given`, or data/<dataset>
/// when empty (where scripts/fetch_data.sh puts each data set).
std::string data_dir_for(const std::string& dataset, const std::string& given);

}  // namespace vae_cnn
