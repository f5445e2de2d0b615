#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/serve/explorer_model.hpp"

#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/eval/model_data.hpp"

namespace vae_cnn {

ExplorerModel load_explorer_model(const std::string& weights_path, const std::string& data_dir, torch::Device device) {
  ExplorerModel explorer;
  explorer.weights = load_weights(weights_path, device);
  explorer.weights_path = weights_path;
  explorer.data_dir = data_dir_for(explorer.weights.metadata.dataset, data_dir);
  explorer.test = load_split_for(explorer.data_dir, Split::kTest, explorer.weights.model->image_shape(),
                                 explorer.weights.metadata);
  explorer.test_codes = encode_dataset(explorer.weights.model, explorer.test);
  // The page shows the loss terms only (validation's, as `eval` prints them); the rest of
  // evaluate_model (codes once more, encoder health, a log-likelihood) would only slow start-up.
  const WeightsMetadata& metadata = explorer.weights.metadata;
  const EvalMetrics metrics = evaluate(explorer.weights.model, explorer.test, metadata.loss, metadata.beta, 128);
  explorer.test_loss = metrics.loss;
  explorer.test_reconstruction = metrics.reconstruction;
  explorer.test_kl = metrics.kl;
  return explorer;
}

}  // namespace vae_cnn
