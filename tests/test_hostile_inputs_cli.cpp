// Hostile use, round three, through the real binary: fonts damaged inside their tables, FIFOs and
// folders where a file is read, a metrics.csv that is not the weights' own, a test file that
// unpacks to gigabytes, and the words for faults in the data folder.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.hpp"
#include "damaged_font.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

// Two BCE epochs of seed 7 on 256 real digits (shared with the other plot tests).
std::string trained_folder() {
  TrainConfig config = testing::small_real_run("", 2, 7);
  config.loss = LossKind::kBce;
  return testing::shared_training("plot_bce_seed7", config);
}

// `plot` of the shared weights on the 100 test digits of the small real data set.
std::string plot_arguments(const std::string& weights, const ScratchDir& dir) {
  return "plot -w '" + weights + "' --data '" + testing::small_real_dir() + "' --grid 3 --out '" + dir.file("pictures") +
         "'";
}

// stb_truetype took the character map's offset as given: pointed 2 GB past the file (with the
// table's checksum made right), `plot` died of SIGSEGV.
TEST(HostileInputs, PlotRefusesAFontWhoseTablesPointOutsideTheFile) {
  ScratchDir dir;
  testing::DamagedFont font;
  const std::uint32_t cmap = font.table("cmap");
  for (std::uint32_t i = 0; i < font.get16(cmap + 2); ++i) font.put32(cmap + 4 + 8 * i + 4, 0x7fff0000);
  font.save(dir.file("far.ttf"));
  const std::string plot = plot_arguments(trained_folder() + "/vae_cnn.mnist.pt", dir);
  testing::expect_one_line_failure(run_vae_cnn(dir, plot, "VAE_CNN_FONT='" + dir.file("far.ttf") + "'"), 1,
                                   dir.file("far.ttf") + ": not a usable TrueType font: table 'cmap' is read at bytes",
                                   "character map 2 GB away");
}

}  // namespace
}  // namespace vae_cnn
