// The eight pictures of docs/DESIGN.md ("What plot writes") drawn from what eval/plot_inputs.hpp
// computed: draws, loads nothing.
#pragma once

#include <string>
#include <vector>

#include "vae_cnn/eval/plot_inputs.hpp"

namespace vae_cnn {

struct PlotOptions {
  std::string out_dir = "vae_cnn";
  bool annotate = false;  ///< also write digits at a subsample of scatter points
};

struct WrittenPicture {
  std::string path;
  double seconds = 0;  ///< to draw and write it
};

struct PlotReport {
  std::vector<WrittenPicture> written;
  std::vector<std::string> notes;  ///< what was left out and why, one line each
};

/// The picture files, in the order write_plots writes them.
extern const char* const kPlotFiles[8];

/// Writes each picture atomically into out_dir (created if missing); loss.png is skipped with a
/// note when `inputs` has no history. Throws DataError (font) or WriteError (out_dir).
PlotReport write_plots(const PlotInputs& inputs, const PlotOptions& options);

}  // namespace vae_cnn
