// c10d rather than sockets of our own: ProcessGroupGloo's all-reduce and TCPStore's rendezvous are
// what torch.distributed runs on, and torchrun sets up exactly the environment they read.
#include "vae_cnn/train/process_group.hpp"

#include <cerrno>
#include <cstdlib>
#include <limits>
#include <thread>

#include "vae_cnn/error_text.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/folder_lock.hpp"

#ifdef VAE_CNN_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#ifdef VAE_CNN_HAVE_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
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
  // Without it, assume every rank shares this machine: too few threads per rank cost far less
  // than OpenMP threads of several ranks fighting over the same cores.
  env.local_world_size = lookup("LOCAL_WORLD_SIZE") != nullptr
                             ? required_integer(lookup, "LOCAL_WORLD_SIZE", 1, 65536)
                             : env.world_size;
  const char* address = lookup("MASTER_ADDR");
  if (address == nullptr || *address == '\0') throw UsageError("environment: MASTER_ADDR is not set (torchrun sets it)");
  env.master_addr = address;
  env.master_port = required_integer(lookup, "MASTER_PORT", 1, 65535);
  // As torch.distributed's env:// rendezvous does under torchrun.
  const char* agent_store = lookup("TORCHELASTIC_USE_AGENT_STORE");
  env.agent_store = agent_store != nullptr && std::string(agent_store) == "True";
  if (env.agent_store) {
    const char* attempt = lookup("TORCHELASTIC_RESTART_COUNT");
    env.store_prefix = std::string("/worker/attempt_") + (attempt != nullptr ? attempt : "0");
  }
  return env;
}

std::string rendezvous_notice(const LauncherEnv& env, std::chrono::seconds timeout) {
  const int others = env.world_size - 1;
  return "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) + " (WORLD_SIZE=" +
         std::to_string(env.world_size) + " and RANK=" + std::to_string(env.rank) +
         " in the environment, as torchrun sets them): waiting up to " + std::to_string(timeout.count()) +
         " s for the other " + (others == 1 ? "rank" : std::to_string(others) + " ranks") + " at " + env.master_addr +
         ":" + std::to_string(env.master_port) + "; for a run of one process, unset WORLD_SIZE";
}

const char* to_string(CollectiveLibrary library) { return library == CollectiveLibrary::kNccl ? "NCCL" : "Gloo"; }

bool nccl_built() {
#ifdef VAE_CNN_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

CollectiveLibrary collective_library_for(const torch::Device& device) {
  return device.is_cuda() && nccl_built() ? CollectiveLibrary::kNccl : CollectiveLibrary::kGloo;
}

#ifdef VAE_CNN_HAVE_GLOO

namespace {

std::string member_key(int rank) { return "vae_cnn/member/" + std::to_string(rank); }
std::string survivor_key(int rank) { return "vae_cnn/survivor/" + std::to_string(rank); }

std::string store_text(c10d::Store& store, const std::string& key) {
  const auto bytes = store.get(key);
  return std::string(bytes.begin(), bytes.end());
}

// How long survivors of a failed collective wait for each other to check in before naming the
// ranks that did not: long enough for a live rank to notice the failure too.
constexpr std::chrono::seconds kCheckInWindow{10};

}  // namespace

struct DataParallelGroup::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
#ifdef VAE_CNN_HAVE_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;  ///< made by use_device for GPU ranks
#endif
  std::string first_rank_name;  ///< rank 0's "pid N on HOST", kept for when its store is gone
};

bool DataParallelGroup::available() { return true; }

DataParallelGroup::DataParallelGroup(const LauncherEnv& env, std::chrono::milliseconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  // c10d logs its socket troubles through glog as well as throwing them; the exceptions reach the
  // user as one line, so the log lines would only repeat them. TORCH_CPP_LOG_LEVEL, PyTorch's own
  // switch for these, still brings them back.
  if (std::getenv("TORCH_CPP_LOG_LEVEL") == nullptr) FLAGS_caffe2_log_level = 3;  // above ERROR
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<std::uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0 && !env.agent_store;
    store_options.numWorkers = static_cast<std::size_t>(env.world_size);
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    if (env.agent_store) impl_->store = c10::make_intrusive<c10d::PrefixStore>(env.store_prefix, impl_->store);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = timeout;
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(env.master_addr));
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, options);
    const std::string name = this_process_and_host();
    impl_->store->set(member_key(env.rank), std::vector<std::uint8_t>(name.begin(), name.end()));
    impl_->first_rank_name = store_text(*impl_->store, member_key(0));  // waits for rank 0's entry
  } catch (const std::exception& error) {
    throw ProcessGroupError("rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size) +
                            ": cannot join the process group at " + where + " within " +
                            std::to_string(timeout.count() / 1000) + " s: " + first_line_of(error));
  }
}

