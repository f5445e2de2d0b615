// `vae_cnn plot`: loads the weights, the test split and metrics.csv, computes what the pictures
// show, has them drawn, then prints one line per picture written and per note.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/model_inputs.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/model_data.hpp"
#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/eval/plot_inputs.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/render/plot_set.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

Command parse_plot(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn plot",
                           "Draws the latent space, the digit manifold, reconstructions, samples, the loss curves and\n"
                           "the model diagrams of trained weights as PNG files.");
  add_model_input_options(options, DataUse::kTestImages);
  options.add_options()
      ("out", "folder for the pictures", cxxopts::value<std::string>()->default_value("vae_cnn"))
      ("grid", "the manifold shows N x N digits", cxxopts::value<std::string>()->default_value("30"))
      ("range", "axes and manifold span -R..R", cxxopts::value<std::string>()->default_value("4"))
      ("annotate", "also write the digit beside a subsample of the latent points")
      ("seed", "seed of the z ~ N(0, I) in samples.png", cxxopts::value<std::string>()->default_value("0"))
      ("h,help", "this text");
  const auto result = parse_command_line(options, "plot", args);
  if (result.count("help")) return PrintText{options.help()};
  PlotCommand command;
  const ModelInputs inputs = read_model_inputs(result, "plot", DataUse::kTestImages);
  command.weights = inputs.weights;
  command.data_dir = inputs.data_dir;
  command.device = inputs.device;
  command.options.out_dir = result["out"].as<std::string>();
  require_file_name("--out", command.options.out_dir, "a folder for the pictures");
  command.inputs.grid = integer_option(result, "grid");
  command.inputs.range = range_option(result);
  command.options.annotate = result.count("annotate") > 0;
  command.inputs.sample_seed = seed_option(result);
  check_plot_input_options(command.inputs);
  return command;
}

namespace {

// No picture may land on a file plot reads: the weights, the metrics.csv beside them, the data.
void refuse_pictures_over_inputs(const PlotCommand& command, const std::string& data_dir) {
  std::vector<NamedFile> inputs = files_of_data("--data", data_dir);
  inputs.push_back({"-w", command.weights});
  inputs.push_back({"the metrics beside -w", (std::filesystem::path(command.weights).parent_path() / "metrics.csv").string()});
  for (const char* picture : kPlotFiles) {
    refuse_output_over_input({"--out", (std::filesystem::path(command.options.out_dir) / picture).string()}, inputs);
  }
}

}  // namespace

int run_plot(const PlotCommand& command) {
  const auto start = std::chrono::steady_clock::now();
  LoadedWeights weights = load_weights(command.weights, resolve_device(command.device));
  const std::string data_dir = data_dir_for(weights.metadata.dataset, command.data_dir);
  refuse_pictures_over_inputs(command, data_dir);
  const Dataset test = load_split_for(data_dir, Split::kTest, weights.model->image_shape(), weights.metadata);
  PlotInputs inputs = compute_plot_inputs(weights.model, weights.metadata, test, command.inputs);
  read_history_beside(command.weights, inputs);
  const PlotReport report = write_plots(inputs, command.options);
  for (const auto& picture : report.written) {
    std::printf("wrote %s (%.2f s)\n", picture.path.c_str(), picture.seconds);
  }
  for (const auto& note : report.notes) std::printf("note: %s\n", note.c_str());
  std::printf("%zu pictures in %.2f s\n", report.written.size(),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return kExitOk;
}

}  // namespace vae_cnn
