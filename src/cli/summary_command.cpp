// `vae_cnn summary`: the Keras-style tables, from a freshly built model.
#include "vae_cnn/io/standard_output.hpp"

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/model/summary.hpp"

namespace vae_cnn {

Command parse_summary(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn summary", "Prints Keras-style layer tables of encoder, decoder and vae.");
  options.add_options()
      ("latent-dim", "latent dimensions", cxxopts::value<std::string>()->default_value("2"))
      ("h,help", "this text");
  const auto result = parse_command_line(options, "summary", args);
  if (result.count("help")) return PrintText{options.help()};
  SummaryCommand command;
  command.latent_dim = integer_option(result, "latent-dim");
  try {
    check_latent_dim(command.latent_dim);
  } catch (const std::invalid_argument& error) {
    throw UsageError(std::string("--latent-dim: ") + error.what());
  }
  return command;
}

int run_summary(const SummaryCommand& command) {
  ConvVae model(ConvVaeOptions().latent_dim(command.latent_dim));
  write_to_standard_output(model_summary(model));
  return kExitOk;
}

}  // namespace vae_cnn
