// Decoding and converting images on every intra-op thread, with errors that do not depend on which
// thread met them first.
#include "vae_cnn/data/image_set.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>

#include "vae_cnn/data/image_decode.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/regular_file.hpp"

namespace vae_cnn {
namespace {

// Runs work(i) for every i below `count` in parallel. When some throw, the exception of the lowest
// index is rethrown (indices above a failure are skipped), so the same data gives the same message.
void for_each_image(std::int64_t count, const std::function<void(std::int64_t)>& work) {
  std::atomic<std::int64_t> first_failed{count};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  // 16 images a task: decoding one 28×28 PNG takes microseconds, a task's start about as long.
  at::parallel_for(0, count, 16, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end && i < first_failed.load(); ++i) {
      try {
        work(i);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (i < first_failed.load()) {
          first_failed = i;
          failure = std::current_exception();
        }
        return;
      }
    }
  });
  if (failure) std::rethrow_exception(failure);
}

std::string grid_text(const PixelGrid& grid) { return std::to_string(grid.width) + "x" + std::to_string(grid.height); }

std::string read_image_file(const std::string& path) {
  return read_regular_file(path, "an image file", kMaxImageFileBytes);
}

void check_side_limit(const std::string& path, const PixelGrid& header, const DataOptions& options) {
  if (options.image_size == 0 && std::max(header.width, header.height) > options.max_image_side) {
    throw DataError(path, "is " + grid_text(header) + " pixels, larger than " + std::to_string(options.max_image_side) +
                              " a side, the most the model takes: give an image size to resize the images to");
  }
}

}  // namespace

PixelGrid probe_image_folder(const ImageFolderListing& listing, const DataOptions& options) {
  std::vector<const ImageEntry*> all;
  for (const auto* split : {&listing.train, &listing.test}) {
    for (const ImageEntry& entry : *split) all.push_back(&entry);
  }
  std::vector<PixelGrid> headers(all.size());
  for_each_image(static_cast<std::int64_t>(all.size()), [&](std::int64_t i) {
    const std::string& path = all[static_cast<std::size_t>(i)]->path;
    headers[static_cast<std::size_t>(i)] = read_image_header(path, read_image_file(path));
    check_side_limit(path, headers[static_cast<std::size_t>(i)], options);
  });
  PixelGrid shape{options.image_size, options.image_size, options.channels};
  std::int64_t colour = 1;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    colour = std::max(colour, own_channels(headers[i].channels));
    if (options.image_size != 0) continue;
    if (headers[i].width != headers[0].width || headers[i].height != headers[0].height) {
      throw DataError(all[i]->path, "is " + grid_text(headers[i]) + " pixels, but " + all[0]->path + " is " +
                                        grid_text(headers[0]) + ": images of different sizes need image_size");
    }
  }
  if (options.image_size == 0 && !headers.empty()) {
    shape.width = headers[0].width;
    shape.height = headers[0].height;
  }
  if (shape.channels == 0) shape.channels = colour;
  return shape;
}

Dataset decode_image_entries(const std::vector<ImageEntry>& entries, const PixelGrid& shape,
                             const DataOptions& options, std::int64_t* resized) {
  const auto count = static_cast<std::int64_t>(entries.size());
  Dataset data;
  data.pixels = torch::empty({count, shape.channels, shape.height, shape.width}, torch::kUInt8);
  data.labels = torch::empty({count}, torch::kInt64);
  std::uint8_t* pixels = data.pixels.data_ptr<std::uint8_t>();
  std::int64_t* labels = data.labels.data_ptr<std::int64_t>();
  const std::int64_t image_bytes = shape.channels * shape.height * shape.width;
  std::atomic<std::int64_t> resized_count{0};
  for_each_image(count, [&](std::int64_t i) {
    const ImageEntry& entry = entries[static_cast<std::size_t>(i)];
    const std::string bytes = read_image_file(entry.path);
    const PixelGrid header = read_image_header(entry.path, bytes);
    // The file was probed before: one changed since must still fit the tensor made for it.
    if (options.image_size == 0 && (header.width != shape.width || header.height != shape.height)) {
      throw DataError(entry.path, "is " + grid_text(header) + " pixels, but was " + grid_text(shape) +
                                      " when the folder was read (changed while loading?)");
    }
    const std::vector<std::uint8_t> decoded = decode_image(entry.path, bytes, header);
    if (convert_image(decoded.data(), header, shape.channels, options.image_size, pixels + i * image_bytes)) {
      ++resized_count;
    }
    labels[i] = entry.label;
  });
  if (resized != nullptr) *resized += resized_count.load();
  return data;
}

torch::Tensor shape_pixels(const std::uint8_t* images, std::int64_t count, const PixelGrid& grid,
                           const DataOptions& options, std::int64_t* resized) {
  const std::int64_t channels = options.channels != 0 ? options.channels : own_channels(grid.channels);
  const std::int64_t height = options.image_size != 0 ? options.image_size : grid.height;
  const std::int64_t width = options.image_size != 0 ? options.image_size : grid.width;
  torch::Tensor pixels = torch::empty({count, channels, height, width}, torch::kUInt8);
  std::uint8_t* out = pixels.data_ptr<std::uint8_t>();
  const std::int64_t in_bytes = grid.width * grid.height * grid.channels;
  const std::int64_t out_bytes = channels * height * width;
  std::atomic<std::int64_t> resized_count{0};
  for_each_image(count, [&](std::int64_t i) {
    if (convert_image(images + i * in_bytes, grid, channels, options.image_size, out + i * out_bytes)) ++resized_count;
  });
  if (resized != nullptr) *resized += resized_count.load();
  return pixels;
}

}  // namespace vae_cnn