DataParallelGroup::~DataParallelGroup() = default;

void DataParallelGroup::use_device(const torch::Device& device) {
  library_ = collective_library_for(device);
#ifdef VAE_CNN_HAVE_NCCL
  if (library_ == CollectiveLibrary::kNccl && !impl_->nccl) {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout_;
    // Its own key space on the same store: NCCL's rendezvous keys must not meet Gloo's.
    const auto store = c10::make_intrusive<c10d::PrefixStore>("vae_cnn/nccl", impl_->store);
    impl_->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env_.rank, env_.world_size, options);
  }
#endif
}

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
  // NCCL reduces on the GPU; Gloo in host memory, so a GPU buffer makes the trip through it.
  const bool on_gpu = library_ == CollectiveLibrary::kNccl;
  std::vector<torch::Tensor> flat{on_gpu ? flatten(tensors) : flatten(tensors).to(torch::kCPU)};
  try {
    c10::intrusive_ptr<c10d::Work> work;
#ifdef VAE_CNN_HAVE_NCCL
    if (on_gpu) work = broadcast ? impl_->nccl->broadcast(flat) : impl_->nccl->allreduce(flat);
#endif
    if (!work) work = broadcast ? impl_->group->broadcast(flat) : impl_->group->allreduce(flat);
    work->wait(timeout_);
  } catch (const std::exception& error) {
    throw ProcessGroupError("rank " + std::to_string(rank()) + " of " + std::to_string(world_size()) + ": " + what +
                            " failed: " + missing_ranks() + " (" + first_line_of(error) + ")");
  }
  unflatten_into(flat[0], tensors);
}

// Gloo says only that a connection broke or timed out. The survivors find out who is gone by
// checking in at the store and waiting a moment for each other; rank 0 serves the store, so a
// store that no longer answers means rank 0 is gone.
std::string DataParallelGroup::missing_ranks() const {
  const auto describe = [](int rank, const std::string& name) {
    return "rank " + std::to_string(rank) + (name.empty() ? "" : " (" + name + ")");
  };
  try {
    impl_->store->set(survivor_key(rank()), std::vector<std::uint8_t>{1});
    const auto not_checked_in = [this] {
      std::vector<int> ranks;
      for (int other = 0; other < world_size(); ++other) {
        if (other != rank() && !impl_->store->check({survivor_key(other)})) ranks.push_back(other);
      }
      return ranks;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::min<std::chrono::milliseconds>(kCheckInWindow, timeout_);
    std::vector<int> missing = not_checked_in();
    while (!missing.empty() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      missing = not_checked_in();
    }
    if (missing.empty()) return "every rank is still there, so the connection itself failed";
    std::string names;
    for (const int other : missing) {
      if (!names.empty()) names += ", ";
      names += describe(other, store_text(*impl_->store, member_key(other)));
    }
    return names + " exited or stopped answering";
  } catch (const std::exception&) {
    if (env_.agent_store) return "torchrun's agent, which serves the rendezvous, exited or stopped answering";
    return describe(0, impl_->first_rank_name) + ", which serves the rendezvous, exited or stopped answering";
  }
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
void DataParallelGroup::use_device(const torch::Device&) {}
void DataParallelGroup::run_collective(const char*, const std::vector<torch::Tensor>&, bool) {}
std::string DataParallelGroup::missing_ranks() const { return ""; }
void DataParallelGroup::broadcast_from_first(const std::vector<torch::Tensor>&) {}
void DataParallelGroup::sum_in_place(const std::vector<torch::Tensor>&) {}

#endif  // VAE_CNN_HAVE_GLOO

}  // namespace vae_cnn
