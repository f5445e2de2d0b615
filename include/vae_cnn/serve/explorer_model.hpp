// What `vae_cnn serve` holds in memory: the model, the test split with its latent means, and a
// description of both for the page.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/eval/latent_codes.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

struct ExplorerModel {
  LoadedWeights weights;
  std::string weights_path;
  std::string data_dir;
  Dataset test;             ///< the test split, on the CPU
  LatentCodes test_codes;   ///< its latent means and log-variances
  double test_loss = 0;     ///< reconstruction + β·KL per image, as training's validation reports it
  double test_reconstruction = 0;
  double test_kl = 0;
};

/// Loads the weights onto `device` and the test split of `data_dir` (data/<data set> when empty),
/// encodes the split and evaluates the test loss. Throws DataError for unreadable weights or data.
ExplorerModel load_explorer_model(const std::string& weights_path, const std::string& data_dir, torch::Device device);

}  // namespace vae_cnn
