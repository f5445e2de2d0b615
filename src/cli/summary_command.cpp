// `vae_cnn summary`: the Keras-style tables, from a freshly built model.
#include "vae_cnn/io/standard_output.hpp"

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/train/train_options.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/model/summary.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

Command parse_summary(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn summary", "Prints Keras-style layer tables of encoder, decoder and vae.");
  // train's own rows: the same names, help and bounds; without data, the sizes default to MNIST's.
  const TrainOption& latent = *train_option_for_field("latent_dim");
  const TrainOption& size = *train_option_for_field("image_size");
  const TrainOption& channels = *train_option_for_field("channels");
  const ImageShape mnist;
  options.add_options()
      (latent.name, latent.help, cxxopts::value<std::string>()->default_value(option_value_text(latent, TrainConfig{})))
      (size.name, "side of the square images the model takes", cxxopts::value<std::string>()->default_value(
          std::to_string(mnist.height)))
      (channels.name, "1 (grey) or 3 (RGB)", cxxopts::value<std::string>()->default_value(std::to_string(mnist.channels)))
      ("w,weights", "the tables of this trained model instead (its latent size and image shape)",
       cxxopts::value<std::string>())
      ("h,help", "this text");
  const auto result = parse_command_line(options, "summary", args);
  if (result.count("help")) return PrintText{options.help()};
  SummaryCommand command;
  TrainConfig config;
  set_option_from_text(latent, config, result[latent.name].as<std::string>());
  set_option_from_text(size, config, result[size.name].as<std::string>());
  set_option_from_text(channels, config, result[channels.name].as<std::string>());
  command.latent_dim = config.latent_dim;
  // 0, "the data's own" to train, is MNIST's here: there is no data.
  const std::int64_t side = config.image_size == 0 ? mnist.height : config.image_size;
  command.image_shape = ImageShape{config.channels == 0 ? mnist.channels : config.channels, side, side};
  if (result.count("weights")) {
    command.weights = result["weights"].as<std::string>();
    require_file_name("-w/--weights", command.weights, "a weights file");
  }
  return command;
}

int run_summary(const SummaryCommand& command) {
  if (!command.weights.empty()) {
    LoadedWeights weights = load_weights(command.weights, torch::kCPU);
    write_to_standard_output(model_summary(weights.model));
    return kExitOk;
  }
  ConvVae model(ConvVaeOptions().latent_dim(command.latent_dim).image_shape(command.image_shape));
  write_to_standard_output(model_summary(model));
  return kExitOk;
}

}  // namespace vae_cnn
