// The user's own images through the real binary: a colour class-folder tree and a Keras-style .npz
// made at test time from the repository's MNIST sample train, resume, and feed every command that
// reads weights; the model, the pictures and the CSV follow the images' shape and class names; bad
// folders and sizes are one line each.
#include <filesystem>
#include <fstream>

#include "cli_support.hpp"
#include "test_support.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;
using testing::expect_one_line_failure;
using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

std::string tinted_digits(const ScratchDir& dir, int per_split) {
  return testing::sample_image_folder(dir, "tinted", per_split, /*tinted=*/true);
}

// A PNG's width, height and colour type (0 grey, 2 RGB) from its IHDR chunk.
struct PngHeader {
  int width = 0, height = 0, colour_type = -1;
};

PngHeader png_header(const std::string& path) {
  const std::string bytes = slurp(path);
  PngHeader header;
  if (bytes.size() < 26) return header;
  const auto u32 = [&](std::size_t at) {
    return (static_cast<unsigned char>(bytes[at]) << 24) | (static_cast<unsigned char>(bytes[at + 1]) << 16) |
           (static_cast<unsigned char>(bytes[at + 2]) << 8) | static_cast<unsigned char>(bytes[at + 3]);
  };
  header.width = static_cast<int>(u32(16));
  header.height = static_cast<int>(u32(20));
  header.colour_type = static_cast<unsigned char>(bytes[25]);
  return header;
}

