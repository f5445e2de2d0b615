// The options of `vae_cnn train` as one table: per option its name, the TrainConfig field it sets,
// its bounds and help, whether checkpoints record it, whether it may change on --resume and whether
// the start-up log shows it. The parser (cli/train_command.cpp), validation, the checkpoint's record
// and read-back, the resume merge and the start-up log are all derived from it: adding an option is
// a field in TrainConfig, a row in train_options.cpp and the code that uses the value.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "vae_cnn/serialize/pickled_dict.hpp"
#include "vae_cnn/train/train_config.hpp"

namespace vae_cnn {

/// The TrainConfig member a row sets, of one of the types options have.
using TrainField = std::variant<std::int64_t TrainConfig::*, int TrainConfig::*, std::uint64_t TrainConfig::*,
                                double TrainConfig::*, std::string TrainConfig::*, bool TrainConfig::*,
                                LossKind TrainConfig::*, OptimizerKind TrainConfig::*, InitKind TrainConfig::*,
                                Precision TrainConfig::*>;

/// What --resume does with an option.
enum class OnResume {
  kKept,       ///< the checkpoint's value; given, it must be the same (latent size, loss, seed, ...)
  kMayChange,  ///< the checkpoint's value unless given again (epochs, learning rate, device, ...)
  kEachRun,    ///< not recorded: the value given to this run, or the default (--overwrite, ...)
};

/// Inclusive bounds of a numeric option (`low_open`: the lower bound itself is refused).
struct OptionBounds {
  double low = 0, high = 0;
  bool low_open = false;
};

/// One option of `vae_cnn train`.
struct TrainOption {
  std::string name;   ///< the option's name on the command line (cli/ spells it as a flag)
  std::string field;  ///< TrainConfig's member, the checkpoint's config key, OptionError's field
  TrainField member;
  std::string help;
  /// A switch: given, the field takes this value (written as its text); nullopt for options with
  /// a value.
  std::optional<std::string> switch_value;
  /// Whether TrainConfig's default is the default; false for --seed, drawn at random when not given.
  bool has_default = true;
  std::optional<OptionBounds> bounds;
  /// What a valid value is, for errors: "between 1 and 1000000".
  std::string expectation;
  /// A check of a text value beyond being non-empty (the device's spelling); throws OptionError.
  void (*check_text)(const std::string& text) = nullptr;
  /// A check of a number within the bounds (a multiple of 4, one of 0, 1 and 3): false refuses it
  /// with `expectation`.
  bool (*number_allowed)(double value) = nullptr;
  bool recorded = true;  ///< checkpoints record it (under `field`)
  /// A recorded option that checkpoints written before it lack: the value those runs trained with.
  std::optional<std::string> value_before_recorded;
  OnResume on_resume = OnResume::kMayChange;
  bool logged = true;  ///< the start-up log shows it
};

/// Every option of `vae_cnn train`, in the order --help lists them.
const std::vector<TrainOption>& train_options();

/// The row whose field is `field`, or null.
const TrainOption* train_option_for_field(const std::string& field);

/// The field's value as text: "0.001", "bce", "true".
std::string option_value_text(const TrainOption& option, const TrainConfig& config);

/// Sets the field from text (a number, a choice's name, "true"/"false"); throws OptionError naming
/// the field for text that is not a value of its type or is out of bounds.
void set_option_from_text(const TrainOption& option, TrainConfig& config, const std::string& text);

/// Rejects values no run can use; throws OptionError naming the field and the expectation.
void validate_train_config(const TrainConfig& config);

/// The recorded options as a checkpoint's config dict.
GenericDict recorded_train_config(const TrainConfig& config);

/// The options a checkpoint recorded; throws DataError naming `path` and the field.
TrainConfig train_config_from_record(const std::string& path, const GenericDict& record);

/// The start-up log's account of the options: "epochs 50, batch-size 128, ...", logged rows only.
std::string logged_options_text(const TrainConfig& config);

/// The options a resumed run uses: those the user gave (`explicit_fields`, TrainConfig field
/// names) over those `recorded` in the checkpoint at `checkpoint_path`, whose data set is
/// `recorded_dataset`. Kept options must agree (OptionError naming the field otherwise); options
/// each run gives come from `given`. The output folder is the checkpoint's unless given.
TrainConfig merge_resume_options(const TrainConfig& given, const std::set<std::string>& explicit_fields,
                                 const TrainConfig& recorded, const std::string& checkpoint_path,
                                 const std::string& recorded_dataset);

}  // namespace vae_cnn
