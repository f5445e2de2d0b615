#include "vae_cnn/cli/model_inputs.hpp"

#include "vae_cnn/cli/option_values.hpp"
#include "vae_cnn/io/named_files.hpp"
#include "vae_cnn/train/train_options.hpp"

namespace vae_cnn {

void add_model_input_options(cxxopts::Options& options, DataUse data) {
  options.add_options()("w,weights", "weights file written by train", cxxopts::value<std::string>());
  if (data != DataUse::kNone) {
    options.add_options()("data",
                          data == DataUse::kTestImages
                              ? "data folder for the test images (default: data/<data set of the weights>)"
                              : "data folder (default: data/<data set of the weights>)",
                          cxxopts::value<std::string>());
  }
  // train's device row: the same name, help and check; these commands default to the CPU.
  const TrainOption& device = *train_option_for_field("device");
  options.add_options()(device.name, device.help, cxxopts::value<std::string>()->default_value("cpu"));
}

ModelInputs read_model_inputs(const cxxopts::ParseResult& result, const std::string& command, DataUse data) {
  ModelInputs inputs;
  inputs.weights = required_option(result, command, "weights");
  require_file_name("-w/--weights", inputs.weights, "a weights file");
  if (data != DataUse::kNone && result.count("data")) {
    inputs.data_dir = result["data"].as<std::string>();
    require_file_name("--data", inputs.data_dir, "a data folder");
  }
  const TrainOption& device = *train_option_for_field("device");
  TrainConfig checked;
  set_option_from_text(device, checked, result[device.name].as<std::string>());
  inputs.device = checked.device;
  return inputs;
}

}  // namespace vae_cnn
