// `vae_cnn summary`: the Keras-style tables, from a freshly built model.
#include "vae_cnn/io/standard_output.hpp"

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/train/train_options.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/model/summary.hpp"

namespace vae_cnn {

Command parse_summary(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn summary", "Prints Keras-style layer tables of encoder, decoder and vae.");
  // train's own row: the same name, help, default and bounds.
  const TrainOption& latent = *train_option_for_field("latent_dim");
  options.add_options()
      (latent.name, latent.help, cxxopts::value<std::string>()->default_value(option_value_text(latent, TrainConfig{})))
      ("h,help", "this text");
  const auto result = parse_command_line(options, "summary", args);
  if (result.count("help")) return PrintText{options.help()};
  SummaryCommand command;
  TrainConfig config;
  set_option_from_text(latent, config, result[latent.name].as<std::string>());
  command.latent_dim = config.latent_dim;
  return command;
}

int run_summary(const SummaryCommand& command) {
  ConvVae model(ConvVaeOptions().latent_dim(command.latent_dim));
  write_to_standard_output(model_summary(model));
  return kExitOk;
}

}  // namespace vae_cnn
