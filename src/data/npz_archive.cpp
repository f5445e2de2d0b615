// Entries of a NumPy archive read through libzip (CRC-checked, inflated when deflated), then parsed
// as .npy arrays.
#include "vae_cnn/data/npz_archive.hpp"

#include <unistd.h>
#include <zip.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "vae_cnn/data/class_names.hpp"
#include "vae_cnn/data/image_set.hpp"
#include "vae_cnn/data/npy_array.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/regular_file.hpp"

namespace vae_cnn {
namespace {

// Twice the largest array of the data sets this tool is for (CIFAR-10's x_train is 150 MB); more is
// a corrupt or hostile directory entry.
constexpr std::uint64_t kMaxNpyBytes = std::uint64_t{1} << 32;
constexpr std::int64_t kMaxNpzLabel = 65535;

std::string zip_error_words(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

class NpzArchive {
 public:
  explicit NpzArchive(const std::string& path) : path_(path) {
    const int fd = open_regular_file(path, "a NumPy archive (.npz)");
    int code = 0;
    zip_ = zip_fdopen(fd, ZIP_CHECKCONS, &code);
    if (zip_ == nullptr) {
      ::close(fd);
      throw DataError(path, "not a readable zip archive (" + zip_error_words(code) + "), expected a NumPy .npz");
    }
  }
  ~NpzArchive() { zip_discard(zip_); }
  NpzArchive(const NpzArchive&) = delete;
  NpzArchive& operator=(const NpzArchive&) = delete;

  bool has(const std::string& name) const { return zip_name_locate(zip_, (name + ".npy").c_str(), 0) >= 0; }

  // The bytes of `name`.npy, grown with the data actually inflated, so a directory entry that lies
  // about its size costs nothing; reading to the end is what makes libzip check the CRC-32.
  std::vector<std::uint8_t> read(const std::string& name) const {
    const std::string entry = name + ".npy";
    const zip_int64_t index = zip_name_locate(zip_, entry.c_str(), 0);
    if (index < 0) fail(entry, "missing (expected x_train, y_train, x_test and y_test, as Keras' mnist.npz holds)");
    zip_stat_t stat;
    zip_stat_init(&stat);
    if (zip_stat_index(zip_, static_cast<zip_uint64_t>(index), 0, &stat) != 0) fail(entry, zip_strerror(zip_));
    const bool sized = (stat.valid & ZIP_STAT_SIZE) != 0;
    if (sized && stat.size > kMaxNpyBytes) {
      fail(entry, "declares " + std::to_string(stat.size) + " bytes, more than the " + std::to_string(kMaxNpyBytes) +
                      " an array may hold");
    }
    std::unique_ptr<zip_file_t, int (*)(zip_file_t*)> file(zip_fopen_index(zip_, static_cast<zip_uint64_t>(index), 0),
                                                             zip_fclose);
    if (!file) fail(entry, zip_strerror(zip_));
    std::vector<std::uint8_t> bytes;
    // Room for the declared size at once (no copies while growing), but only as much as the entry's
    // compressed bytes, which are in the file, can inflate to: deflate packs at most 1032 to 1.
    if (sized && (stat.valid & ZIP_STAT_COMP_SIZE) != 0) {
      bytes.reserve(static_cast<std::size_t>(std::min<zip_uint64_t>(stat.size, stat.comp_size * 1032 + 1024)));
    }
    std::vector<std::uint8_t> chunk(std::size_t{1} << 20);
    for (;;) {
      const zip_int64_t got = zip_fread(file.get(), chunk.data(), chunk.size());
      if (got < 0) fail(entry, zip_file_strerror(file.get()));
      if (got == 0) break;
      if (bytes.size() + static_cast<std::size_t>(got) > kMaxNpyBytes) fail(entry, "inflates past the size an array may hold");
      bytes.insert(bytes.end(), chunk.begin(), chunk.begin() + got);
    }
    if (sized && bytes.size() != stat.size) {
      fail(entry, "holds " + std::to_string(bytes.size()) + " bytes, its directory entry declares " + std::to_string(stat.size));
    }
    return bytes;
  }

  [[noreturn]] void fail(const std::string& entry, const std::string& fault) const {
    throw DataError(path_, entry + ": " + fault);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  zip_t* zip_ = nullptr;
};

std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + ")";
}

// The images of x (an [N,H,W] or [N,H,W,C] integer array) as bytes laid out [N,H,W,C].
struct NpzImages {
  std::vector<std::uint8_t> bytes;  // the entry; the pixels are inside it when stored as bytes
  std::vector<std::uint8_t> converted;
  const std::uint8_t* pixels = nullptr;
  std::int64_t count = 0;
  PixelGrid grid;
};

NpzImages read_images(const NpzArchive& archive, const std::string& name, const DataOptions& options) {
  NpzImages images;
  images.bytes = archive.read(name);
  const NpyArray array = parse_npy(archive.path(), name + ".npy", images.bytes);
  const auto& shape = array.shape;
  const bool channel_axis = shape.size() == 4;
  if ((shape.size() != 3 && !channel_axis) || shape[0] == 0 || shape[1] == 0 || shape[2] == 0 ||
      (channel_axis && (shape[3] < 1 || shape[3] > 4))) {
    archive.fail(name + ".npy", "shape " + shape_text(shape) + ", expected (N, H, W) or (N, H, W, C) images, C 1 to 4");
  }
  images.count = static_cast<std::int64_t>(shape[0]);
  images.grid = {static_cast<std::int64_t>(shape[2]), static_cast<std::int64_t>(shape[1]),
                 channel_axis ? static_cast<std::int64_t>(shape[3]) : 1};
  const std::int64_t side = std::max(images.grid.width, images.grid.height);
  if (options.image_size == 0 && side > options.max_image_side) {
    archive.fail(name + ".npy", "images are " + std::to_string(images.grid.width) + "x" + std::to_string(images.grid.height) +
                                    ", above max_image_side " + std::to_string(options.max_image_side) +
                                    ": set image_size to resize them");
  }
  if (array.is_bytes()) {
    images.pixels = array.data;
    return images;
  }
  images.converted.resize(array.count);
  for (std::uint64_t i = 0; i < array.count; ++i) {
    const std::int64_t value = array.value(i);
    if (value < 0 || value > 255) {
      archive.fail(name + ".npy", "value " + std::to_string(value) + " at index " + std::to_string(i) + " is outside 0..255");
    }
    images.converted[i] = static_cast<std::uint8_t>(value);
  }
  images.pixels = images.converted.data();
  return images;
}

torch::Tensor read_labels(const NpzArchive& archive, const std::string& name, std::int64_t count) {
  const std::vector<std::uint8_t> bytes = archive.read(name);
  const NpyArray array = parse_npy(archive.path(), name + ".npy", bytes);
  const auto& shape = array.shape;
  if (shape.empty() || shape.size() > 2 || (shape.size() == 2 && shape[1] != 1) ||
      shape[0] != static_cast<std::uint64_t>(count)) {
    archive.fail(name + ".npy", "shape " + shape_text(shape) + ", expected (" + std::to_string(count) +
                                    ",) or (" + std::to_string(count) + ", 1): a label for each image");
  }
  torch::Tensor labels = torch::empty({count}, torch::kInt64);
  std::int64_t* out = labels.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < count; ++i) {
    out[i] = array.value(static_cast<std::uint64_t>(i));
    if (out[i] < 0 || out[i] > kMaxNpzLabel) {
      archive.fail(name + ".npy", "label " + std::to_string(out[i]) + " at index " + std::to_string(i) + " is outside 0.." +
                                      std::to_string(kMaxNpzLabel));
    }
  }
  return labels;
}

// Whether the archive holds labels: y_train and y_test both, or neither.
bool npz_labelled(const NpzArchive& archive) {
  const bool train = archive.has("y_train");
  if (train != archive.has("y_test")) {
    archive.fail(train ? "y_test.npy" : "y_train.npy", "missing, but its other split's labels are there: both or neither");
  }
  return train;
}

Dataset read_split(const NpzArchive& archive, Split split, const DataOptions& options, PixelGrid* grid,
                   std::int64_t* resized) {
  const std::string suffix = split == Split::kTrain ? "_train" : "_test";
  const NpzImages images = read_images(archive, "x" + suffix, options);
  *grid = images.grid;
  Dataset data;
  data.labels = npz_labelled(archive) ? read_labels(archive, "y" + suffix, images.count)
                                      : torch::zeros({images.count}, torch::kInt64);
  data.pixels = shape_pixels(images.pixels, images.count, images.grid, options, resized);
  return data;
}

std::string npz_grid_text(const PixelGrid& grid) {
  return std::to_string(grid.height) + "x" + std::to_string(grid.width) + "x" + std::to_string(grid.channels);
}

}  // namespace

Dataset load_npz_split(const std::string& path, Split split, const DataOptions& options, std::int64_t* resized) {
  const NpzArchive archive(path);
  PixelGrid grid;
  return read_split(archive, split, options, &grid, resized);
}

DataSplits load_npz(const std::string& path, const DataOptions& options) {
  const NpzArchive archive(path);
  DataSplits splits;
  splits.name = dataset_name(path);
  splits.form = kNumpyArchiveForm;
  splits.files.push_back({path, false});
  PixelGrid train_grid;
  PixelGrid test_grid;
  splits.train = read_split(archive, Split::kTrain, options, &train_grid, &splits.resized);
  splits.test = read_split(archive, Split::kTest, options, &test_grid, &splits.resized);
  if (train_grid.width != test_grid.width || train_grid.height != test_grid.height ||
      train_grid.channels != test_grid.channels) {
    archive.fail("x_test.npy", "images are " + npz_grid_text(test_grid) + " (HxWxC), x_train's are " +
                                   npz_grid_text(train_grid));
  }
  if (npz_labelled(archive)) splits.class_names = numbered_class_names_of(splits);
  return splits;
}

}  // namespace vae_cnn
