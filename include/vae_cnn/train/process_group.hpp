// Data-parallel communication for `vae_cnn train` under torchrun: the launcher's environment, and a
// process group on PyTorch's c10d (Gloo over TCP, rendezvous through a TCPStore).
#pragma once

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/torch_api.hpp"

namespace vae_cnn {

/// What torchrun (or anyone starting ranks by hand) tells each process.
struct LauncherEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;  ///< ranks on this machine (LOCAL_WORLD_SIZE; WORLD_SIZE when unset)
  std::string master_addr;
  int master_port = 0;
  /// torchrun's agent serves the store at MASTER_ADDR:MASTER_PORT (TORCHELASTIC_USE_AGENT_STORE),
  /// so every rank connects to it as a client, under this key prefix; otherwise rank 0 serves it.
  bool agent_store = false;
  std::string store_prefix;
};

/// Reads RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT and torchrun's
/// TORCHELASTIC_USE_AGENT_STORE and TORCHELASTIC_RESTART_COUNT through `lookup` (getenv by
/// default). Empty when WORLD_SIZE is unset or 1: one process, no group. Throws UsageError naming
/// the variable when one is malformed or missing while WORLD_SIZE asks for a group.
std::optional<LauncherEnv> read_launcher_env(
    const std::function<const char*(const char*)>& lookup = [](const char* name) { return std::getenv(name); });

/// What a rank waits for while it joins its group, and where the waiting comes from: a stray
/// WORLD_SIZE left in a shell would otherwise make a plain run wait silently for the whole timeout.
std::string rendezvous_notice(const LauncherEnv& env, std::chrono::seconds timeout);


/// The library that carries a group's collectives: NCCL keeps a GPU rank's buffers on its GPU,
/// Gloo reduces in host memory (CPU ranks, and GPU ranks of a build without NCCL).
enum class CollectiveLibrary { kGloo, kNccl };
const char* to_string(CollectiveLibrary library);

/// Whether this build has NCCL's process group (LibTorch with CUDA, and nccl.h when it was built).
bool nccl_built();

/// The library for tensors on `device`: NCCL for a CUDA device where nccl_built(), Gloo otherwise.
CollectiveLibrary collective_library_for(const torch::Device& device);

/// Thrown when the group fails: a rank that died, a rendezvous that never came, a timeout.
class ProcessGroupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// The ranks of one data-parallel run. Every collective call must be made by every rank in the same
/// order; a rank that stops answering makes the others throw ProcessGroupError within `timeout`.
class DataParallelGroup {
 public:
  /// Joins the group: rank 0 serves the TCPStore at MASTER_ADDR:MASTER_PORT, the others connect;
  /// all wait for each other at most `timeout`. Throws ProcessGroupError on failure, and when this
  /// build has no Gloo (see `available()`).
  DataParallelGroup(const LauncherEnv& env, std::chrono::milliseconds timeout);
  ~DataParallelGroup();
  DataParallelGroup(const DataParallelGroup&) = delete;
  DataParallelGroup& operator=(const DataParallelGroup&) = delete;

  /// Whether this build can make a group (it was compiled with Gloo's headers).
  static bool available();

  /// Where the tensors of later collectives live: from a CUDA device on, NCCL carries them when
  /// collective_library_for() says so (its group is made here, on this group's store). Every rank
  /// calls it with its own device of the same kind.
  void use_device(const torch::Device& device);
  CollectiveLibrary library() const { return library_; }
  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }

  /// Copies rank 0's values of `tensors` into every rank's, in place.
  void broadcast_from_first(const std::vector<torch::Tensor>& tensors);

  /// Replaces each of `tensors` (float32, one device) by its sum over the ranks, in place: one
  /// all-reduce over a single flat buffer, not one call per tensor.
  void sum_in_place(const std::vector<torch::Tensor>& tensors);

 private:
  void run_collective(const char* what, const std::vector<torch::Tensor>& tensors, bool broadcast);
  /// After a failed collective: which ranks are gone, named with their pid and host.
  std::string missing_ranks() const;

  struct Impl;
  LauncherEnv env_;
  std::chrono::milliseconds timeout_;
  CollectiveLibrary library_ = CollectiveLibrary::kGloo;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vae_cnn
