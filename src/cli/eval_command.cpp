// `vae_cnn eval`: the figures of model_evaluation.hpp as lines, and as JSON with --json.
#include <chrono>
#include <cstdio>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/model_inputs.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/cli/progress_bar.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/model_data.hpp"
#include "vae_cnn/eval/model_evaluation.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/number_text.hpp"

namespace vae_cnn {

Command parse_eval(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn eval",
                           "Loss, reconstruction, KL, active units and an importance-sampled log-likelihood of\n"
                           "trained weights on a split.");
  add_model_input_options(options, DataUse::kSplits);
  options.add_options()
      ("split", "test or train", cxxopts::value<std::string>()->default_value("test"))
      ("iw", "importance samples K per image for log p(x) (the IWAE bound)",
       cxxopts::value<std::string>()->default_value("100"))
      ("seed", "seed of the importance samples", cxxopts::value<std::string>()->default_value("0"))
      ("json", "also write every figure to this JSON file", cxxopts::value<std::string>())
      ("h,help", "this text");
  const auto result = parse_command_line(options, "eval", args);
  if (result.count("help")) return PrintText{options.help()};
  EvalCommand command;
  const ModelInputs inputs = read_model_inputs(result, "eval", DataUse::kSplits);
  command.weights = inputs.weights;
  command.data_dir = inputs.data_dir;
  command.device = inputs.device;
  command.train_split = train_split_option(result);
  command.samples = integer_option(result, "iw");
  if (command.samples < 1 || command.samples > 100000) {
    throw OptionError("iw", std::to_string(command.samples), "between 1 and 100000");
  }
  command.seed = seed_option(result);
  if (result.count("json")) {
    command.json = result["json"].as<std::string>();
    require_file_name("--json", command.json, "a JSON file");
  }
  return command;
}

namespace {

// The IWAE estimate's progress on stderr: a live line on a terminal (at most twice a second), a
// line per tenth otherwise, and only for work that takes a while (K x images above a million).
class SampleProgressLine {
 public:
  SampleProgressLine() : live_(is_terminal(stderr)), start_(std::chrono::steady_clock::now()) {}
  ~SampleProgressLine() {
    if (live_ && drawn_) std::fprintf(stderr, "\r\033[K");
  }
  void operator()(std::int64_t done, std::int64_t total) {
    if (total < kWorthShowing) return;
    const auto now = std::chrono::steady_clock::now();
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double fraction = static_cast<double>(done) / static_cast<double>(total);
    const int tenth = static_cast<int>(fraction * 10);
    if (live_ ? now - last_ < std::chrono::milliseconds(500) : tenth == last_tenth_) return;
    last_ = now;
    last_tenth_ = tenth;
    const double eta = fraction > 0 ? seconds * (1 - fraction) / fraction : 0;
    std::fprintf(stderr, "%slog p(x): %3.0f%% of %s importance samples, %.0f s so far, about %.0f s to go%s",
                 live_ ? "\r\033[K" : "", 100 * fraction, with_thousands(total).c_str(), seconds, eta, live_ ? "" : "\n");
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  static constexpr std::int64_t kWorthShowing = 1000000;
  bool live_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_{};
  int last_tenth_ = -1;
};

}  // namespace

int run_eval(const EvalCommand& command) {
  const auto start = std::chrono::steady_clock::now();
  LoadedWeights weights = load_weights(command.weights, resolve_device(command.device));
  const WeightsMetadata& meta = weights.metadata;
  const std::string data_dir = data_dir_for(meta.dataset, command.data_dir);
  const std::string split = command.train_split ? "train" : "test";
  if (!command.json.empty()) {
    std::vector<NamedFile> inputs = files_of_data("--data", data_dir);
    inputs.push_back({"-w", command.weights});
    refuse_output_over_input({"--json", command.json}, inputs);
  }
  Dataset data = load_split_for(data_dir, command.train_split ? Split::kTrain : Split::kTest,
                                      weights.model->image_shape(), weights.metadata);
  if (data.size() == 0) throw DataError(data_dir, "the " + split + " split has no images");
  data = data.to(resolve_device(command.device));
  SampleProgressLine progress_line;
  const ModelEvaluation result = evaluate_model(weights.model, data, meta, command.samples, command.seed, 128,
                                                [&](std::int64_t done, std::int64_t total) { progress_line(done, total); });
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::printf("%s: %s, %s loss, latent %lld, %lld epochs; %s split of %s, %s images\n", command.weights.c_str(),
              meta.dataset.c_str(), to_string(meta.loss).c_str(), static_cast<long long>(meta.latent_dim),
              static_cast<long long>(meta.epochs), split.c_str(), data_dir.c_str(),
              with_thousands(result.metrics.images).c_str());
  if (meta.beta == 1.0) {
    std::printf("loss %.3f = reconstruction %.3f + KL %.3f   (as training's validation)\n", result.metrics.loss,
                result.metrics.reconstruction, result.metrics.kl);
  } else {
    std::printf("loss %.3f = reconstruction %.3f + %g x KL %.3f   (as training's validation)\n", result.metrics.loss,
                result.metrics.reconstruction, meta.beta, result.metrics.kl);
  }
  if (result.active_units && result.encoder) {
    const EncoderHealth& encoder = *result.encoder;
    std::printf("active units %lld of %lld   (Var over images of z_mean > 0.01)\n",
                static_cast<long long>(*result.active_units), static_cast<long long>(result.latent_dim));
    std::printf("hidden units alive %lld of %lld   (encoder Dense layer: positive for some image)%s\n",
                static_cast<long long>(encoder.hidden_alive), static_cast<long long>(encoder.hidden_units),
                encoder.uses_input() ? "" : "; the encoder does not use its input: every image gets the same code");
  } else {
    std::printf("active units and hidden units alive: unknown   (they compare images: the split has %s, needs 2)\n",
                with_thousands(result.metrics.images).c_str());
  }
  std::printf("likelihood: %s; constant %.3f nats\n", result.likelihood.description.c_str(),
              result.likelihood.constant_nats);
  std::printf("ELBO            %10.3f nats per image   (K = 1, analytic KL)\n", result.elbo);
  std::printf("log p(x) IWAE   %10.3f nats per image   (K = %lld, seed %llu)\n", result.log_likelihood,
              static_cast<long long>(result.samples), static_cast<unsigned long long>(result.seed));
  std::printf("%.1f s, %.0f images/s with K = %lld\n", seconds,
              static_cast<double>(result.metrics.images) / seconds, static_cast<long long>(result.samples));
  if (!command.json.empty()) {
    write_file_atomically(command.json, evaluation_json(result, meta, command.weights, data_dir, split));
    std::printf("wrote %s\n", command.json.c_str());
  }
  return kExitOk;
}

}  // namespace vae_cnn
