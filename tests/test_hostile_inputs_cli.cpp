// Hostile use through the real binary: fonts damaged inside their tables, FIFOs and
// folders where a file is read, a metrics.csv that is not the weights' own, a test file that
// unpacks to gigabytes, and the words for faults in the data folder.
#include <sys/stat.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "cli_support.hpp"
#include "damaged_font.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"

namespace vae_cnn {
namespace {

using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

// `plot` of the shared weights on the 100 test digits of the small real data set.
std::string plot_arguments(const std::string& weights, const ScratchDir& dir, const std::string& data = "") {
  return "plot -w '" + weights + "' --data '" + (data.empty() ? testing::small_real_dir() : data) + "' --grid 3 --out '" +
         dir.file("pictures") + "'";
}

// stb_truetype takes the character map's offset as given: pointed 2 GB past the file (with the
// table's checksum made right), it would crash `plot` with SIGSEGV.
TEST(HostileInputs, PlotRefusesAFontWhoseTablesPointOutsideTheFile) {
  ScratchDir dir;
  testing::DamagedFont font;
  const std::uint32_t cmap = font.table("cmap");
  for (std::uint32_t i = 0; i < font.get16(cmap + 2); ++i) font.put32(cmap + 4 + 8 * i + 4, 0x7fff0000);
  font.save(dir.file("far.ttf"));
  const std::string plot = plot_arguments(testing::bce_seed7_training() + "/vae_cnn.mnist.pt", dir);
  testing::expect_one_line_failure(run_vae_cnn(dir, plot, "VAE_CNN_FONT='" + dir.file("far.ttf") + "'"), 1,
                                   dir.file("far.ttf") + ": not a usable TrueType font: table 'cmap' is read at bytes",
                                   "character map 2 GB away");
}

// A copy of the shared weights in a folder of its own, for a metrics.csv of the test's making.
std::string weights_copy(const ScratchDir& dir) {
  std::filesystem::create_directories(dir.file("run"));
  std::filesystem::copy_file(testing::bce_seed7_training() + "/vae_cnn.mnist.pt", dir.file("run/vae_cnn.mnist.pt"));
  return dir.file("run/vae_cnn.mnist.pt");
}

// Opening a FIFO for reading waits for a writer: VAE_CNN_FONT naming one would hang plot for ever. The
// guard `timeout` only turns such a hang into a failure; the refusal comes at once.
TEST(HostileInputs, AFontThatIsAFifoAFolderOrMissingIsNamedNotWaitedFor) {
  ScratchDir dir;
  ASSERT_EQ(::mkfifo(dir.file("font.fifo").c_str(), 0600), 0);
  std::filesystem::create_directories(dir.file("fonts"));
  const std::string plot = plot_arguments(testing::bce_seed7_training() + "/vae_cnn.mnist.pt", dir);
  const struct {
    std::string path, fault;
  } cases[] = {{dir.file("font.fifo"), "is a FIFO, expected a TrueType font file (named by VAE_CNN_FONT"},
               {dir.file("fonts"), "is a folder, expected a TrueType font file"},
               {dir.file("absent.ttf"), "no such file, expected a TrueType font file"}};
  for (const auto& c : cases) {
    testing::expect_one_line_failure(run_vae_cnn(dir, plot, "VAE_CNN_FONT='" + c.path + "' timeout 120"), 1,
                                     c.path + ": " + c.fault, c.path);
  }
}

// metrics.csv beside the weights as a FIFO (plot would hang), a folder, or far larger than any run
// writes (plot would read it whole): the other pictures are drawn, and a note names the file and fault.
TEST(HostileInputs, AMetricsCsvThatIsAFifoAFolderOrAbsurdlyLargeIsNamedInANote) {
  ScratchDir dir;
  const std::string weights = weights_copy(dir);
  const std::string metrics = dir.file("run/metrics.csv");
  const auto plot_note = [&](const std::string& expected) {
    const auto result = run_vae_cnn(dir, plot_arguments(weights, dir), "timeout 120");
    ASSERT_EQ(result.exit_code, 0) << result.err;
    EXPECT_NE(result.out.find("note: loss.png not drawn: " + metrics + ": " + expected), std::string::npos) << result.out;
    EXPECT_TRUE(std::filesystem::exists(dir.file("pictures/vae_mean.png")));
  };
  ASSERT_EQ(::mkfifo(metrics.c_str(), 0600), 0);
  plot_note("is a FIFO, expected a metrics.csv file");
  std::filesystem::remove(metrics);
  std::filesystem::create_directories(metrics);
  plot_note("is a folder, expected a metrics.csv file");
  std::filesystem::remove(metrics);
  // 200 MB of nothing (a sparse file: no disk used), more than a million epochs' rows take.
  std::ofstream(metrics) << kMetricsCsvHeader << "\n";
  std::filesystem::resize_file(metrics, std::uintmax_t{200} << 20);
  plot_note("holds 209715200 bytes, more than the");
}

// `train --overwrite` of another data set into a folder leaves the old weights beside the new
// run's metrics.csv: plot drew that 4-epoch curve under the weights' title ("2 epochs" here).
TEST(HostileInputs, PlotDrawsNoLossCurveFromAnotherRunsMetrics) {
  ScratchDir dir;
  const std::string weights = weights_copy(dir);
  std::vector<EpochMetrics> rows(4);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].epoch = static_cast<std::int64_t>(i + 1);
    rows[i].loss = rows[i].val_loss = 200.0 - 10.0 * static_cast<double>(i);
  }
  std::ofstream(dir.file("run/metrics.csv")) << format_metrics_csv(rows);
  const auto other_run = run_vae_cnn(dir, plot_arguments(weights, dir));
  ASSERT_EQ(other_run.exit_code, 0) << other_run.err;
  EXPECT_NE(other_run.out.find("note: loss.png not drawn: " + dir.file("run/metrics.csv") +
                               ": ends at epoch 4, but the weights (mnist) were trained 2 epochs"),
            std::string::npos)
      << other_run.out;
  EXPECT_FALSE(std::filesystem::exists(dir.file("pictures/loss.png")));
  // The weights' own history is drawn.
  std::filesystem::copy_file(testing::bce_seed7_training() + "/metrics.csv", dir.file("run/metrics.csv"),
                             std::filesystem::copy_options::overwrite_existing);
  const auto own_run = run_vae_cnn(dir, plot_arguments(weights, dir));
  ASSERT_EQ(own_run.exit_code, 0) << own_run.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("pictures/loss.png"))) << own_run.out;
}

