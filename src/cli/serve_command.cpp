// `vae_cnn serve`: the latent-space explorer, from the weights, until Ctrl-C.
#include <cstdio>

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/interrupt.hpp"
#include "vae_cnn/cli/model_inputs.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/serve/explorer_server.hpp"

namespace vae_cnn {

Command parse_serve(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn serve",
                           "Serves a page to explore the latent space of trained weights in the browser, and its JSON\n"
                           "API (docs/api.md), until Ctrl-C.");
  add_model_input_options(options, DataUse::kTestImages);
  options.add_options()
      ("host", "address to listen on", cxxopts::value<std::string>()->default_value("127.0.0.1"))
      ("port", "port to listen on; 0 takes a free one", cxxopts::value<std::string>()->default_value("8080"))
      ("range", "the map's axes run from -R to R, as plot's", cxxopts::value<std::string>()->default_value("4"))
      ("h,help", "this text");
  const auto result = parse_command_line(options, "serve", args);
  if (result.count("help")) return PrintText{options.help()};
  ServeCommand command;
  const ModelInputs inputs = read_model_inputs(result, "serve", DataUse::kTestImages);
  command.weights = inputs.weights;
  command.data_dir = inputs.data_dir;
  command.device = inputs.device;
  command.host = result["host"].as<std::string>();
  if (command.host.empty()) throw UsageError("--host must name an address, e.g. 127.0.0.1");
  const std::int64_t port = integer_option(result, "port");
  if (port < 0 || port > 65535) throw UsageError("--port must be between 0 (any free port) and 65535, got " + std::to_string(port));
  command.port = static_cast<int>(port);
  command.range = range_option(result);
  return command;
}

int run_serve(const ServeCommand& command) {
  // First, so that Ctrl-C while the weights and data load ends the command with 130 as well.
  InterruptGuard interrupt("stopping the server (press Ctrl-C again to quit at once)");
  ExplorerModel model = load_explorer_model(command.weights, command.data_dir, resolve_device(command.device));
  const LatentApi api(model, command.range);
  if (InterruptGuard::requested()) return kExitInterrupted;
  serve_explorer(
      api, {command.host, command.port, ConnectionLimits{}},
      [&](int port) {
        std::printf("serving %s (%s, %lld test images) at %s  (Ctrl-C to stop)\n", command.weights.c_str(),
                    model.data_dir.c_str(), static_cast<long long>(model.test.size()), page_url(command.host, port).c_str());
        std::fflush(stdout);
      },
      [] { return InterruptGuard::requested(); });
  std::fprintf(stderr, "vae_cnn: server stopped\n");
  return kExitInterrupted;
}

}  // namespace vae_cnn
