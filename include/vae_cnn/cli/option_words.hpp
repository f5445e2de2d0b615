// How the shell spells a setting: the lower layers name fields (OptionError, UnavailableError),
// and only here do they become flags and one-line messages.
#pragma once

#include <string>

#include "vae_cnn/errors.hpp"

namespace vae_cnn {

/// The flag that sets `field`: the train table's option for a TrainConfig field ("learning_rate"
/// -> "--lr"), else the field with dashes ("grid" -> "--grid", "batch_size" -> "--batch-size").
std::string flag_for_field(const std::string& field);

/// "--lr must be a positive number, got -1", and the reason after a colon when there is one.
std::string worded(const OptionError& error);

/// "--device cuda: CUDA is not available (...)".
std::string worded(const UnavailableError& error);

}  // namespace vae_cnn
