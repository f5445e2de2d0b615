// The weights and checkpoint loaders on arbitrary bytes: each must return a usable model or throw
// DataError naming the file. The unpickler itself is LibTorch's (not instrumented); what this
// explores is everything of ours around it, and whatever LibTorch lets through to us.
#include <cstdint>
#include <exception>

#include "fuzz_input_file.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const vae_cnn::fuzzing::FuzzInputFile file(data, size);
  try {
    vae_cnn::LoadedWeights loaded = vae_cnn::load_weights(file.path(), torch::kCPU);
    // A loaded model must run.
    torch::NoGradGuard no_grad;
    (void)loaded.model->decode(torch::zeros({1, loaded.metadata.latent_dim}));
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("load_weights", error.what());
  }
  try {
    const vae_cnn::Checkpoint checkpoint = vae_cnn::load_checkpoint(file.path(), torch::kCPU);
    (void)checkpoint;
  } catch (const vae_cnn::DataError&) {
  } catch (const std::exception& error) {
    vae_cnn::fuzzing::report_escaped_exception("load_checkpoint", error.what());
  }
  return 0;
}
