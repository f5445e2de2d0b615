// What the rows of train_options.cpp derive: values as text and back, bounds, the checkpoint's
// record, the start-up log's account and the resume merge, each written once for every option.
#include "vae_cnn/train/train_options.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <type_traits>
#include <filesystem>

#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/number_text.hpp"

namespace vae_cnn {
namespace {

template <typename T>
constexpr bool kIsInteger = std::is_same_v<T, std::int64_t> || std::is_same_v<T, int> || std::is_same_v<T, std::uint64_t>;

template <typename T>
std::string text_of(const T& value) {
  if constexpr (kIsInteger<T>) return std::to_string(value);
  else if constexpr (std::is_same_v<T, double>) return short_number(value);
  else if constexpr (std::is_same_v<T, std::string>) return value;
  else if constexpr (std::is_same_v<T, bool>) return value ? "true" : "false";
  else return to_string(value);
}

// A double to the last bit (%.17g), as a record is read back; text_of's %g is for people.
template <typename T>
std::string exact_text_of(const T& value) {
  if constexpr (!std::is_same_v<T, double>) {
    return text_of(value);
  } else {
    char text[40];
    std::snprintf(text, sizeof text, "%.17g", value);
    return text;
  }
}

template <typename T>
T parse_choice(const std::string& text);
template <>
LossKind parse_choice<LossKind>(const std::string& text) { return parse_loss_kind(text); }
template <>
OptimizerKind parse_choice<OptimizerKind>(const std::string& text) { return parse_optimizer_kind(text); }
template <>
InitKind parse_choice<InitKind>(const std::string& text) { return parse_init_kind(text); }
template <>
Precision parse_choice<Precision>(const std::string& text) { return parse_precision(text); }

// A number outside the row's bounds; `shown` is how the error shows it.
void check_bounds(const TrainOption& option, double value, const std::string& shown) {
  if (option.number_allowed != nullptr && !option.number_allowed(value)) {
    throw OptionError(option.field, shown, option.expectation);
  }
  if (!option.bounds) return;
  const OptionBounds& b = *option.bounds;
  const bool above_low = b.low_open ? value > b.low : value >= b.low;
  if (!(above_low && value <= b.high)) throw OptionError(option.field, shown, option.expectation);
}

bool looks_like_an_integer(const std::string& text) {
  const std::size_t start = !text.empty() && (text[0] == '-' || text[0] == '+') ? 1 : 0;
  return text.size() > start &&
         std::all_of(text.begin() + static_cast<std::ptrdiff_t>(start), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

template <typename T>
T value_from_text(const TrainOption& option, const std::string& text) {
  if constexpr (kIsInteger<T>) {
    const auto value = whole_number(text);
    // Digits beyond what 64 bits hold are a number out of bounds, not a misspelling.
    if (!value) throw OptionError(option.field, text, looks_like_an_integer(text) ? option.expectation : "a whole number");
    check_bounds(option, static_cast<double>(*value), std::to_string(*value));
    return static_cast<T>(*value);
  } else if constexpr (std::is_same_v<T, double>) {
    const auto value = finite_number(text);
    if (!value) throw OptionError(option.field, text, option.expectation);
    check_bounds(option, *value, short_number(*value));
    return *value;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (text.empty()) throw OptionError(option.field, "", option.expectation, "it is empty");
    if (option.check_text != nullptr) option.check_text(text);
    return text;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text != "true" && text != "false") throw OptionError(option.field, text, "true or false");
    return text == "true";
  } else {
    try {
      return parse_choice<T>(text);
    } catch (const std::invalid_argument&) {
      throw OptionError(option.field, text, option.expectation);
    }
  }
}

template <typename T>
c10::IValue recorded_value(const T& value) {
  if constexpr (kIsInteger<T>) return static_cast<std::int64_t>(value);
  else if constexpr (std::is_same_v<T, double> || std::is_same_v<T, std::string> || std::is_same_v<T, bool>) return value;
  else return to_string(value);
}

// The record's value as the text set_option_from_text reads: the type is checked here, the
// bounds there.
template <typename T>
std::string recorded_text(const std::string& path, const GenericDict& record, const std::string& field) {
  if constexpr (kIsInteger<T>) return std::to_string(require_int(path, record, field));
  else if constexpr (std::is_same_v<T, double>) return exact_text_of(require_double(path, record, field));
  else if constexpr (std::is_same_v<T, bool>) {
    const c10::IValue value = require_field(path, record, field);
    if (!value.isBool()) throw DataError(path, "field '" + field + "' is not true or false");
    return text_of(value.toBool());
  } else return require_string(path, record, field);
}

}  // namespace

std::string option_value_text(const TrainOption& option, const TrainConfig& config) {
  return std::visit([&](auto member) { return text_of(config.*member); }, option.member);
}

namespace {

std::string exact_value_text(const TrainOption& option, const TrainConfig& config) {
  return std::visit([&](auto member) { return exact_text_of(config.*member); }, option.member);
}

}  // namespace

void set_option_from_text(const TrainOption& option, TrainConfig& config, const std::string& text) {
  std::visit(
      [&](auto member) {
        using T = std::decay_t<decltype(config.*member)>;
        config.*member = value_from_text<T>(option, text);
      },
      option.member);
}

void validate_train_config(const TrainConfig& config) {
  // Every value is checked as if given as text again: one check for the command line, the merge
  // of a resumed run and a checkpoint's record.
  for (const TrainOption& option : train_options()) {
    TrainConfig scratch;
    set_option_from_text(option, scratch, exact_value_text(option, config));
  }
}

GenericDict recorded_train_config(const TrainConfig& config) {
  GenericDict record(c10::StringType::get(), c10::AnyType::get());
  for (const TrainOption& option : train_options()) {
    if (!option.recorded) continue;
    record.insert(option.field, std::visit([&](auto member) { return recorded_value(config.*member); }, option.member));
  }
  return record;
}

TrainConfig train_config_from_record(const std::string& path, const GenericDict& record) {
  TrainConfig config;
  for (const TrainOption& option : train_options()) {
    if (!option.recorded) continue;
    const bool present = record.contains(option.field);
    if (!present && !option.value_before_recorded) require_field(path, record, option.field);  // throws: missing
    const std::string text =
        present ? std::visit(
                      [&](auto member) {
                        using T = std::decay_t<decltype(config.*member)>;
                        return recorded_text<T>(path, record, option.field);
                      },
                      option.member)
                : *option.value_before_recorded;
    try {
      set_option_from_text(option, config, text);
    } catch (const OptionError& error) {
      throw DataError(path, "its recorded options are out of bounds: " + std::string(error.what()));
    }
  }
  return config;
}

std::string logged_options_text(const TrainConfig& config) {
  std::string text;
  for (const TrainOption& option : train_options()) {
    if (!option.logged) continue;
    text += (text.empty() ? "" : ", ") + option.field + " " + option_value_text(option, config);
  }
  return text;
}

TrainConfig merge_resume_options(const TrainConfig& given, const std::set<std::string>& explicit_fields,
                                 const TrainConfig& recorded, const std::string& checkpoint_path,
                                 const std::string& recorded_dataset) {
  const auto is_given = [&](const std::string& field) { return explicit_fields.count(field) > 0; };
  if (is_given("data_dir") && dataset_name(given.data_dir) != recorded_dataset) {
    throw OptionError("data_dir", given.data_dir,
                      "a folder of the data set " + recorded_dataset + " (the checkpoint " + checkpoint_path +
                          " was trained on it)");
  }
  TrainConfig merged = recorded;
  for (const TrainOption& option : train_options()) {
    const std::string asked = exact_value_text(option, given);
    const bool take_given = option.on_resume == OnResume::kEachRun || (option.on_resume == OnResume::kMayChange && is_given(option.field));
    // A kept value given as the log and this message show it (1/6 as 0.166667) is the recorded one.
    const std::string shown = option_value_text(option, given), recorded_shown = option_value_text(option, recorded);
    if (option.on_resume == OnResume::kKept && is_given(option.field) && asked != exact_value_text(option, recorded) &&
        shown != recorded_shown) {
      throw OptionError(option.field, shown,
                        recorded_shown + " (as the checkpoint " + checkpoint_path + " records it: a resumed run keeps it)");
    }
    if (take_given) std::visit([&](auto member) { merged.*member = given.*member; }, option.member);
  }
  if (!is_given("out_dir")) {
    merged.out_dir = std::filesystem::path(checkpoint_path).parent_path().lexically_normal().string();
    if (merged.out_dir.empty()) merged.out_dir = ".";
  }
  validate_train_config(merged);
  return merged;
}

}  // namespace vae_cnn
