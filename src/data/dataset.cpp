// Conversion of checked IDX arrays into tensors, and the standard file names of a data folder.
#include "vae_cnn/data/dataset.hpp"

#include <filesystem>

#include "vae_cnn/data/idx_file.hpp"
#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;

std::string split_prefix(Split split) { return split == Split::kTrain ? "train" : "t10k"; }

}  // namespace

std::string locate_idx_file(const std::string& directory, const std::string& stem, bool* raw_won_over_gzip) {
  const fs::path raw = fs::path(directory) / stem;
  const fs::path gz = fs::path(directory) / (stem + ".gz");
  std::error_code error;
  const bool has_raw = fs::exists(raw, error);
  const bool has_gz = fs::exists(gz, error);
  if (raw_won_over_gzip != nullptr) *raw_won_over_gzip = has_raw && has_gz;
  if (has_raw) return raw.string();
  if (has_gz) return gz.string();
  if (!fs::is_directory(directory, error)) {
    throw DataError(directory, "no such data folder (expected the four MNIST IDX files; run scripts/fetch_data.sh)");
  }
  throw DataError(raw.string(), "missing (neither " + stem + " nor " + stem + ".gz is in the data folder)");
}

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  IdxImages images = read_idx_images(images_path);
  std::vector<std::uint8_t> labels = read_idx_labels(labels_path);
  if (labels.size() != images.count) {
    throw DataError(labels_path, "holds " + std::to_string(labels.size()) + " labels, expected " +
                                     std::to_string(images.count) + " to match " + images_path);
  }
  const auto count = static_cast<std::int64_t>(images.count);
  Dataset dataset;
  dataset.images = torch::from_blob(images.pixels.data(), {count, 1, kImageSide, kImageSide}, torch::kUInt8)
                       .to(torch::kFloat32)
                       .div_(255.0f);
  dataset.labels = torch::from_blob(labels.data(), {count}, torch::kUInt8).to(torch::kInt64);
  return dataset;
}

Dataset load_split(const std::string& directory, Split split, std::vector<DataFileChoice>* chosen) {
  const std::string prefix = split_prefix(split);
  DataFileChoice images;
  DataFileChoice labels;
  images.path = locate_idx_file(directory, prefix + "-images-idx3-ubyte", &images.gzip_ignored);
  labels.path = locate_idx_file(directory, prefix + "-labels-idx1-ubyte", &labels.gzip_ignored);
  if (chosen != nullptr) {
    chosen->push_back(images);
    chosen->push_back(labels);
  }
  return load_idx_dataset(images.path, labels.path);
}

DataSplits load_data_dir(const std::string& directory) {
  DataSplits splits;
  splits.name = dataset_name(directory);
  splits.train = load_split(directory, Split::kTrain, &splits.files);
  splits.test = load_split(directory, Split::kTest, &splits.files);
  return splits;
}

std::string dataset_name(const std::string& directory) {
  fs::path path = fs::path(directory).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..") name = fs::absolute(path).lexically_normal().filename().string();
  return name.empty() ? "data" : name;
}

}  // namespace vae_cnn
