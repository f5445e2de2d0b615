// metrics.csv: one row per epoch, header first; written whole and atomically after every epoch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vae_cnn/eval/epoch_metrics.hpp"

namespace vae_cnn {

/// The largest metrics.csv read: a run of kMaxEpochs epochs writes well under this (about 90 bytes
/// a row); a larger file is not a run's metrics.
constexpr std::uint64_t kMaxMetricsCsvBytes = std::uint64_t{160} << 20;

/// The header line, without newline.
extern const char* const kMetricsCsvHeader;

/// Header and one line per epoch.
std::string format_metrics_csv(const std::vector<EpochMetrics>& rows);

/// Parses what format_metrics_csv wrote; throws DataError naming the file, line and field, for an
/// epoch that is not a whole number from 1 to kMaxEpochs, and for more rows than kMaxEpochs.
std::vector<EpochMetrics> parse_metrics_csv(const std::string& path, const std::string& text);

/// Reads a metrics.csv file; throws DataError when missing, not a regular file (a FIFO is never
/// opened), larger than kMaxMetricsCsvBytes or malformed.
std::vector<EpochMetrics> read_metrics_csv(const std::string& path);

/// Writes all rows atomically.
void write_metrics_csv(const std::string& path, const std::vector<EpochMetrics>& rows);

}  // namespace vae_cnn
