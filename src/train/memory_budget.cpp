// Without this check a batch too large for the machine ends in the kernel's OOM killer (SIGKILL,
// no message) or, under `ulimit -v`, in OpenBLAS retrying a failed mmap forever.
#include "vae_cnn/train/memory_budget.hpp"

#include <spdlog/fmt/fmt.h>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {
namespace {

// Peak resident memory of `vae_cnn train` on one thread grew by 573–823 KB per image of batch
// between batches of 256, 2,048 and 4,096 (/usr/bin/time -v, data/mnist): the lower figure, so
// that only runs that certainly cannot fit are refused.
constexpr std::uint64_t kBytesPerBatchImage = 560 * 1024;
// A parameter, its gradient and Adam's two moments (RMSprop keeps one), float32 each.
constexpr std::uint64_t kBytesPerParameter = 4 * sizeof(float);

double gib(std::uint64_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0); }

}  // namespace

std::uint64_t bytes_per_batch_image(std::int64_t image_area) {
  return kBytesPerBatchImage * static_cast<std::uint64_t>(image_area) / static_cast<std::uint64_t>(kMnistImageArea);
}

std::uint64_t estimated_training_bytes(std::int64_t batch_images, std::int64_t parameters, std::int64_t image_area) {
  return static_cast<std::uint64_t>(batch_images) * bytes_per_batch_image(image_area) +
         static_cast<std::uint64_t>(parameters) * kBytesPerParameter;
}

void check_training_fits(std::int64_t batch_images, std::int64_t parameters, std::int64_t latent_dim,
                         std::optional<std::uint64_t> available, std::int64_t image_area) {
  if (!available) return;
  const std::uint64_t needed = estimated_training_bytes(batch_images, parameters, image_area);
  if (needed <= *available) return;
  const std::uint64_t parameter_bytes = estimated_training_bytes(0, parameters);
  const std::uint64_t largest_batch =
      *available > parameter_bytes ? (*available - parameter_bytes) / bytes_per_batch_image(image_area) : 0;
  const std::string advice = largest_batch >= 1 ? fmt::format("use --batch-size {} or less", largest_batch)
                                                : "use a smaller --latent-dim";
  throw ResourceError(fmt::format(
      "a training step with batches of {} images and latent size {} needs about {:.2f} GiB, but only {:.2f} GiB of "
      "memory is available (MemAvailable, cgroup memory.max or ulimit -v); {}",
      batch_images, latent_dim, gib(needed), gib(*available), advice));
}

}  // namespace vae_cnn
