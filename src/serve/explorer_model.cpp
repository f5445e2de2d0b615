#include "vae_cnn/serve/explorer_model.hpp"

#include "vae_cnn/eval/model_evaluation.hpp"

namespace vae_cnn {

ExplorerModel load_explorer_model(const std::string& weights_path, const std::string& data_dir, torch::Device device) {
  ExplorerModel explorer;
  explorer.weights = load_weights(weights_path, device);
  explorer.weights_path = weights_path;
  explorer.data_dir = data_dir_for(explorer.weights.metadata, data_dir);
  explorer.test = load_split(explorer.data_dir, Split::kTest);
  explorer.test_codes = encode_dataset(explorer.weights.model, explorer.test);
  // One importance sample: the loss terms are what the page shows, not a log-likelihood.
  const ModelEvaluation evaluation =
      evaluate_model(explorer.weights.model, explorer.test, explorer.weights.metadata, 1, 0);
  explorer.test_loss = evaluation.metrics.loss;
  explorer.test_reconstruction = evaluation.metrics.reconstruction;
  explorer.test_kl = evaluation.metrics.kl;
  return explorer;
}

}  // namespace vae_cnn
