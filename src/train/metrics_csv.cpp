// A fixed-column CSV: every row is rewritten each epoch, so a killed run never leaves half a line.
#include "vae_cnn/train/metrics_csv.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/io/atomic_write.hpp"

namespace vae_cnn {
namespace {

constexpr int kColumns = 9;

std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
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
  std::istringstream lines(text);
  std::string line;
  if (!std::getline(lines, line) || line != kMetricsCsvHeader) {
    throw DataError(path, "line 1: expected the header '" + std::string(kMetricsCsvHeader) + "'");
  }
  std::vector<EpochMetrics> rows;
  for (int line_number = 2; std::getline(lines, line); ++line_number) {
    if (line.empty()) continue;
    std::vector<double> values;
    std::istringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) {
      char* end = nullptr;
      const double value = std::strtod(field.c_str(), &end);
      if (field.empty() || *end != '\0') {
        throw DataError(path, "line " + std::to_string(line_number) + ", column " + std::to_string(values.size() + 1) +
                                  ": '" + field + "' is not a number");
      }
      values.push_back(value);
    }
    if (values.size() != kColumns) {
      throw DataError(path, "line " + std::to_string(line_number) + ": " + std::to_string(values.size()) +
                                " fields, expected " + std::to_string(kColumns));
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
    rows.push_back(r);
  }
  return rows;
}

std::vector<EpochMetrics> read_metrics_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw DataError(path, "cannot open");
  std::stringstream text;
  text << in.rdbuf();
  return parse_metrics_csv(path, text.str());
}

void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows) {
  write_file_atomically(path, format_metrics_csv(rows));
}

}  // namespace vae_cnn