// A test split of 1.3 million blank images in 1 MB of gzip (one member per MB of zeros, each the
// same 1 KB): a gigabyte of bytes, near the reader's limit of 2^30 values per file.
std::string gzip_bomb_folder(const ScratchDir& dir) {
  constexpr std::uint32_t kImages = 1300000;
  const std::string folder = dir.file("bomb");
  std::filesystem::create_directories(folder);
  std::ofstream images(folder + "/t10k-images-idx3-ubyte.gz", std::ios::binary);
  const auto put = [&](const std::vector<std::uint8_t>& bytes) {
    images.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  };
  std::vector<std::uint8_t> header;
  for (const std::uint32_t word : {kIdxImagesMagic, kImages, 28u, 28u}) {
    for (int shift = 24; shift >= 0; shift -= 8) header.push_back(static_cast<std::uint8_t>(word >> shift));
  }
  put(testing::gzip_member(header));
  const std::uint64_t total = std::uint64_t{kImages} * 784, megabyte = std::uint64_t{1} << 20;
  const auto zeros = testing::gzip_member(std::vector<std::uint8_t>(megabyte, 0));
  for (std::uint64_t i = 0; i < total / megabyte; ++i) put(zeros);
  put(testing::gzip_member(std::vector<std::uint8_t>(total % megabyte, 0)));
  images.close();
  write_idx(folder + "/t10k-labels-idx1-ubyte.gz", IdxArray{{kImages}, std::vector<std::uint8_t>(kImages, 0)},
            IdxCompression::kGzip);
  return folder;
}

