// c10d rather than sockets of our own: ProcessGroupGloo's all-reduce and TCPStore's rendezvous are
// what torch.distributed runs on, and torchrun sets up exactly the environment they read.
#include "vae_cnn/train/process_group.hpp"

#include <cerrno>
#include <cstdlib>
#include <limits>

#include "vae_cnn/error_text.hpp"
#include "vae_cnn/errors.hpp"

#ifdef VAE_CNN_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace vae_cnn {
namespace {

std::optional<long long> parse_integer(const char* text) {
  if (text == nullptr || *text == '\0') return std::nullopt;
  char* end = nullptr;
  errno = 0;
  const long long value = std::strtoll(text, &end, 10);
  if (errno != 0 || *end != '\0') return std::nullopt;
  return value;
}

int required_integer(const std::function<const char*(const char*)>& lookup, const char* name, long long low,
                     long long high) {
  const char* text = lookup(name);
  if (text == nullptr) throw UsageError(std::string("environment: ") + name + " is not set (torchrun sets it)");
  const auto value = parse_integer(text);
  if (!value || *value < low || *value > high) {
    throw UsageError(std::string("environment: ") + name + "='" + text + "' is not an integer in " +
                     std::to_string(low) + ".." + std::to_string(high));
  }
  return static_cast<int>(*value);
}


}  // namespace

std::optional<LauncherEnv> read_launcher_env(const std::function<const char*(const char*)>& lookup) {
  const char* world_text = lookup("WORLD_SIZE");
  if (world_text == nullptr) return std::nullopt;
  LauncherEnv env;
  env.world_size = required_integer(lookup, "WORLD_SIZE", 1, 65536);
  if (env.world_size == 1) return std::nullopt;
  env.rank = required_integer(lookup, "RANK", 0, env.world_size - 1);
  env.local_rank = lookup("LOCAL_RANK") != nullptr ? required_integer(lookup, "LOCAL_RANK", 0, 65535) : env.rank;
  const char* address = lookup("MASTER_ADDR");
  if (address == nullptr || *address == '\0') throw UsageError("environment: MASTER_ADDR is not set (torchrun sets it)");
  env.master_addr = address;
  env.master_port = required_integer(lookup, "MASTER_PORT", 1, 65535);
  return env;
}

#ifdef VAE_CNN_HAVE_GLOO

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

bool DataParallelGroup::available() { return true; }

DataParallelGroup::DataParallelGroup(const LauncherEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = static_cast<std::size_t>(env.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = timeout;
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, options);
  } catch (const std::exception& error) {
    throw ProcessGroupError("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                            ": cannot join the process group at " + where + " within " +
                            std::to_string(timeout.count() / 1000) + " s: " + first_line_of(error));
  }
}

DataParallelGroup::~DataParallelGroup() = default;

namespace {

// Every tensor in one flat buffer, so a collective is one call over the wire, not one per tensor.
torch::Tensor flatten(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> rows;
  rows.reserve(tensors.size());
  for (const auto& tensor : tensors) rows.push_back(tensor.reshape(-1));
  return torch::cat(rows);
}

void unflatten_into(const torch::Tensor& flat, const std::vector<torch::Tensor>& tensors) {
  std::int64_t offset = 0;
  for (const auto& tensor : tensors) {
    tensor.copy_(flat.slice(0, offset, offset + tensor.numel()).view_as(tensor));
    offset += tensor.numel();
  }
}

}  // namespace

void DataParallelGroup::run_collective(const char* what, const std::vector<torch::Tensor>& tensors, bool broadcast) {
  if (tensors.empty()) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> flat{flatten(tensors)};
  try {
    auto work = broadcast ? impl_->group->broadcast(flat) : impl_->group->allreduce(flat);
    work->wait(timeout_);
  } catch (const std::exception& error) {
    throw ProcessGroupError("rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + ": " + what +
                            " failed (another rank exited or stopped answering): " + first_line_of(error));
  }
  unflatten_into(flat[0], tensors);
}

void DataParallelGroup::broadcast_from_first(const std::vector<torch::Tensor>& tensors) {
  run_collective("broadcast", tensors, true);
}

void DataParallelGroup::sum_in_place(const std::vector<torch::Tensor>& tensors) {
  run_collective("all-reduce", tensors, false);
}

#else  // VAE_CNN_HAVE_GLOO

struct DataParallelGroup::Impl {};

bool DataParallelGroup::available() { return false; }

DataParallelGroup::DataParallelGroup(const LauncherEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout) {
  throw ProcessGroupError("this vae_cnn was built without Gloo's headers (libgloo-dev), so it cannot train across " +
                          std::to_string(env.world_size) + " processes");
}

DataParallelGroup::~DataParallelGroup() = default;
void DataParallelGroup::run_collective(const char*, const std::vector<torch::Tensor>&, bool) {}
void DataParallelGroup::broadcast_from_first(const std::vector<torch::Tensor>&) {}
void DataParallelGroup::sum_in_place(const std::vector<torch::Tensor>&) {}

#endif  // VAE_CNN_HAVE_GLOO

}  // namespace vae_cnn
