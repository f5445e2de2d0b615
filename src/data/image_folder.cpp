// Finding the images of a folder and their classes, with every folder visited once.
#include "vae_cnn/data/image_folder.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "vae_cnn/data/image_decode.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/regular_file.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;

constexpr const char* kNoImages = "holds no images (expected PNG, JPEG, BMP, PGM or PPM files)";
// A data folder with nothing to read may have been meant for any of the forms.
constexpr const char* kNoData =
    "holds no data (expected the four MNIST IDX files, or PNG, JPEG, BMP, PGM or PPM images: in class folders "
    "or not, or in train/ and test/ folders)";

struct stat stat_of(const fs::path& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw DataError(path.string(), file_error_words(errno));
  return info;
}

bool is_folder(const fs::path& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// Hidden files and folders are what tools leave beside the data (.DS_Store, macOS's ._x.png
// resource forks, .ipynb_checkpoints/): never images or classes.
bool hidden(const std::string& name) { return !name.empty() && name[0] == '.'; }

// The names in a folder, in byte order: directory_iterator's order is the file system's.
std::vector<std::string> sorted_names(const fs::path& folder) {
  std::vector<std::string> names;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    names.push_back(it->path().filename().string());
  }
  if (error) throw DataError(folder.string(), "cannot list the folder: " + error.message());
  std::sort(names.begin(), names.end());
  return names;
}

// A split's folder: its class folders (or none) and the image files of each (one list when unlabelled).
struct SplitFiles {
  std::vector<std::string> class_names;
  std::vector<std::vector<std::string>> files;  // per class, relative to the split's folder, sorted
};

class FolderWalk {
 public:
  // Marks a folder as visited; false when it already was (a link back to it, or a second link).
  bool visit(const fs::path& folder) {
    const struct stat info = stat_of(folder);
    return visited_.insert({info.st_dev, info.st_ino}).second;
  }

  // The image files under `folder`, recursively, as paths relative to `base` (sorted by the caller).
  void collect(const fs::path& base, const fs::path& folder, std::vector<std::string>& files) {
    for (const std::string& name : sorted_names(folder)) {
      const fs::path path = folder / name;
      if (hidden(name)) {
        if (!is_folder(path)) ++ignored_;
        continue;
      }
      const struct stat info = stat_of(path);
      if (S_ISDIR(info.st_mode)) {
        if (visit(path)) collect(base, path, files);
      } else if (!is_image_file_name(name)) {
        ++ignored_;
      } else if (!S_ISREG(info.st_mode)) {
        throw DataError(path.string(), "is " + non_regular_kind(path.string()) + ", expected an image file");
      } else {
        files.push_back(path.lexically_relative(base).string());
      }
    }
  }

  // `empty_fault` words a split folder with no images and no class folders.
  SplitFiles list_split(const fs::path& folder, const char* empty_fault = kNoImages);
  std::int64_t ignored() const { return ignored_; }

 private:
  std::set<std::pair<dev_t, ino_t>> visited_;
  std::int64_t ignored_ = 0;
};

SplitFiles FolderWalk::list_split(const fs::path& folder, const char* empty_fault) {
  visit(folder);
  SplitFiles split;
  std::vector<std::string> loose;
  std::int64_t loose_others = 0;
  // Every class folder is marked before any is searched, so that a link inside one class to
  // another is passed over rather than giving the other's images this class's label.
  for (const std::string& name : sorted_names(folder)) {
    const fs::path path = folder / name;
    if (hidden(name)) {
      if (!is_folder(path)) ++loose_others;
      continue;
    }
    if (S_ISDIR(stat_of(path).st_mode)) {
      if (visit(path)) split.class_names.push_back(name);
    } else if (is_image_file_name(name)) {
      loose.push_back(name);
    } else {
      ++loose_others;
    }
  }
  if (split.class_names.empty()) {
    std::vector<std::string> files;
    collect(folder, folder, files);
    if (files.empty()) throw DataError(folder.string(), empty_fault);
    std::sort(files.begin(), files.end());
    split.files.push_back(std::move(files));
    return split;
  }
  // Files beside class folders are passed over, as torchvision's ImageFolder passes them over.
  ignored_ += loose_others + static_cast<std::int64_t>(loose.size());
  for (const std::string& name : split.class_names) {
    std::vector<std::string> files;
    collect(folder / name, folder / name, files);
    if (files.empty()) throw DataError((folder / name).string(), kNoImages);
    std::sort(files.begin(), files.end());
    split.files.push_back(std::move(files));
  }
  return split;
}

// 64-bit FNV-1a: a hash fixed by its definition (std::hash may differ between libraries and runs).
std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

std::vector<ImageEntry> entries(const fs::path& folder, const std::vector<std::string>& files, std::int64_t label) {
  std::vector<ImageEntry> out;
  out.reserve(files.size());
  for (const std::string& file : files) out.push_back({(folder / file).string(), label});
  return out;
}