TEST(OwnImagesCli, AColourFolderTrainsResumesAndFeedsEveryCommand) {
  ScratchDir dir;
  const std::string data = tinted_digits(dir, 300);
  const std::string out = dir.file("run");
  const std::string weights = out + "/vae_cnn.tinted.pt";
  auto result = run_vae_cnn(dir, "train --data '" + data + "' --epochs 1 --seed 3 --threads 1 --out '" + out + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string log = slurp(out + "/train.log");
  EXPECT_NE(log.find("images 3x32x32 (RGB) from image folders, 10 classes: eight, five, four, nine, one"),
            std::string::npos) << log;

  result = run_vae_cnn(dir, "summary -w '" + weights + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("(None, 3, 32, 32)"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Total params: 153,559"), std::string::npos) << result.out;

  // Without --data the weights' own data set is looked for in data/tinted, which is not there.
  result = run_vae_cnn(dir, "encode -w '" + weights + "' --data '" + data + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("index,label,class,z_mean_0,z_mean_1,z_log_var_0,z_log_var_1\n", 0), 0u);
  EXPECT_NE(result.out.find("\n0,0,eight,"), std::string::npos) << result.out.substr(0, 300);
  EXPECT_NE(result.out.find(",9,zero,"), std::string::npos);

  result = run_vae_cnn(dir, "plot -w '" + weights + "' --data '" + data + "' --out '" + dir.file("p") + "' --grid 5");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  for (const char* name : {"reconstructions.png", "samples.png", "digits_over_latent.png"}) {
    EXPECT_EQ(png_header(dir.file(std::string("p/") + name)).colour_type, 2) << name << ": not RGB";
  }
  const PngHeader manifold = png_header(dir.file("p/digits_over_latent.png"));
  EXPECT_GE(manifold.width, 5 * 32);

  result = run_vae_cnn(dir, "decode -w '" + weights + "' --z 0.5,-0.5 -o '" + dir.file("d.png") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const PngHeader digit = png_header(dir.file("d.png"));
  EXPECT_EQ(digit.width, 32);
  EXPECT_EQ(digit.height, 32);
  EXPECT_EQ(digit.colour_type, 2);

  result = run_vae_cnn(dir, "interpolate -w '" + weights + "' --data '" + data + "' --from 0 --to 250 -o '" +
                                dir.file("i.png") + "'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(png_header(dir.file("i.png")).colour_type, 2);

  result = run_vae_cnn(dir, "eval -w '" + weights + "' --data '" + data + "' --iw 1");
  EXPECT_EQ(result.exit_code, 0) << result.err;

  // The shape is kept on resume: asking for another is a usage error naming the checkpoint.
  result = run_vae_cnn(dir, "train --resume '" + out + "/checkpoint.pt' --epochs 2 --image-size 16");
  expect_one_line_failure(result, 2, "--image-size must be 0", "another size on resume");
  result = run_vae_cnn(dir, "train --resume '" + out + "/checkpoint.pt' --epochs 2");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(slurp(out + "/metrics.csv").find("\n2,"), std::string::npos);
}

// A Keras user's file as it is: mnist.npz's four arrays, written by numpy.
TEST(OwnImagesCli, AKerasNpzTrainsAtItsOwnSizeOrResized) {
  ScratchDir dir;
  if (std::system("/usr/bin/python3 -c 'import numpy' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3-numpy";
  const std::string npz = dir.file("digits.npz");
  const std::string script =
      "import sys, gzip, numpy as np\n"
      "def idx(name, skip):\n"
      "    return np.frombuffer(gzip.open(sys.argv[1] + '/' + name + '.gz').read(), np.uint8, offset=skip)\n"
      "x_train = idx('train-images-idx3-ubyte', 16).reshape(-1, 28, 28)[:200]\n"
      "y_train = idx('train-labels-idx1-ubyte', 8)[:200]\n"
      "x_test = idx('t10k-images-idx3-ubyte', 16).reshape(-1, 28, 28)[:100]\n"
      "y_test = idx('t10k-labels-idx1-ubyte', 8)[:100]\n"
      "np.savez_compressed(sys.argv[2], x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)\n";
  std::ofstream(dir.file("make_npz.py")) << script;
  ASSERT_EQ(std::system(("/usr/bin/python3 '" + dir.file("make_npz.py") + "' '" + testing::mnist_sample_dir() + "' '" +
                         npz + "'").c_str()),
            0);
  auto result = run_vae_cnn(dir, "train --data '" + npz + "' --epochs 1 --seed 1 --threads 1 --out '" +
                                     dir.file("own") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_TRUE(fs::exists(dir.file("own/vae_cnn.digits.pt")));
  EXPECT_NE(slurp(dir.file("own/train.log")).find("images 1x28x28 (grey) from NumPy archive, 10 classes: 0, 1, 2"),
            std::string::npos);
  result = run_vae_cnn(dir, "train --data '" + npz + "' --epochs 1 --seed 1 --threads 1 --image-size 16 "
                                     "--channels 3 --out '" + dir.file("small") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(slurp(dir.file("small/train.log")).find("images 3x16x16 (RGB) from NumPy archive"), std::string::npos);
  EXPECT_NE(slurp(dir.file("small/train.log")).find("300 resized to 16x16"), std::string::npos);
}

TEST(OwnImagesCli, SummaryFollowsTheImageSizeAndChannels) {
  ScratchDir dir;
  auto result = run_vae_cnn(dir, "summary");
  EXPECT_NE(result.out.find("Total params: 134,165"), std::string::npos) << result.out;
  result = run_vae_cnn(dir, "summary --image-size 32 --channels 3");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("Total params: 153,559"), std::string::npos) << result.out;
  expect_one_line_failure(run_vae_cnn(dir, "summary --image-size 30"), 2,
                          "--image-size must be 0 (the data's own size) or a multiple of 4 from 4 to 256, got 30",
                          "summary --image-size 30");
  expect_one_line_failure(run_vae_cnn(dir, "summary --channels 2"), 2,
                          "--channels must be 0 (the data's own), 1 (grey) or 3 (RGB), got 2", "summary --channels 2");
}

TEST(OwnImagesCli, BadFoldersAndSizesAreOneLineEach) {
  ScratchDir dir;
  const std::string data = tinted_digits(dir, 40);
  const auto train = [&](const std::string& options) {
    return run_vae_cnn(dir, "train --data '" + data + "' --epochs 1 --threads 1 --out '" + dir.file("o") + "' " + options);
  };
  expect_one_line_failure(train("--image-size 30"), 2, "--image-size must be", "--image-size 30");
  expect_one_line_failure(train("--image-size 512"), 2, "--image-size must be", "--image-size 512");
  expect_one_line_failure(train("--channels 4"), 2, "--channels must be", "--channels 4");
  expect_one_line_failure(train("--test-fraction 1"), 2, "--test-fraction must be a number above 0", "fraction 1");
  EXPECT_FALSE(fs::exists(dir.file("o")));

  // Not an image after all: named, and nothing written.
  const std::string broken = data + "/train/one/broken.png";
  std::ofstream(broken) << "not a png";
  expect_one_line_failure(train(""), 1, "broken.png", "an undecodable image");
  EXPECT_FALSE(fs::exists(dir.file("o/checkpoint.pt")));
  fs::remove(broken);

  // One grey 28x28 digit among the 32x32 colour ones: refused without --image-size, resized with it.
  const std::string grey = testing::sample_image_folder(dir, "grey", 1, /*tinted=*/false);
  fs::copy_file(grey + "/train/0/00000.png", data + "/train/one/zz_grey.png");  // the sample begins with a 0
  expect_one_line_failure(train(""), 1, "zz_grey.png", "images of two sizes");
  auto result = train("--image-size 32");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(slurp(dir.file("o/train.log")).find("images 3x32x32 (RGB) from image folders"), std::string::npos);
  EXPECT_NE(slurp(dir.file("o/train.log")).find("1 resized to 32x32"), std::string::npos);
}

}  // namespace
}  // namespace vae_cnn
