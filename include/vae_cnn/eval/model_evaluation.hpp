// Every figure `vae_cnn eval` reports for one set of weights on one split, and its JSON form.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/eval/likelihood.hpp"
#include "vae_cnn/model/encoder_health.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

struct ModelEvaluation {
  EvalMetrics metrics;             ///< loss, reconstruction, KL as training's validation reports them
  std::int64_t latent_dim = 0;
  /// Spread over images decides both: with fewer than 2 images neither can be told (empty).
  std::optional<std::int64_t> active_units;
  std::optional<EncoderHealth> encoder;  ///< hidden units alive and z_mean spread
  PixelLikelihood likelihood;
  double elbo = 0;                 ///< -(loss + constant): the bound the training loss stands for, nats
  double log_likelihood = 0;       ///< IWAE estimate of log p(x) with `samples` samples, nats per image
  std::int64_t samples = 0;
  std::uint64_t seed = 0;
};

/// Evaluates `model` on `data` (on the model's device): metrics with validation's fixed ε, active
/// units, and the IWAE estimate with `samples` samples seeded `seed`.
ModelEvaluation evaluate_model(ConvVae& model, const Dataset& data, const WeightsMetadata& metadata,
                               std::int64_t samples, std::uint64_t seed, std::int64_t batch_size = 128,
                               const SampleProgress& progress = {});

/// The evaluation and where it came from as a JSON object (pretty-printed, newline at the end).
std::string evaluation_json(const ModelEvaluation& evaluation, const WeightsMetadata& metadata,
                            const std::string& weights_path, const std::string& data_dir, const std::string& split);

}  // namespace vae_cnn
