// What both weights fuzz targets do with an input: load it as weights (and run the model) and as a
// checkpoint (and restore its training state). Each must succeed or throw DataError naming the file.
#pragma once

#include <cstdint>
#include <exception>

#include "fuzz_input_file.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/weights_file.hpp"
#include "vae_cnn/train/checkpoint.hpp"

namespace vae_cnn::fuzzing {

inline void exercise_loaders(const std::uint8_t* data, std::size_t size) {
  const FuzzInputFile file(data, size);
  try {
    LoadedWeights loaded = load_weights(file.path(), torch::kCPU);
    // A loaded model must run, reading every weight.
    torch::NoGradGuard no_grad;
    (void)loaded.model->forward(torch::full({1, 1, 28, 28}, 0.5));
  } catch (const DataError&) {
  } catch (const std::exception& error) {
    report_escaped_exception("load_weights", error.what());
  }
  try {
    const Checkpoint checkpoint = load_checkpoint(file.path(), torch::kCPU);
    ConvVae model = checkpoint.weights.model;
    torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3));
    restore_training_state(checkpoint, model, optimizer, torch::kCPU);
  } catch (const DataError&) {
  } catch (const std::exception& error) {
    report_escaped_exception("load_checkpoint", error.what());
  }
}

}  // namespace vae_cnn::fuzzing
