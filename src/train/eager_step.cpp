// The step as LibTorch launches it, kernel by kernel: the CPU's, a data-parallel group's, and a
// GPU's where no graph is recorded.
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/train/training_step.hpp"

#include <algorithm>

namespace vae_cnn {
namespace {

// The rows of a batch this process works on: all of them without a group.
RowShard own_rows(std::int64_t batch_images, const DataParallelGroup* group) {
  return group == nullptr ? RowShard{0, batch_images} : shard_rows(batch_images, group->rank(), group->world_size());
}

// One all-reduce per step carries everything the ranks must agree on: the gradients (each rank's
// share of the batch mean, so their sum is the batch's), the step's loss sums, and whether any rank
// was asked to stop. Returns that last.
bool sum_over_ranks(DataParallelGroup& group, ConvVae& model, torch::Tensor& step_sums, bool stop_here) {
  std::vector<torch::Tensor> tensors;
  for (auto& parameter : model->parameters()) {
    // A rank without rows of a small last batch has no gradients yet; it adds zeros.
    if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    tensors.push_back(parameter.grad());
  }
  const auto stop_votes = torch::full({1}, stop_here ? 1.0f : 0.0f, step_sums.options());
  tensors.push_back(step_sums);
  tensors.push_back(stop_votes);
  group.sum_in_place(tensors);
  return stop_votes.item<float>() > 0;
}

class EagerStep final : public TrainingStep {
 public:
  explicit EagerStep(const StepContext& context) : fit_(context) {}
  StepResult take(const torch::Tensor& indices, std::int64_t epoch, std::int64_t batch, double beta_now) override;

 private:
  const StepContext fit_;
};

StepResult EagerStep::take(const torch::Tensor& indices, std::int64_t epoch, std::int64_t batch, double beta_now) {
  const FitOptions& options = fit_.options;
  const std::int64_t batch_images = indices.size(0);
  StepResult result;
  // Drawn exactly as the forward pass of the whole batch would draw it, so one process's run and a
  // group's take the same ε.
  const auto epsilon = torch::randn({batch_images, fit_.model->options().latent_dim()}, fit_.train.image_options());
  const RowShard rows = own_rows(batch_images, fit_.group);
  fit_.optimizer.zero_grad();
  result.sums = torch::zeros({3}, fit_.train.image_options());
  if (rows.size() > 0) {
    const auto images = fit_.train.images_at(indices.slice(0, rows.begin, rows.end));
    const VaeLoss terms = loss_with_epsilon(fit_.model, images, epsilon.slice(0, rows.begin, rows.end), options.loss,
                                            beta_now, options.precision);
    // This rank's share of the batch mean: the ranks' gradients then add up to the whole batch's.
    (rows.size() == batch_images ? terms.total : terms.total * (static_cast<double>(rows.size()) / batch_images))
        .backward();
    // The loss columns use the full β; only during a warm-up does that differ from the optimised loss.
    const auto reported = beta_now == options.beta ? terms.total : terms.reconstruction + options.beta * terms.kl;
    result.sums = torch::stack({reported, terms.reconstruction, terms.kl}).detach() * rows.size();
  }
  // A group decides together, in the step's all-reduce, so that every rank stops at this batch.
  result.group_stops =
      fit_.group != nullptr && sum_over_ranks(*fit_.group, fit_.model, result.sums, fit_.stop_requested());
  fit_.set_warmup_learning_rate(epoch, batch);
  fit_.optimizer.step();
  return result;
}

}  // namespace

std::unique_ptr<TrainingStep> make_eager_step(const StepContext& context) {
  return std::make_unique<EagerStep>(context);
}

}  // namespace vae_cnn
