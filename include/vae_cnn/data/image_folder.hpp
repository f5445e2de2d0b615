// The layouts of a folder of images: which files are images, their labels and their split, found
// before any image is decoded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

/// One image file and its label (0 for unlabelled images).
struct ImageEntry {
  std::string path;
  std::int64_t label = 0;
};

/// The image files of a folder, split and labelled.
struct ImageFolderListing {
  std::vector<std::string> class_names;  ///< the class folders' names in byte order; empty: unlabelled
  std::vector<ImageEntry> train;         ///< by class, then by path within the class folder, in byte order
  std::vector<ImageEntry> test;
  std::int64_t ignored_files = 0;        ///< files whose names are not images' (.png, .jpg, ...)
};

/// Lists the images of `directory` in one of its layouts:
///   DIR/train/<class>/..., DIR/test/<class>/...   (torchvision's ImageFolder; class = label, by name)
///   DIR/train/*, DIR/test/*                         (unlabelled)
///   DIR/<class>/...  or  DIR/*                      (a test split held out, below)
/// Class folders are searched through their subfolders; a folder reached a second time (through a
/// symbolic link) is passed over, so link loops end. Hidden names (".DS_Store", "._x.png",
/// ".ipynb_checkpoints/") are passed over, the files among them counted as ignored. Where the test split is held out, each class
/// gives round(n·test_fraction) of its n images (at most n − 1): those first in the order of the
/// 64-bit FNV-1a hash of their path relative to DIR, so the same files on every machine, whatever
/// order the file system lists them in, and an image keeps its split when others are added.
/// Throws DataError naming the folder or file at fault.
ImageFolderListing list_image_folder(const std::string& directory, double test_fraction);

}  // namespace vae_cnn
