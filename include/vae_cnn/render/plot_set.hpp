// Everything `vae_cnn plot` draws from one weights file: the eight pictures of DESIGN.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vae_cnn {

struct PlotOptions {
  std::string weights;           ///< a weights file written by train
  std::string data_dir;          ///< empty: data/<the weights' data set>
  std::string out_dir = "vae_cnn";
  int grid = 30;                 ///< the manifold is grid × grid digits
  double range = 4.0;            ///< axes and manifold span [-range, range]
  bool annotate = false;         ///< also write digits at a subsample of scatter points
  std::string device = "cpu";
  std::uint64_t sample_seed = 0; ///< seeds the z ~ N(0, I) of samples.png
};

struct WrittenPicture {
  std::string path;
  double seconds = 0;  ///< to compute and write it
};

struct PlotReport {
  std::vector<WrittenPicture> written;
  std::vector<std::string> notes;  ///< what was left out and why, one line each
};

/// The picture files, in the order write_plots writes them.
extern const char* const kPlotFiles[8];

/// Loads the weights and the test split, then writes each picture atomically into out_dir.
/// loss.png is skipped with a note when no readable metrics.csv lies beside the weights.
/// Throws DataError (weights, data, font), WriteError (out_dir) or std::invalid_argument (options).
PlotReport write_plots(const PlotOptions& options);

}  // namespace vae_cnn
