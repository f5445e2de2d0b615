// The options every command that reads trained weights shares: -w/--weights, --data and
// --device, declared and checked in one place (--device as train's own row of the options table).
#pragma once

#include <cxxopts.hpp>

#include <string>

namespace vae_cnn {

/// Which data folder a command reads beside the weights.
enum class DataUse {
  kNone,        ///< decode: the weights alone
  kTestImages,  ///< --data for the test images
  kSplits,      ///< --data for a split (--split test|train)
};

/// What the shared options were given.
struct ModelInputs {
  std::string weights;
  std::string data_dir;  ///< empty: data/<the weights' data set>
  std::string device;
};

/// Declares -w/--weights, --data (unless `data` is kNone) and --device (default cpu).
void add_model_input_options(cxxopts::Options& options, DataUse data);

/// Reads and checks them: --weights is required and a file name, --data a folder name, --device
/// spelled as a device. Throws UsageError (OptionError for the device) naming the option.
ModelInputs read_model_inputs(const cxxopts::ParseResult& result, const std::string& command, DataUse data);

}  // namespace vae_cnn
