// Encoding a split into its latent means and log-variances (for `encode`, plots and checks).
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <string>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/model/conv_vae.hpp"

namespace vae_cnn {

/// The encoder's outputs for every image of a split, on the CPU.
struct LatentCodes {
  torch::Tensor z_mean;     ///< [N,latent]
  torch::Tensor z_log_var;  ///< [N,latent]
  torch::Tensor labels;     ///< [N] int64
};

/// Runs the encoder over `data` in batches, without gradients, in eval mode.
LatentCodes encode_dataset(ConvVae& model, const Dataset& data, std::int64_t batch_size = 1024);

/// CSV with header "index,label,class,z_mean_0,...,z_log_var_0,...", values to 9 significant
/// digits; `class` is the label's name in `class_names` (quoted as RFC 4180 says where needed),
/// empty for unlabelled images.
std::string latent_codes_csv(const LatentCodes& codes, const std::vector<std::string>& class_names);

}  // namespace vae_cnn