// interpolate reads only the two test images it uses, so under a 3 GB address-space limit it runs on
// this 1 MB file that unpacks to a gigabyte; plot, which holds the whole split, stops with one line
// naming the file rather than "std::bad_alloc" when the gigabyte does not fit. plot's limit is what
// a plot of the real sample needs plus half a gigabyte (1.13: under 1.3 GB; LibTorch 2.x with CUDA
// maps its libraries into 3.0-3.2 GB), so only the bomb's gigabyte can exhaust it.
TEST(HostileInputs, InterpolateHoldsTwoImagesOfAGzipBombAndPlotNamesTheFileWhenMemoryRunsOut) {
#ifdef VAE_CNN_SANITIZED
  GTEST_SKIP() << "AddressSanitizer reserves terabytes of address space: no ulimit -v under it";
#endif
  ScratchDir dir;
  const std::string bomb = gzip_bomb_folder(dir);
  const std::string weights = testing::bce_seed7_training() + "/vae_cnn.mnist.pt";
  const std::string limit = "ulimit -v 3000000;";
  const auto line = run_vae_cnn(dir, "interpolate -w '" + weights + "' --data '" + bomb + "' --from 0 --to 1299999 -o '" +
                                         dir.file("line.png") + "'", limit);
  ASSERT_EQ(line.exit_code, 0) << line.err;
  EXPECT_TRUE(std::filesystem::exists(dir.file("line.png")));
#ifdef VAE_CNN_CUDA_BUILD
  const std::string plot_limit = "ulimit -v 3700000;";
#else
  const std::string plot_limit = "ulimit -v 1800000;";
#endif
  const auto real = run_vae_cnn(dir, plot_arguments(weights, dir), plot_limit);
  ASSERT_EQ(real.exit_code, 0) << "the limit leaves a real plot room: " << real.err;
  testing::expect_one_line_failure(run_vae_cnn(dir, plot_arguments(weights, dir, bomb), plot_limit), 1,
                                   bomb + "/t10k-images-idx3-ubyte.gz: not enough memory", "plot of the whole split");
}

// Words for faults in the data folder, through `train`: each stops before training, naming the file.
TEST(HostileInputs, DataFolderFaultsAreNamedNotCalledMissingOrPassedOver) {
  ScratchDir dir;
  const std::string train = "train --epochs 1 --limit 64 --batch-size 64 --out '" + dir.file("out") + "' --data ";
  // A loop of links where a training file belongs: named a loop, not "missing".
  const std::string loop = testing::small_data(dir, "loop", testing::Files::kRaw, 64);
  std::filesystem::remove(loop + "/train-images-idx3-ubyte");
  std::filesystem::create_symlink(loop + "/train-images-idx3-ubyte", loop + "/train-images-idx3-ubyte");
  testing::expect_one_line_failure(run_vae_cnn(dir, train + "'" + loop + "'"), 1,
                                   loop + "/train-images-idx3-ubyte: a loop of symbolic links", "link loop");
  // A raw file that is a link to nothing beside its .gz: refused, not passed over for the .gz.
  const std::string dangling = testing::small_data(dir, "dangling", testing::Files::kGzip, 64);
  std::filesystem::create_symlink(dir.file("nowhere"), dangling + "/train-labels-idx1-ubyte");
  testing::expect_one_line_failure(run_vae_cnn(dir, train + "'" + dangling + "'"), 1,
                                   dangling + "/train-labels-idx1-ubyte: a symbolic link to nothing", "dangling link");
  // --data naming a file: said to be a file, not a missing folder.
  testing::expect_one_line_failure(run_vae_cnn(dir, train + "'" + dangling + "/train-images-idx3-ubyte.gz'"), 1,
                                   "train-images-idx3-ubyte.gz: is a file, not a data folder", "--data a file");
  // Bytes after the gzip stream: refused before any training.
  const std::string trailing = testing::small_data(dir, "trailing", testing::Files::kGzip, 64);
  std::ofstream(trailing + "/t10k-labels-idx1-ubyte.gz", std::ios::app | std::ios::binary) << "garbage";
  testing::expect_one_line_failure(run_vae_cnn(dir, train + "'" + trailing + "'"), 1,
                                   trailing + "/t10k-labels-idx1-ubyte.gz: data after the end of the gzip stream",
                                   "trailing garbage");
}

}  // namespace
}  // namespace vae_cnn