void append(std::vector<ImageEntry>& to, std::vector<ImageEntry>&& from) {
  to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
}

// Splits each class's files into training and held-out test images (see list_image_folder).
void hold_out(const fs::path& folder, const SplitFiles& split, double test_fraction, ImageFolderListing& listing) {
  for (std::size_t label = 0; label < split.files.size(); ++label) {
    const std::vector<std::string>& files = split.files[label];
    const auto count = static_cast<std::int64_t>(files.size());
    const std::int64_t held = std::min<std::int64_t>(count - 1, std::llround(static_cast<double>(count) * test_fraction));
    const std::string prefix = split.class_names.empty() ? "" : split.class_names[label] + "/";
    std::vector<std::pair<std::uint64_t, std::string>> ranked;
    for (const std::string& file : files) ranked.emplace_back(fnv1a(prefix + file), file);
    std::sort(ranked.begin(), ranked.end());
    std::vector<std::string> test;
    std::vector<std::string> train;
    for (std::int64_t i = 0; i < count; ++i) {
      if (i < held) {
        test.push_back(ranked[static_cast<std::size_t>(i)].second);
      } else {
        train.push_back(ranked[static_cast<std::size_t>(i)].second);
      }
    }
    std::sort(test.begin(), test.end());
    std::sort(train.begin(), train.end());
    const fs::path class_folder = split.class_names.empty() ? folder : folder / split.class_names[label];
    append(listing.train, entries(class_folder, train, static_cast<std::int64_t>(label)));
    append(listing.test, entries(class_folder, test, static_cast<std::int64_t>(label)));
  }
  if (listing.test.empty()) {
    throw DataError(folder.string(), "holds too few images (" + std::to_string(listing.train.size()) +
                                         ") to hold out a test split: give it train/ and test/ folders");
  }
}

std::string listed(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size() && i < 10; ++i) text += (i ? ", " : "") + names[i];
  return names.size() > 10 ? text + ", ..." : text;
}

// Labels test's class folders by the training split's classes of the same name.
std::vector<std::int64_t> test_labels(const fs::path& test_folder, const SplitFiles& train, const SplitFiles& test) {
  if (train.class_names.empty() != test.class_names.empty()) {
    throw DataError(test_folder.string(), test.class_names.empty()
                                              ? "holds no class folders, but train/ does: both or neither"
                                              : "holds class folders, but train/ does not: both or neither");
  }
  std::vector<std::int64_t> labels;
  for (const std::string& name : test.class_names) {
    const auto found = std::lower_bound(train.class_names.begin(), train.class_names.end(), name);
    if (found == train.class_names.end() || *found != name) {
      throw DataError((test_folder / name).string(), "a class the training split lacks (its classes: " +
                                                         listed(train.class_names) + ")");
    }
    labels.push_back(found - train.class_names.begin());
  }
  if (labels.empty()) labels.push_back(0);
  return labels;
}

}  // namespace

ImageFolderListing list_image_folder(const std::string& directory, double test_fraction) {
  const fs::path root(directory);
  const struct stat info = stat_of(root);
  if (!S_ISDIR(info.st_mode)) throw DataError(directory, "is not a folder, expected a folder of images");
  FolderWalk walk;
  walk.visit(root);
  ImageFolderListing listing;
  const fs::path train_folder = root / "train";
  const fs::path test_folder = root / "test";
  if (is_folder(train_folder) || is_folder(test_folder)) {
    if (!is_folder(train_folder) || !is_folder(test_folder)) {
      const fs::path& missing = is_folder(train_folder) ? test_folder : train_folder;
      throw DataError(missing.string(), "missing: a folder of images with train/ or test/ needs both");
    }
    const SplitFiles train = walk.list_split(train_folder);
    const SplitFiles test = walk.list_split(test_folder);
    const std::vector<std::int64_t> labels = test_labels(test_folder, train, test);
    for (std::size_t k = 0; k < train.files.size(); ++k) {
      const fs::path folder = train.class_names.empty() ? train_folder : train_folder / train.class_names[k];
      append(listing.train, entries(folder, train.files[k], static_cast<std::int64_t>(k)));
    }
    for (std::size_t k = 0; k < test.files.size(); ++k) {
      const fs::path folder = test.class_names.empty() ? test_folder : test_folder / test.class_names[k];
      append(listing.test, entries(folder, test.files[k], labels[k]));
    }
    listing.class_names = train.class_names;
  } else {
    const SplitFiles all = walk.list_split(root, kNoData);
    hold_out(root, all, test_fraction, listing);
    listing.class_names = all.class_names;
  }
  listing.ignored_files = walk.ignored();
  return listing;
}

}  // namespace vae_cnn
