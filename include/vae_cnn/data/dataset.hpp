// The in-memory data set: IDX files, image folders or a NumPy archive turned into tensors, and the
// layouts they live in.
#pragma once

#include "vae_cnn/data/data_options.hpp"
#include "vae_cnn/torch_api.hpp"

#include <string>
#include <vector>

namespace vae_cnn {

/// One split of a data set, held as the files store it (one byte per pixel: 60,000 MNIST digits take
/// 47 MB, not 188 as float32) and turned into the model's float32 per batch.
struct Dataset {
  torch::Tensor pixels;  ///< [N,C,H,W] uint8, 0 = black .. 255
  torch::Tensor labels;  ///< [N] int64 in 0..K-1 (all 0 for unlabelled images)
  std::int64_t size() const { return labels.defined() ? labels.size(0) : 0; }

  /// Images `begin`..`end` as the model takes them: float32 in [0,1] (byte / 255).
  torch::Tensor images(std::int64_t begin, std::int64_t end) const;
  /// The images whose indices `rows` holds (int64, on the pixels' device), as float32 in [0,1].
  torch::Tensor images_at(const torch::Tensor& rows) const;
  /// Every image as float32: four bytes a pixel, for sets known to be small.
  torch::Tensor images() const { return images(0, size()); }
  /// float32 on the pixels' device: the options of tensors computed alongside the images.
  torch::TensorOptions image_options() const;
  /// The first `count` images and labels (a view).
  Dataset head(std::int64_t count) const;
  /// The same images and labels on `device`.
  Dataset to(const torch::Device& device) const;
  /// Images given as floats in [0,1], stored as the nearest bytes (synthetic data of tests and tools).
  static Dataset from_unit_floats(const torch::Tensor& images, const torch::Tensor& labels);
};

/// Images handed out a range at a time as float32: a Dataset's bytes converted per range, or float
/// images already in memory (a probe, a test's tensor). Refers to what it was made from, which must
/// outlive it.
class ImageSource {
 public:
  // Implicit on purpose: callers pass a Dataset or a tensor where an ImageSource is taken.
  // cppcheck-suppress noExplicitConstructor
  ImageSource(const Dataset& data) : data_(&data) {}
  // cppcheck-suppress noExplicitConstructor
  ImageSource(const torch::Tensor& images) : images_(&images) {}
  std::int64_t size() const { return data_ != nullptr ? data_->size() : images_->size(0); }
  /// Images `begin`..`end`, float32.
  torch::Tensor between(std::int64_t begin, std::int64_t end) const {
    return data_ != nullptr ? data_->images(begin, end) : images_->slice(0, begin, end);
  }
  /// Values per image (C·H·W).
  std::int64_t image_numel() const { return data_ != nullptr ? data_->pixels[0].numel() : (*images_)[0].numel(); }

 private:
  const Dataset* data_ = nullptr;
  const torch::Tensor* images_ = nullptr;
};

/// Bytes 0..255 -> float32 in [0,1], the conversion every image goes through on its way to the model.
torch::Tensor unit_floats(const torch::Tensor& pixels);

/// A file a data folder was read from.
struct DataFileChoice {
  std::string path;
  bool gzip_ignored = false;  ///< both `stem` and `stem.gz` were there; the raw file won
};

/// DataSplits::form of each kind of data set, as the log names it.
inline constexpr const char* kIdxFilesForm = "IDX files";
inline constexpr const char* kImageFoldersForm = "image folders";
inline constexpr const char* kNumpyArchiveForm = "NumPy archive";

/// Both splits of a data set and its name (the folder's name, e.g. "mnist", or an archive's stem).
struct DataSplits {
  std::string name;
  Dataset train;
  Dataset test;
  std::vector<DataFileChoice> files;     ///< the IDX files or the archive read, in the order read
  std::vector<std::string> class_names;  ///< label k's name; empty: unlabelled (every label 0)
  std::string form;                      ///< "IDX files", "image folders" or "NumPy archive", for the log
  std::int64_t resized = 0;              ///< images resized to DataOptions::image_size
  std::int64_t ignored_files = 0;        ///< files in image folders passed over: not images by extension
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

/// Loads both splits of a data folder holding the four IDX files.
DataSplits load_data_dir(const std::string& directory);

/// Loads both splits of the data set at `path`: a folder holding the four IDX files, a `.npz`
/// archive (Keras' mnist.npz) or a folder of images (docs/data.md), shaped as `options` asks.
/// Throws OptionError for options out of bounds, DataError naming the file for bad data.
DataSplits load_data(const std::string& path, const DataOptions& options = {});

/// One split of any data set load_data reads, shaped as load_data would shape it.
Dataset load_split(const std::string& path, Split split, const DataOptions& options);

/// The images `indices` of one split of any data set load_data reads, with the split's size.
SplitSample load_split_sample(const std::string& path, Split split, const std::vector<std::int64_t>& indices,
                              const DataOptions& options);

/// Whether `path` names a NumPy archive (it ends in ".npz") rather than a data folder.
bool is_npz_path(const std::string& path);

/// The data set's name as weights and pictures call it: the folder's last component, or an
/// archive's name without ".npz" ("x/mnist.npz" -> "mnist").
std::string dataset_name(const std::string& directory);

/// The data folder a command reads for weights trained on `dataset`: `given`, or data/<dataset>
/// when empty (where scripts/fetch_data.sh puts each data set).
std::string data_dir_for(const std::string& dataset, const std::string& given);

}  // namespace vae_cnn
