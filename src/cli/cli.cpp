// Command dispatch and the error edge: every failure becomes one line on stderr and an exit code.
#include "vae_cnn/cli/cli.hpp"

#include "vae_cnn/torch_api.hpp"

#include <torch/version.h>

#include <iostream>

#include "vae_cnn/cli/interrupt.hpp"
#include "vae_cnn/cli/option_words.hpp"
#include "vae_cnn/error_text.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/allocator_policy.hpp"
#include "vae_cnn/io/standard_output.hpp"

namespace vae_cnn {
namespace {

const char* const kUsage =
    "usage: vae_cnn <command> [options]\n"
    "\n"
    "Trains the convolutional variational autoencoder of Keras' vae_cnn example on MNIST-format\n"
    "images and draws what it learned.\n"
    "\n"
    "commands:\n"
    "  train        train a model (vae_cnn train --help)\n"
    "  plot         draw the latent space, the digit manifold and more from trained weights\n"
    "  eval         loss, reconstruction, KL and a log-likelihood estimate of trained weights\n"
    "  summary      Keras-style layer tables of encoder, decoder and vae\n"
    "  encode       latent means and log-variances of a split as CSV\n"
    "  decode       one digit decoded from a latent point\n"
    "  interpolate  digits along the line between two test images' latent means\n"
    "  serve        explore the latent space in the browser (vae_cnn serve --help)\n"
    "\n"
    "options:\n"
    "  -h, --help     this text\n"
    "  --version      the version\n";

struct RunVisitor {
  int operator()(const PrintText& print) const {
    write_to_standard_output(!print.text.empty() && print.text.back() != '\n' ? print.text + '\n' : print.text);
    return kExitOk;
  }
  int operator()(const TrainCommand& command) const { return run_train(command); }
  int operator()(const SummaryCommand& command) const { return run_summary(command); }
  int operator()(const EncodeCommand& command) const { return run_encode(command); }
  int operator()(const DecodeCommand& command) const { return run_decode(command); }
  int operator()(const PlotCommand& command) const { return run_plot(command); }
  int operator()(const EvalCommand& command) const { return run_eval(command); }
  int operator()(const InterpolateCommand& command) const { return run_interpolate(command); }
  int operator()(const ServeCommand& command) const { return run_serve(command); }
};


}  // namespace

namespace {

Command parse_command(const std::vector<std::string>& args) {
  if (args.size() < 2) throw UsageError("no command given (try 'vae_cnn --help')");
  const std::string& first = args[1];
  if (first == "-h" || first == "--help" || first == "help") return PrintText{kUsage};
  if (first == "--version") {
    // Which LibTorch a binary runs on decides which files and launchers it meets (docs/libtorch-builds.md).
    return PrintText{std::string("vae_cnn ") + VAE_CNN_VERSION + " (LibTorch " + std::to_string(TORCH_VERSION_MAJOR) +
                     "." + std::to_string(TORCH_VERSION_MINOR) + "." + std::to_string(TORCH_VERSION_PATCH) + ")"};
  }
  const std::vector<std::string> rest(args.begin() + 2, args.end());
  if (first == "train") return parse_train(rest);
  if (first == "summary") return parse_summary(rest);
  if (first == "encode") return parse_encode(rest);
  if (first == "decode") return parse_decode(rest);
  if (first == "plot") return parse_plot(rest);
  if (first == "eval") return parse_eval(rest);
  if (first == "interpolate") return parse_interpolate(rest);
  if (first == "serve") return parse_serve(rest);
  if (!first.empty() && first[0] == '-') throw UsageError("unknown option '" + first + "' (try 'vae_cnn --help')");
  throw UsageError("unknown command '" + first + "' (try 'vae_cnn --help')");
}

}  // namespace

Command parse_cli(const std::vector<std::string>& args) {
  try {
    return parse_command(args);
  } catch (const OptionError& error) {
    throw UsageError(worded(error));
  }
}

int run_command(const Command& command) {
  // train and serve answer a held SIGINT or SIGTERM with their own handlers (InterruptGuard); the
  // rest take the default action.
  if (!std::holds_alternative<TrainCommand>(command) && !std::holds_alternative<ServeCommand>(command)) {
    release_held_interrupts();
  }
  return std::visit(RunVisitor{}, command);
}

int run_cli(int argc, const char* const* argv) {
  keep_freed_memory_for_reuse();
  report_file_size_limit_as_error();
  const std::vector<std::string> args(argv, argv + argc);
  Command command;
  try {
    command = parse_cli(args);
  } catch (const UsageError& error) {
    std::cerr << "vae_cnn: " << printable(error.what()) << '\n';
    return kExitUsage;
  }
  try {
    const int exit_code = run_command(command);
    finish_standard_output();
    return exit_code;
  } catch (const OptionError& error) {
    std::cerr << "vae_cnn: " << worded(error) << '\n';
    return kExitUsage;
  } catch (const UsageError& error) {
    std::cerr << "vae_cnn: " << printable(error.what()) << '\n';
    return kExitUsage;
  } catch (const UnavailableError& error) {
    std::cerr << "vae_cnn: error: " << worded(error) << '\n';
    return kExitFailure;
  } catch (const std::exception& error) {
    std::cerr << "vae_cnn: error: " << first_line_of(error) << '\n';
    return kExitFailure;
  }
}

}  // namespace vae_cnn
