// `vae_cnn interpolate`: a row of digits decoded along the line between two test images' latent
// means, with the two originals at its ends.
#include <cstdio>

#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/cli/model_inputs.hpp"
#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/model_data.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/number_text.hpp"
#include "vae_cnn/render/digit_grid.hpp"
#include "vae_cnn/kernels/device.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {

Command parse_interpolate(const std::vector<std::string>& args) {
  cxxopts::Options options("vae_cnn interpolate",
                           "Decodes the straight line between the latent means of two test images into a row of\n"
                           "digits, the two originals at its ends.");
  add_model_input_options(options, DataUse::kTestImages);
  options.add_options()
      ("from", "index of the first test image", cxxopts::value<std::string>())
      ("to", "index of the second test image", cxxopts::value<std::string>())
      ("steps", "digits decoded along the line, both ends included", cxxopts::value<std::string>()->default_value("10"))
      ("o,output", "PNG file", cxxopts::value<std::string>()->default_value("interpolation.png"))
      ("h,help", "this text");
  const auto result = parse_command_line(options, "interpolate", args);
  if (result.count("help")) return PrintText{options.help()};
  InterpolateCommand command;
  const ModelInputs inputs = read_model_inputs(result, "interpolate", DataUse::kTestImages);
  command.weights = inputs.weights;
  command.data_dir = inputs.data_dir;
  command.device = inputs.device;
  for (const char* option : {"from", "to"}) {
    if (!result.count(option)) throw UsageError(std::string("interpolate: --") + option + " is required (try 'vae_cnn interpolate --help')");
  }
  command.from = integer_option(result, "from");
  command.to = integer_option(result, "to");
  if (command.from < 0 || command.to < 0) throw UsageError("--from and --to are image indices, 0 or more");
  command.steps = integer_option(result, "steps");
  if (command.steps < 2 || command.steps > 100) {
    throw OptionError("steps", std::to_string(command.steps), "between 2 and 100");
  }
  command.output = result["output"].as<std::string>();
  require_file_name("-o/--output", command.output, "a PNG file");
  return command;
}

int run_interpolate(const InterpolateCommand& command) {
  LoadedWeights weights = load_weights(command.weights, resolve_device(command.device));
  const std::string data_dir = data_dir_for(weights.metadata.dataset, command.data_dir);
  std::vector<NamedFile> inputs = files_of_data("--data", data_dir);
  inputs.push_back({"-w", command.weights});
  refuse_output_over_input({"-o", command.output}, inputs);
  // Only the two images are held: a small gzip file can unpack to a gigabyte of test images.
  const SplitSample sample = load_split_sample_for(data_dir, Split::kTest, {command.from, command.to}, weights.model->image_shape(),
                                                        weights.metadata);
  for (const std::int64_t index : {command.from, command.to}) {
    if (index >= sample.split_size) {
      throw UsageError("image " + std::to_string(index) + " is not in the test split of " + data_dir + " (" +
                       with_thousands(sample.split_size) + " images, 0 to " + std::to_string(sample.split_size - 1) + ")");
    }
  }
  const Dataset& test = sample.images;  // [0] is image `from`, [1] image `to`
  const torch::Tensor ends = test.images();
  const auto digits = interpolation_digits(weights.model, ends[0], ends[1], command.steps);
  DigitGridLayout layout;
  layout.columns = static_cast<int>(command.steps + 2);
  layout.digit = weights.model->image_shape();
  const std::string title = "test image " + std::to_string(command.from) + " (" +
                            std::to_string(test.labels[0].item<std::int64_t>()) + ") to " +
                            std::to_string(command.to) + " (" +
                            std::to_string(test.labels[1].item<std::int64_t>()) + ") through the latent means";
  const Image image = digit_grid(digits, {""}, title, layout, Font::load_default());
  image.save_png(command.output);
  std::printf("wrote %s (%lld digits between test images %lld and %lld)\n", command.output.c_str(),
              static_cast<long long>(command.steps), static_cast<long long>(command.from),
              static_cast<long long>(command.to));
  return kExitOk;
}

}  // namespace vae_cnn
