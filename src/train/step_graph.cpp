#include "vae_cnn/train/step_graph.hpp"

#include <stdexcept>

#ifdef VAE_CNN_CUDA_GRAPHS
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#endif

namespace vae_cnn {

#ifdef VAE_CNN_CUDA_GRAPHS

struct StepGraph::State {
  explicit State(c10::DeviceIndex index) : stream(c10::cuda::getStreamFromPool(false, index)), current(stream) {}
  c10::cuda::CUDAStream stream;
  c10::cuda::CUDAStreamGuard current;
  std::unique_ptr<at::cuda::CUDAGraph> graph;
};

std::string StepGraph::unavailable_reason(torch::Device device) {
  return device.is_cuda() ? "" : "CUDA graphs are for GPUs";
}

StepGraph::StepGraph(torch::Device device) {
  if (!device.is_cuda()) throw std::logic_error("StepGraph: " + unavailable_reason(device));
  const c10::DeviceIndex index = device.has_index() ? device.index() : c10::cuda::current_device();
  c10::cuda::device_synchronize();  // the data and the model were put there on the default stream
  state_ = std::make_unique<State>(index);
}

StepGraph::~StepGraph() {
  // What was queued on the side stream is done before the default stream becomes current again.
  if (state_) state_->stream.synchronize();
}

void StepGraph::record(const std::function<void()>& work) {
  state_->graph.reset();
  auto graph = std::make_unique<at::cuda::CUDAGraph>();
  graph->capture_begin();
  try {
    work();
  } catch (...) {
    try {
      graph->capture_end();  // ends the stream's capture; it reports the failure again
    } catch (const std::exception&) {
    }
    throw;
  }
  graph->capture_end();
  state_->graph = std::move(graph);
}

bool StepGraph::recorded() const { return state_->graph != nullptr; }

void StepGraph::replay() { state_->graph->replay(); }

#else

struct StepGraph::State {};

std::string StepGraph::unavailable_reason(torch::Device device) {
  return device.is_cuda() ? "this vae_cnn was built without CUDA graphs" : "CUDA graphs are for GPUs";
}

StepGraph::StepGraph(torch::Device device) {
  throw std::logic_error("StepGraph: " + unavailable_reason(device));
}

StepGraph::~StepGraph() = default;

void StepGraph::record(const std::function<void()>& /*work*/) {
  throw std::logic_error("StepGraph: " + unavailable_reason(torch::kCUDA));
}

bool StepGraph::recorded() const { return false; }

void StepGraph::replay() { throw std::logic_error("StepGraph: " + unavailable_reason(torch::kCUDA)); }

#endif

}  // namespace vae_cnn
