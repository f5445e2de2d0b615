// Which form of data a path holds (IDX files, a NumPy archive, a folder of images), and each loaded
// and shaped through one entry point.
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/data/image_folder.hpp"
#include "vae_cnn/data/image_set.hpp"
#include "vae_cnn/data/npz_archive.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;

constexpr const char* kIdxStems[] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                     "t10k-labels-idx1-ubyte"};

// IDX files are read from a path that is not a folder too, so that a missing path or a file given
// for the folder keeps the words locate_idx_file has for it.
bool idx_form(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) return true;
  for (const char* stem : kIdxStems) {
    for (const char* suffix : {"", ".gz"}) {
      if (::lstat((fs::path(path) / (std::string(stem) + suffix)).c_str(), &info) == 0) return true;
    }
  }
  return false;
}

// The IDX images (grey, [N,1,H,W]) with the channels and size `options` asks; as they are when
// they already have them.
void shape_idx_split(Dataset& data, const DataOptions& options, std::int64_t* resized) {
  const std::int64_t height = data.pixels.size(2);
  const std::int64_t width = data.pixels.size(3);
  const bool same_size = options.image_size == 0 || (options.image_size == height && options.image_size == width);
  if (same_size && options.channels <= 1) return;
  const torch::Tensor source = data.pixels.contiguous();
  data.pixels = shape_pixels(source.data_ptr<std::uint8_t>(), data.size(), PixelGrid{width, height, 1}, options,
                             resized);
}

DataSplits load_image_folder(const std::string& path, const DataOptions& options) {
  const ImageFolderListing listing = list_image_folder(path, options.test_fraction);
  const PixelGrid shape = probe_image_folder(listing, options);
  DataSplits splits;
  splits.name = dataset_name(path);
  splits.form = kImageFoldersForm;
  splits.class_names = listing.class_names;
  splits.ignored_files = listing.ignored_files;
  splits.train = decode_image_entries(listing.train, shape, options, &splits.resized);
  splits.test = decode_image_entries(listing.test, shape, options, &splits.resized);
  return splits;
}

// The rows of `data` that `indices` name and it holds, in the order asked.
Dataset rows_of(const Dataset& data, const std::vector<std::int64_t>& indices) {
  std::vector<std::int64_t> kept;
  for (const std::int64_t index : indices) {
    if (index >= 0 && index < data.size()) kept.push_back(index);
  }
  const torch::Tensor rows = torch::tensor(kept, torch::kInt64);
  return {data.pixels.index_select(0, rows), data.labels.index_select(0, rows)};
}

}  // namespace

bool is_npz_path(const std::string& path) {
  if (path.size() < 4) return false;
  std::string suffix = path.substr(path.size() - 4);
  std::transform(suffix.begin(), suffix.end(), suffix.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return suffix == ".npz";
}

DataSplits load_data(const std::string& path, const DataOptions& options) {
  validate(options);
  if (is_npz_path(path)) return load_npz(path, options);
  if (!idx_form(path)) return load_image_folder(path, options);
  DataSplits splits = load_data_dir(path);
  shape_idx_split(splits.train, options, &splits.resized);
  shape_idx_split(splits.test, options, &splits.resized);
  return splits;
}

Dataset load_split(const std::string& path, Split split, const DataOptions& options) {
  validate(options);
  if (is_npz_path(path)) return load_npz_split(path, split, options);
  if (idx_form(path)) {
    Dataset data = load_split(path, split);
    shape_idx_split(data, options, nullptr);
    return data;
  }
  const ImageFolderListing listing = list_image_folder(path, options.test_fraction);
  const PixelGrid shape = probe_image_folder(listing, options);
  return decode_image_entries(split == Split::kTrain ? listing.train : listing.test, shape, options, nullptr);
}

SplitSample load_split_sample(const std::string& path, Split split, const std::vector<std::int64_t>& indices,
                              const DataOptions& options) {
  validate(options);
  SplitSample sample;
  if (is_npz_path(path)) {
    const Dataset data = load_npz_split(path, split, options);
    sample.split_size = data.size();
    sample.images = rows_of(data, indices);
  } else if (idx_form(path)) {
    sample = load_split_sample(path, split, indices);
    shape_idx_split(sample.images, options, nullptr);
  } else {
    // Every header is read, so that the images come in the shape the whole split loads as; only
    // those asked for are decoded.
    const ImageFolderListing listing = list_image_folder(path, options.test_fraction);
    const PixelGrid shape = probe_image_folder(listing, options);
    const std::vector<ImageEntry>& entries = split == Split::kTrain ? listing.train : listing.test;
    std::vector<ImageEntry> chosen;
    for (const std::int64_t index : indices) {
      if (index >= 0 && index < static_cast<std::int64_t>(entries.size())) chosen.push_back(entries[static_cast<std::size_t>(index)]);
    }
    sample.split_size = static_cast<std::int64_t>(entries.size());
    sample.images = decode_image_entries(chosen, shape, options, nullptr);
  }
  return sample;
}

}  // namespace vae_cnn
