// metrics.csv: one row per epoch, header first; written whole and atomically after every epoch.
#pragma once

#include <string>
#include <vector>

#include "vae_cnn/train/train_config.hpp"

namespace vae_cnn {

/// The header line, without newline.
extern const char* const kMetricsCsvHeader;

/// Header and one line per epoch.
std::string format_metrics_csv(const std::vector<EpochMetrics>& rows);

/// Parses what format_metrics_csv wrote; throws DataError naming the file, line and field.
std::vector<EpochMetrics> parse_metrics_csv(const std::string& path, const std::string& text);

/// Reads a metrics.csv file; throws DataError when missing or malformed.
std::vector<EpochMetrics> read_metrics_csv(const std::string& path);

/// Writes all rows atomically.
void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows);

}  // namespace vae_cnn
