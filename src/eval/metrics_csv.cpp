// A fixed-column CSV: every row is rewritten each epoch, so a killed run never leaves half a line.
#include "vae_cnn/eval/metrics_csv.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <optional>
#include <string_view>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"
#include "vae_cnn/io/regular_file.hpp"
#include "vae_cnn/serialize/weights_file.hpp"

namespace vae_cnn {
namespace {

constexpr int kColumns = 9;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// One row of numbers; DataError naming the line and column of the first fault.
EpochMetrics parse_metrics_row(const std::string& path, std::int64_t line_number, std::string_view line) {
  double values[kColumns];
  std::size_t count = 0, field_start = 0;
  for (bool last = false; !last; ++count) {
    std::size_t comma = line.find(',', field_start);
    last = comma == std::string_view::npos;
    if (last) comma = line.size();
    const std::string_view field = line.substr(field_start, comma - field_start);
    field_start = comma + 1;
    if (count >= kColumns) continue;  // counted, and refused below
    const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), values[count]);
    if (field.empty() || error != std::errc() || end != field.data() + field.size()) {
      const std::string shown(field.substr(0, 40));
      throw DataError(path, "line " + std::to_string(line_number) + ", column " + std::to_string(count + 1) + ": '" +
                                shown + "' is not a number");
    }
  }
  if (count != kColumns) {
    throw DataError(path, "line " + std::to_string(line_number) + ": " + std::to_string(count) + " fields, expected " +
                              std::to_string(kColumns));
  }
  if (!(values[0] >= 1 && values[0] <= static_cast<double>(kMaxEpochs)) || values[0] != std::floor(values[0])) {
    throw DataError(path, "line " + std::to_string(line_number) + ": epoch " + number(values[0]) +
                              ", expected a whole number from 1 to " + std::to_string(kMaxEpochs));
  }
  EpochMetrics r;
  r.epoch = static_cast<std::int64_t>(values[0]);
  r.loss = values[1];
  r.reconstruction = values[2];
  r.kl = values[3];
  r.val_loss = values[4];
  r.val_reconstruction = values[5];
  r.val_kl = values[6];
  r.seconds = values[7];
  r.images_per_second = values[8];
  return r;
}

}  // namespace

const char* const kMetricsCsvHeader =
    "epoch,loss,reconstruction,kl,val_loss,val_reconstruction,val_kl,seconds,images_per_second";

std::string format_metrics_csv(const std::vector<EpochMetrics>& rows) {
  std::string text = std::string(kMetricsCsvHeader) + "\n";
  for (const auto& r : rows) {
    text += std::to_string(r.epoch) + "," + number(r.loss) + "," + number(r.reconstruction) + "," + number(r.kl) +
            "," + number(r.val_loss) + "," + number(r.val_reconstruction) + "," + number(r.val_kl) + "," +
            number(r.seconds) + "," + number(r.images_per_second) + "\n";
  }
  return text;
}

std::vector<EpochMetrics> parse_metrics_csv(const std::string& path, const std::string& text) {
  // By hand over the text, numbers through std::from_chars: a stream per line and field made a
  // 2-million-row file take most of a minute to read.
  const std::string_view all(text);
  std::size_t line_start = 0;
  const auto next_line = [&]() -> std::optional<std::string_view> {
    if (line_start >= all.size()) return std::nullopt;
    std::size_t end = all.find('\n', line_start);
    if (end == std::string_view::npos) end = all.size();
    std::string_view line = all.substr(line_start, end - line_start);
    line_start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
  };
  const auto header = next_line();
  if (!header || *header != kMetricsCsvHeader) {
    throw DataError(path, "line 1: expected the header '" + std::string(kMetricsCsvHeader) + "'");
  }
  std::vector<EpochMetrics> rows;
  for (std::int64_t line_number = 2;; ++line_number) {
    const auto line = next_line();
    if (!line) break;
    if (line->empty()) continue;
    if (static_cast<std::int64_t>(rows.size()) >= kMaxEpochs) {
      throw DataError(path, "holds more than " + std::to_string(kMaxEpochs) + " epochs, more than any run can train");
    }
    rows.push_back(parse_metrics_row(path, line_number, *line));
  }
  return rows;
}

std::vector<EpochMetrics> read_metrics_csv(const std::string& path) {
  return parse_metrics_csv(path, read_regular_file(path, "a metrics.csv file", kMaxMetricsCsvBytes));
}

void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows) {
  write_file_atomically(path, format_metrics_csv(rows));
}

}  // namespace vae_cnn
