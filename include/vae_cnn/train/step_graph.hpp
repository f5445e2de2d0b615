// A piece of GPU work recorded once as a CUDA graph and replayed: one launch for the hundred-odd
// kernels of a training step of this small model, whose launches, not its arithmetic, bound a
// GPU step. Built where LibTorch has CUDA; elsewhere it says why it cannot be used.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <functional>
#include <memory>
#include <string>

namespace vae_cnn {

class StepGraph {
 public:
  /// Why no graph can be recorded on `device` with this build, or "" when one can.
  static std::string unavailable_reason(torch::Device device);

  /// Waits for `device`'s work so far, then makes a side stream of it the current one until
  /// destruction (recording needs a stream other than the default one; work before, between and
  /// after replays runs there too, in order). Throws std::logic_error where unavailable_reason
  /// says no.
  explicit StepGraph(torch::Device device);
  ~StepGraph();
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  /// Records the device work of `work` without running it, replacing an earlier recording. Its
  /// inputs and outputs must be tensors that outlive the graph, written before and read after
  /// replay(); host numbers it reads are frozen into the graph. On a throw there is no graph.
  void record(const std::function<void()>& work);
  bool recorded() const;
  /// Runs the recorded work once more.
  void replay();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace vae_cnn
