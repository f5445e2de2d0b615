#include "vae_cnn/cli/option_words.hpp"

#include <algorithm>

#include "vae_cnn/error_text.hpp"
#include "vae_cnn/train/train_options.hpp"

namespace vae_cnn {

std::string flag_for_field(const std::string& field) {
  if (const TrainOption* option = train_option_for_field(field)) return "--" + option->name;
  std::string name = field;
  std::replace(name.begin(), name.end(), '_', '-');
  return "--" + name;
}

std::string worded(const OptionError& error) {
  return flag_for_field(error.field()) + " must be " + error.expectation() +
         (error.value().empty() ? "" : ", got " + printable(error.value())) +
         (error.reason().empty() ? "" : ": " + printable(error.reason()));
}

std::string worded(const UnavailableError& error) {
  return flag_for_field(error.field()) + " " + printable(error.value()) + ": " + error.fault();
}

}  // namespace vae_cnn
