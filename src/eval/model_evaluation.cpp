#include "vae_cnn/eval/model_evaluation.hpp"

#include <nlohmann/json.hpp>

#include "vae_cnn/eval/latent_codes.hpp"

namespace vae_cnn {
namespace {

// What could not be measured is null in the report, not a zero that reads as a finding.
template <typename T>
nlohmann::ordered_json or_null(const std::optional<T>& value) {
  return value ? nlohmann::ordered_json(*value) : nlohmann::ordered_json(nullptr);
}

}  // namespace

ModelEvaluation evaluate_model(ConvVae& model, const Dataset& data, const WeightsMetadata& metadata,
                               std::int64_t samples, std::uint64_t seed, std::int64_t batch_size,
                               const SampleProgress& progress) {
  ModelEvaluation evaluation;
  evaluation.metrics = evaluate(model, data, metadata.loss, metadata.beta, batch_size);
  evaluation.latent_dim = metadata.latent_dim;
  if (data.size() >= 2) {
    evaluation.active_units = active_units(encode_dataset(model, data).z_mean);
    evaluation.encoder = encoder_health(model, data, batch_size);
  }
  evaluation.likelihood = pixel_likelihood(metadata.loss, data.size() > 0 ? data.pixels[0].numel() : 0);
  // The training loss uses β·KL; the bound on log p(x) needs the plain KL.
  evaluation.elbo = -(evaluation.metrics.reconstruction + evaluation.metrics.kl + evaluation.likelihood.constant_nats);
  evaluation.samples = samples;
  evaluation.seed = seed;
  if (data.size() > 0) {
    evaluation.log_likelihood =
        importance_weighted_bound(model, data, metadata.loss, samples, seed, 1024, progress).mean().item<double>();
  }
  return evaluation;
}

std::string evaluation_json(const ModelEvaluation& evaluation, const WeightsMetadata& metadata,
                            const std::string& weights_path, const std::string& data_dir, const std::string& split) {
  const std::optional<EncoderHealth>& encoder = evaluation.encoder;
  const nlohmann::ordered_json report = {
      {"weights",
       {{"path", weights_path},
        {"dataset", metadata.dataset},
        {"loss", to_string(metadata.loss)},
        {"beta", metadata.beta},
        {"latent_dim", metadata.latent_dim},
        {"epochs", metadata.epochs}}},
      {"data", {{"path", data_dir}, {"split", split}, {"images", evaluation.metrics.images}}},
      {"loss", evaluation.metrics.loss},
      {"reconstruction", evaluation.metrics.reconstruction},
      {"kl", evaluation.metrics.kl},
      {"active_units", or_null(evaluation.active_units)},
      {"hidden_units", or_null(encoder ? std::optional(encoder->hidden_units) : std::nullopt)},
      {"hidden_units_alive", or_null(encoder ? std::optional(encoder->hidden_alive) : std::nullopt)},
      {"z_mean_spread", or_null(encoder ? std::optional(encoder->z_mean_spread) : std::nullopt)},
      {"encoder_uses_input", or_null(encoder ? std::optional(encoder->uses_input()) : std::nullopt)},
      {"likelihood", {{"model", evaluation.likelihood.description}, {"constant_nats", evaluation.likelihood.constant_nats}}},
      {"elbo_nats", evaluation.elbo},
      {"log_likelihood_nats", evaluation.log_likelihood},
      {"importance_samples", evaluation.samples},
      {"seed", evaluation.seed},
  };
  return report.dump(2) + "\n";
}

}  // namespace vae_cnn
