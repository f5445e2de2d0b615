// The table itself: one row per option of `vae_cnn train`. TrainConfig's defaults are the
// options' defaults; train_option_values.cpp derives everything else from these rows.
#include "vae_cnn/train/train_options.hpp"

#include <cmath>
#include <limits>

#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/model/loss.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

constexpr double kUnbounded = std::numeric_limits<double>::infinity();

OptionBounds between(double low, double high) { return {low, high, false}; }

// Rows read as a table: name, field, member, help, then what differs from the usual (a value
// option, recorded, may change on --resume, shown in the start-up log).
TrainOption row(std::string name, std::string field, TrainField member, std::string help) {
  TrainOption option;
  option.name = std::move(name);
  option.field = std::move(field);
  option.member = member;
  option.help = std::move(help);
  return option;
}

TrainOption bounded(TrainOption option, const OptionBounds& bounds, std::string expectation) {
  option.bounds = bounds;
  option.expectation = std::move(expectation);
  return option;
}

TrainOption expecting(TrainOption option, std::string expectation) {
  option.expectation = std::move(expectation);
  return option;
}

TrainOption kept(TrainOption option) {
  option.on_resume = OnResume::kKept;
  return option;
}

TrainOption each_run(TrainOption option) {
  option.recorded = false;
  option.on_resume = OnResume::kEachRun;
  option.logged = false;
  return option;
}

TrainOption unlogged(TrainOption option) {
  option.logged = false;
  return option;
}

TrainOption switch_to(TrainOption option, std::string value) {
  option.switch_value = std::move(value);
  return option;
}

TrainOption spelled_as_a_device(TrainOption option) {
  option.check_text = check_device_spec;
  return option;
}

TrainOption drawn_when_absent(TrainOption option) {
  option.has_default = false;
  return option;
}

TrainOption allowing(TrainOption option, bool (*number_allowed)(double value)) {
  option.number_allowed = number_allowed;
  return option;
}

// Two stride-2 convolutions halve a side twice and the transposed ones double it back.
bool side_the_model_takes(double side) {
  return side == 0 || (side >= 4 && side <= kMaxImageSide && std::fmod(side, 4) == 0);
}

bool grey_or_colour(double channels) { return channels == 0 || channels == 1 || channels == 3; }

TrainOption recorded_since(TrainOption option, std::string value_before) {
  option.value_before_recorded = std::move(value_before);
  return option;
}

// The data and the shape its images take.
std::vector<TrainOption> data_rows() {
  using C = TrainConfig;
  return {
      // The data set's name must agree on --resume; its folder may move (merge_resume_options).
      unlogged(expecting(row("data", "data_dir", &C::data_dir,
                             "the data: a folder of the four IDX files, an image folder (DIR/train/<class>/*, "
                             "DIR/test/<class>/*, or DIR/<class>/*) or a .npz file (x_train, y_train, x_test, y_test)"),
                         "a folder or file name")),
      // The shape of the images defines the model's layers; runs from before had MNIST's own.
      // Unlogged: the start-up log's data line says what they made of the data.
      unlogged(recorded_since(kept(allowing(expecting(row("image-size", "image_size", &C::image_size,
                                                 "resize every image to N x N, area-averaged when shrinking (0 = the "
                                                 "data's own size)"),
                                             "0 (the data's own size) or a multiple of 4 from 4 to " +
                                                 std::to_string(kMaxImageSide)),
                                   side_the_model_takes)),
                     "0")),
      unlogged(recorded_since(kept(allowing(expecting(row("channels", "channels", &C::channels,
                                                 "1 (grey) or 3 (RGB), converting images that differ (0 = the data's "
                                                 "own)"),
                                             "0 (the data's own), 1 (grey) or 3 (RGB)"),
                                   grey_or_colour)),
                     "0")),
      unlogged(recorded_since(kept(bounded(row("test-fraction", "test_fraction", &C::test_fraction,
                                      "share of the images held out for testing when the data has no test split "
                                      "(class folders alone; the same images on every run)"),
                                  {0, 0.9, true}, "a number above 0 and at most 0.9")),
                     "0.16666666666666666")),
  };
}

