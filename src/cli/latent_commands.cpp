// `vae_cnn encode` and `vae_cnn decode`: trained weights to latent codes and back to a digit.
#include <sstream>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/model_inputs.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/eval/latent_values.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/model_data.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/eval/latent_codes.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/io/standard_output.hpp"
#include "vae_cnn/render/digit_pixels.hpp"
#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

Command parse_encode(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn encode", "Writes the latent means and log-variances of a split as CSV.");
  add_model_input_options(options, DataUse::kSplits);
  options.add_options()
      ("split", "test or train", cxxopts::value<std::string>()->default_value("test"))
      ("o,output", "CSV file (default: standard output)", cxxopts::value<std::string>())
      ("h,help", "this text");
  const auto result = parse_command_line(options, "encode", args);
  if (result.count("help")) return PrintText{options.help()};
  EncodeCommand command;
  const ModelInputs inputs = read_model_inputs(result, "encode", DataUse::kSplits);
  command.weights = inputs.weights;
  command.data_dir = inputs.data_dir;
  command.device = inputs.device;
  command.train_split = train_split_option(result);
  if (result.count("output")) {
    command.output = result["output"].as<std::string>();
    require_file_name("-o/--output", command.output, "a CSV file (leave -o out for standard output)");
  }
  return command;
}

int run_encode(const EncodeCommand& command) {
  LoadedWeights weights = load_weights(command.weights, resolve_device(command.device));
  const std::string data_dir = data_dir_for(weights.metadata.dataset, command.data_dir);
  if (!command.output.empty()) {
    std::vector<NamedFile> inputs = files_of_data("--data", data_dir);
    inputs.push_back({"-w", command.weights});
    refuse_output_over_input({"-o", command.output}, inputs);
  }
  const Dataset data = load_split_for(data_dir, command.train_split ? Split::kTrain : Split::kTest,
                                      weights.model->image_shape(), weights.metadata);
  const std::string csv = latent_codes_csv(encode_dataset(weights.model, data), weights.metadata.class_names);
  if (command.output.empty()) {
    write_to_standard_output(csv);
  } else {
    write_file_atomically(command.output, csv);
  }
  return kExitOk;
}

Command parse_decode(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn decode", "Decodes one latent point into a PNG digit of the model's image size.");
  add_model_input_options(options, DataUse::kNone);
  options.add_options()
      ("z", "the latent point, e.g. 0.5,-1.2", cxxopts::value<std::string>())
      ("o,output", "PNG file", cxxopts::value<std::string>()->default_value("digit.png"))
      ("h,help", "this text");
  const auto result = parse_command_line(options, "decode", one_letter_long_option(args, 'z'));
  if (result.count("help")) return PrintText{options.help()};
  DecodeCommand command;
  const ModelInputs inputs = read_model_inputs(result, "decode", DataUse::kNone);
  command.weights = inputs.weights;
  command.device = inputs.device;
  if (!result.count("z")) throw UsageError("decode: --z is required (try 'vae_cnn decode --help')");
  command.z = parse_latent_values("--z", result["z"].as<std::string>());
  command.output = result["output"].as<std::string>();
  require_file_name("-o/--output", command.output, "a PNG file");
  return command;
}

int run_decode(const DecodeCommand& command) {
  refuse_output_over_input({"-o", command.output}, {{"-w", command.weights}});
  const torch::Device device = resolve_device(command.device);
  LoadedWeights weights = load_weights(command.weights, device);
  const auto latent = weights.metadata.latent_dim;
  if (static_cast<std::int64_t>(command.z.size()) != latent) {
    throw UsageError("--z has " + std::to_string(command.z.size()) + " values, but " + command.weights +
                     " has a latent size of " + std::to_string(latent));
  }
  const auto z = torch::tensor(command.z, torch::kFloat64).to(torch::kFloat32).view({1, latent});
  write_digit_png(command.output, weights.model->image_shape(), decode_to_bytes(weights.model, z));
  return kExitOk;
}

}  // namespace vae_cnn
