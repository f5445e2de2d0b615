// Conversion of checked IDX arrays into tensors, and the standard file names of a data folder.
#include "vae_cnn/data/dataset.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <memory>

#include "vae_cnn/data/class_names.hpp"
#include "vae_cnn/data/idx_file.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/regular_file.hpp"

namespace vae_cnn {

torch::Tensor unit_floats(const torch::Tensor& pixels) {
  torch::Tensor floats = pixels.to(torch::kFloat32);
  if (pixels.device().is_cpu()) return floats.div_(255.0f);
  // CUDA divides by a CPU scalar as a multiplication by its reciprocal, one bit off the quotient for
  // 126 of the 256 bytes; a divisor that lives on the device is divided by exactly, as the CPU does,
  // so a run gets the same images on either device (and the same as when the CPU converted them).
  return floats.div_(torch::full({}, 255.0f, floats.options()));
}

torch::Tensor Dataset::images(std::int64_t begin, std::int64_t end) const {
  return unit_floats(pixels.slice(0, begin, end));
}

torch::Tensor Dataset::images_at(const torch::Tensor& rows) const { return unit_floats(pixels.index_select(0, rows)); }

torch::TensorOptions Dataset::image_options() const {
  return torch::TensorOptions(torch::kFloat32).device(pixels.defined() ? pixels.device() : torch::Device(torch::kCPU));
}

Dataset Dataset::head(std::int64_t count) const { return {pixels.slice(0, 0, count), labels.slice(0, 0, count)}; }

Dataset Dataset::to(const torch::Device& device) const { return {pixels.to(device), labels.to(device)}; }

Dataset Dataset::from_unit_floats(const torch::Tensor& images, const torch::Tensor& labels) {
  return {images.mul(255.0f).round_().clamp_(0, 255).to(torch::kUInt8), labels};
}
namespace {

namespace fs = std::filesystem;

std::string split_prefix(Split split) { return split == Split::kTrain ? "train" : "t10k"; }

}  // namespace

namespace {

// Whether `path` is there to be read: false when nothing is there; throws DataError naming it for
// anything else that stops it being read (a link loop, a link to nothing, permission denied), which
// exists() would have called "missing", or, for a link to nothing beside a .gz, passed over.
bool data_file_present(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) return false;
    throw DataError(path.string(), file_error_words(errno));
  }
  if (!S_ISLNK(info.st_mode)) return true;
  if (::stat(path.c_str(), &info) == 0) return true;
  if (errno != ENOENT) throw DataError(path.string(), file_error_words(errno));
  std::error_code ignored;
  throw DataError(path.string(), "a symbolic link to nothing (" + fs::read_symlink(path, ignored).string() +
                                     " does not exist)");
}

}  // namespace

std::string locate_idx_file(const std::string& directory, const std::string& stem, bool* raw_won_over_gzip) {
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      throw DataError(directory, "no such data folder (expected the four MNIST IDX files; run scripts/fetch_data.sh)");
    }
    throw DataError(directory, file_error_words(errno) + " (the data folder)");
  }
  if (!S_ISDIR(info.st_mode)) {
    throw DataError(directory, "is a file, not a data folder (--data names a folder of the four MNIST IDX files or "
                               "of images, or a .npz archive)");
  }
  const fs::path raw = fs::path(directory) / stem;
  const fs::path gz = fs::path(directory) / (stem + ".gz");
  const bool has_raw = data_file_present(raw);
  const bool has_gz = data_file_present(gz);
  if (raw_won_over_gzip != nullptr) *raw_won_over_gzip = has_raw && has_gz;
  if (has_raw) return raw.string();
  if (has_gz) return gz.string();
  throw DataError(raw.string(), "missing (neither " + stem + " nor " + stem + ".gz is in the data folder)");
}

namespace {

// Grey bytes (count images) and their labels as tensors: pixels [count,1,28,28] uint8, which take
// over the vector's memory rather than copying it (a copy would double the peak of a large set).
// The deleter shares the vector, so it is freed once whether from_blob succeeds or throws.
Dataset as_tensors(std::vector<std::uint8_t>& pixels, std::vector<std::uint8_t>& labels) {
  const auto count = static_cast<std::int64_t>(labels.size());
  Dataset dataset;
  auto bytes = std::make_shared<std::vector<std::uint8_t>>(std::move(pixels));
  const auto release = [bytes](void* data) mutable {
    static_cast<void>(data);
    bytes.reset();
  };
  dataset.pixels = torch::from_blob(bytes->data(), {count, 1, kImageSide, kImageSide}, release, torch::kUInt8);
  dataset.labels = torch::from_blob(labels.data(), {count}, torch::kUInt8).to(torch::kInt64);
  return dataset;
}

void check_label_count(std::uint64_t labels, std::uint64_t images, const std::string& labels_path,
                       const std::string& images_path) {
  if (labels != images) {
    throw DataError(labels_path, "holds " + std::to_string(labels) + " labels, expected " + std::to_string(images) +
                                     " to match " + images_path);
  }
}

}  // namespace

Dataset load_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  IdxImages images;
  try {
    images = read_idx_images(images_path);
  } catch (const std::bad_alloc&) {
    throw ResourceError(images_path + ": not enough memory to read it");
  }
  std::vector<std::uint8_t> labels = read_idx_labels(labels_path);
  check_label_count(labels.size(), images.count, labels_path, images_path);
  return as_tensors(images.pixels, labels);
}

SplitSample load_split_sample(const std::string& directory, Split split, const std::vector<std::int64_t>& indices) {
  const std::string prefix = split_prefix(split);
  const std::string images_path = locate_idx_file(directory, prefix + "-images-idx3-ubyte");
  const std::string labels_path = locate_idx_file(directory, prefix + "-labels-idx1-ubyte");
  const std::vector<std::uint64_t> wanted(indices.begin(), indices.end());
  IdxImages images = read_idx_images_at(images_path, wanted);
  std::uint64_t label_count = 0;
  std::vector<std::uint8_t> labels = read_idx_labels_at(labels_path, wanted, &label_count);
  check_label_count(label_count, images.count, labels_path, images_path);
  SplitSample sample;
  sample.split_size = images.count;
  sample.images = as_tensors(images.pixels, labels);
  return sample;
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
  splits.form = kIdxFilesForm;
  splits.train = load_split(directory, Split::kTrain, &splits.files);
  splits.test = load_split(directory, Split::kTest, &splits.files);
  // IDX labels are digits 0-9 (read_idx_labels checks), named as numbers up to the largest there.
  splits.class_names = numbered_class_names_of(splits);
  return splits;
}

std::string dataset_name(const std::string& directory) {
  fs::path path = fs::path(directory).lexically_normal();
  if (path.filename().empty()) path = path.parent_path();
  if (is_npz_path(path.string()) && !path.stem().empty()) return path.stem().string();
  std::string name = path.filename().string();
  if (name.empty() || name == "." || name == "..") name = fs::absolute(path).lexically_normal().filename().string();
  return name.empty() ? "data" : name;
}

std::string data_dir_for(const std::string& dataset, const std::string& given) {
  return given.empty() ? "data/" + dataset : given;
}

}  // namespace vae_cnn
