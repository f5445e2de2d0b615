// The step of full batches recorded once as a CUDA graph and replayed: its input (the batch's
// indices) and output (the loss sums) are tensors that stay put, written before and read after
// each replay. The recorded step is the eager one's arithmetic but for rounding in Adam's update
// (MultiTensorAdam::apply_graph_step).
#include "vae_cnn/eval/evaluation.hpp"
#include "vae_cnn/train/multi_tensor_adam.hpp"
#include "vae_cnn/train/step_graph.hpp"
#include "vae_cnn/train/training_step.hpp"

#include <algorithm>

namespace vae_cnn {
namespace {

// Steps taken eagerly before the first recording: cuDNN and cuBLAS choose their algorithms and
// set up their workspaces then, which a recording must not contain.
constexpr std::int64_t kEagerStepsBeforeRecording = 3;

void forget_gradients(ConvVae& model) {
  for (auto& parameter : model->parameters()) parameter.mutable_grad() = torch::Tensor();
}

class RecordedStep final : public TrainingStep {
 public:
  RecordedStep(const StepContext& context, MultiTensorAdam& adam);
  StepResult take(const torch::Tensor& indices, std::int64_t epoch, std::int64_t batch, double beta_now) override;

 private:
  bool goes_eagerly(std::int64_t batch_images);
  bool record(double beta_now);
  void whole_batch_step();

  const StepContext fit_;
  MultiTensorAdam& adam_;
  const std::unique_ptr<TrainingStep> eager_;
  StepGraph graph_;  // before the tensors: its stream is current while they are made and used
  torch::Tensor indices_, sums_;
  double beta_ = -1;               // the KL weight frozen into the recording
  std::int64_t eager_steps_ = 0;   // taken before the recording
  bool failed_ = false;            // recording failed: every step goes eagerly
};

RecordedStep::RecordedStep(const StepContext& context, MultiTensorAdam& adam)
    : fit_(context),
      adam_(adam),
      eager_(make_eager_step(context)),
      graph_(context.train.pixels.device()),
      indices_(torch::empty({std::min(context.train.size(), context.options.batch_size)},
                            torch::TensorOptions(torch::kLong).device(context.train.pixels.device()))),
      sums_(torch::zeros({3}, context.train.image_options())) {}

// A short last batch, the first few steps, and every step after a failed recording.
bool RecordedStep::goes_eagerly(std::int64_t batch_images) {
  if (failed_ || batch_images != indices_.size(0)) return true;
  if (!graph_.recorded() && eager_steps_ < kEagerStepsBeforeRecording) {
    ++eager_steps_;
    return true;
  }
  return false;
}

StepResult RecordedStep::take(const torch::Tensor& indices, std::int64_t epoch, std::int64_t batch, double beta_now) {
  if (goes_eagerly(indices.size(0))) return eager_->take(indices, epoch, batch, beta_now);
  fit_.set_warmup_learning_rate(epoch, batch);
  indices_.copy_(indices);
  adam_.prepare_graph_step();
  const bool replayable = (graph_.recorded() && beta_ == beta_now) || record(beta_now);
  if (replayable) {
    graph_.replay();
  } else {
    // This batch's step was counted and prepared: take it with the same arithmetic, unrecorded.
    forget_gradients(fit_.model);
    whole_batch_step();
  }
  StepResult result;
  result.sums = sums_;
  return result;
}

// Records the whole-batch step for KL weight `beta_now`; false, having said why, when that fails.
bool RecordedStep::record(double beta_now) {
  beta_ = beta_now;
  forget_gradients(fit_.model);
  try {
    graph_.record([&] { whole_batch_step(); });
    return true;
  } catch (const std::exception& error) {
    failed_ = true;
    if (fit_.callbacks.on_notice) {
      fit_.callbacks.on_notice(std::string("the training step could not be recorded as a CUDA graph (") +
                               error.what() + "); every step is launched eagerly from here on");
    }
    return false;
  }
}

// The device work of a whole-batch step on the rows `indices_` names, its loss sums into `sums_`:
// no host reads or writes, so that it can be recorded. The gradients must be undefined before, so
// that backward writes them rather than adding to them.
void RecordedStep::whole_batch_step() {
  const std::int64_t batch_images = indices_.size(0);
  const auto epsilon = torch::randn({batch_images, fit_.model->options().latent_dim()}, fit_.train.image_options());
  const auto images = fit_.train.images_at(indices_);
  const VaeLoss terms =
      loss_with_epsilon(fit_.model, images, epsilon, fit_.options.loss, beta_, fit_.options.precision);
  terms.total.backward();
  adam_.apply_graph_step();
  const auto reported = beta_ == fit_.options.beta ? terms.total : terms.reconstruction + fit_.options.beta * terms.kl;
  sums_.copy_(torch::stack({reported, terms.reconstruction, terms.kl}).detach() * batch_images);
}

}  // namespace

std::unique_ptr<TrainingStep> make_recorded_step(const StepContext& context, MultiTensorAdam& adam) {
  return std::make_unique<RecordedStep>(context, adam);
}

}  // namespace vae_cnn
