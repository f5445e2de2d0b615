// Time from nothing to the first batch of a data set: load_data (listing, headers, decoding) and the
// first 128 images as float32, as `train` takes them.
//
//     build/vae_cnn_data_load_timing PATH [--image-size N] [--channels N] [--threads N] [--phases 1]
//
// Prints the seconds of each step and what was loaded; run it under /usr/bin/time -v for the peak
// memory. --phases 1 times an image folder's steps apart first (listing, headers, decoding), which
// reads the files once more. A developer tool, not part of vae_cnn's command line.
#include <ATen/Parallel.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/data/image_folder.hpp"
#include "vae_cnn/data/image_set.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The steps of load_data for an image folder, each timed alone.
void time_folder_phases(const std::string& path, const vae_cnn::DataOptions& options) {
  auto start = Clock::now();
  const vae_cnn::ImageFolderListing listing = vae_cnn::list_image_folder(path, options.test_fraction);
  std::printf("listing %zu + %zu files: %.2f s\n", listing.train.size(), listing.test.size(), seconds_since(start));
  start = Clock::now();
  const vae_cnn::PixelGrid shape = vae_cnn::probe_image_folder(listing, options);
  std::printf("reading every header: %.2f s\n", seconds_since(start));
  start = Clock::now();
  const vae_cnn::Dataset train = vae_cnn::decode_image_entries(listing.train, shape, options, nullptr);
  const vae_cnn::Dataset test = vae_cnn::decode_image_entries(listing.test, shape, options, nullptr);
  std::printf("decoding %lld images: %.2f s\n", static_cast<long long>(train.size() + test.size()), seconds_since(start));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PATH [--image-size N] [--channels N] [--threads N]\n", argv[0]);
    return 2;
  }
  vae_cnn::DataOptions options;
  bool phases = false;
  for (int i = 2; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const long value = std::strtol(argv[i + 1], nullptr, 10);
    if (flag == "--image-size") options.image_size = value;
    else if (flag == "--channels") options.channels = value;
    else if (flag == "--threads") at::set_num_threads(static_cast<int>(value));
    else if (flag == "--phases") phases = value != 0;
  }
  try {
    if (phases) time_folder_phases(argv[1], options);
    const auto start = Clock::now();
    const vae_cnn::DataSplits data = vae_cnn::load_data(argv[1], options);
    const double loaded = seconds_since(start);
    const torch::Tensor batch = data.train.images(0, 128);
    const double first_batch = seconds_since(start);
    std::printf("%s: %s, %lld training + %lld test images of %s, %zu classes, %lld resized, %lld files ignored\n",
                data.name.c_str(), data.form.c_str(), static_cast<long long>(data.train.size()),
                static_cast<long long>(data.test.size()),
                c10::str(data.train.pixels.sizes().slice(1)).c_str(), data.class_names.size(),
                static_cast<long long>(data.resized), static_cast<long long>(data.ignored_files));
    std::printf("threads %d: loaded in %.2f s, first batch %s float32 at %.2f s\n", at::get_num_threads(), loaded,
                c10::str(batch.sizes()).c_str(), first_batch);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "error: %s\n", error.what());
    return 1;
  }
  return 0;
}