// What is trained: the loss, the model and its optimiser.
std::vector<TrainOption> training_rows() {
  using C = TrainConfig;
  return {
      kept(switch_to(row("bce", "loss", &C::loss, "binary cross-entropy reconstruction loss (default: MSE x 784)"),
                     "bce")),
      bounded(row("epochs", "epochs", &C::epochs, "epochs to train"), between(1, kMaxEpochs),
              "between 1 and " + std::to_string(kMaxEpochs)),
      bounded(row("batch-size", "batch_size", &C::batch_size, "images per batch"), between(1, 1000000),
              "between 1 and 1000000"),
      bounded(row("lr", "learning_rate", &C::learning_rate, "learning rate"), {0, kUnbounded, true}, "a positive number"),
      // Checkpoints from before these options trained with Adam, and from PyTorch's initialisation.
      recorded_since(kept(expecting(row("optimizer", "optimizer", &C::optimizer,
                                        "adam (the seed's) or rmsprop (Keras' defaults: rho 0.9, epsilon 1e-7)"),
                                    "adam or rmsprop")),
                     "adam"),
      recorded_since(kept(expecting(row("init", "init", &C::init,
                                        "initial weights: keras (the seed's: glorot_uniform kernels, zero biases) or "
                                        "torch (PyTorch's defaults)"),
                                    "keras or torch")),
                     "torch"),
      kept(bounded(row("latent-dim", "latent_dim", &C::latent_dim, "latent dimensions"), between(1, kMaxLatentDim),
                   "between 1 and " + std::to_string(kMaxLatentDim))),
      bounded(row("beta", "beta", &C::beta, "weight of the KL term"), between(0, kMaxBeta), "between 0 and 1000000"),
      // Runs from before the warm-ups, --precision and unit revival had none of them.
      recorded_since(bounded(row("kl-warmup", "kl_warmup", &C::kl_warmup,
                                 "epochs over which the KL weight rises linearly from 0 to --beta (0 = none)"),
                             between(0, 1000000), "between 0 and 1000000 epochs"),
                     "0"),
      recorded_since(bounded(row("lr-warmup", "lr_warmup", &C::lr_warmup,
                                 "optimizer steps over which the learning rate rises linearly to --lr (0 = none)"),
                             between(0, 1000000000), "between 0 and 1000000000 steps"),
                     "0"),
      recorded_since(expecting(row("precision", "precision", &C::precision,
                                   "fp32, or bf16: the training forward pass in bfloat16 (autocast), weights and "
                                   "loss in fp32"),
                               "fp32 or bf16"),
                     "fp32"),
      recorded_since(bounded(row("revive", "revive_epochs", &C::revive_epochs,
                                 "after each of the first N epochs, restart the encoder's dead hidden units (0 = never)"),
                             between(0, kMaxEpochs), "between 0 (never) and " + std::to_string(kMaxEpochs) + " epochs"),
                     "0"),
  };
}

// Where and how it runs, and where its files go.
std::vector<TrainOption> run_rows() {
  using C = TrainConfig;
  return {
      unlogged(spelled_as_a_device(
          expecting(row("device", "device", &C::device, kDeviceChoices), kDeviceChoices))),
      // How the step is launched, not what it computes; checkpoints from before recorded nothing.
      recorded_since(switch_to(row("no-cuda-graph", "cuda_graph", &C::cuda_graph,
                                   "on a GPU, launch every step's kernels instead of replaying the step recorded as a "
                                   "CUDA graph"),
                               "false"),
                     "true"),
      unlogged(bounded(row("threads", "threads", &C::threads, "intra-op CPU threads (0 = all cores)"), between(0, 1024),
                       "between 0 (all cores) and 1024")),
      drawn_when_absent(unlogged(kept(bounded(row("seed", "seed", &C::seed,
                                                  "random seed (default: drawn at random and logged)"),
                                              between(0, kUnbounded), "a whole number of 0 or more")))),
      unlogged(bounded(row("limit", "limit", &C::limit,
                           "train on N training images only: the first N, or N spread over the classes of image "
                           "folders (0 = all)"),
                       between(0, kUnbounded), "0 (all images) or more")),
      unlogged(expecting(row("out", "out_dir", &C::out_dir, "output folder"), "a folder name")),
      each_run(bounded(row("dist-timeout", "group_timeout_seconds", &C::group_timeout_seconds,
                           "under torchrun: seconds ranks wait for each other (rendezvous, every all-reduce)"),
                       between(1, 86400), "between 1 and 86400 seconds")),
      each_run(switch_to(row("overwrite", "overwrite", &C::overwrite,
                             "replace the run an --out folder holds: start over there, or continue --resume "
                             "CHECKPOINT there"),
                         "true")),
  };
}

std::vector<TrainOption> make_table() {
  std::vector<TrainOption> rows = data_rows();
  for (TrainOption& option : training_rows()) rows.push_back(std::move(option));
  for (TrainOption& option : run_rows()) rows.push_back(std::move(option));
  return rows;
}

}  // namespace

const std::vector<TrainOption>& train_options() {
  static const std::vector<TrainOption> table = make_table();
  return table;
}

const TrainOption* train_option_for_field(const std::string& field) {
  for (const TrainOption& option : train_options()) {
    if (option.field == field) return &option;
  }
  return nullptr;
}

}  // namespace vae_cnn
