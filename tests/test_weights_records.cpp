// Weights and checkpoints damaged inside a valid zip: each is refused with the true reason before
// any tensor is used (LibTorch alone reads short records past their end and crashes on empty ones),
// and a file Python re-saved with torch.save loads.
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <sstream>

#include "test_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"
#include "vae_cnn/serialize/weights_file.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "zip_rewrite.hpp"

namespace vae_cnn {
namespace {

using fuzzing::largest_tensor_record;
using fuzzing::ZipRecord;
using testing::expect_throw_with;
using testing::ScratchDir;
using testing::slurp;

std::string trained_dir() { return testing::shared_training("weights_records_seed4", testing::small_real_run("", 1, 4)); }
std::string weights_path() { return trained_dir() + "/vae_cnn.mnist.pt"; }
std::string checkpoint_path() { return trained_dir() + "/checkpoint.pt"; }

// `original` with its largest tensor record edited, written as a valid zip (CRCs right) into `dir`.
std::string with_edited_record(const ScratchDir& dir, const std::string& original,
                               const std::function<void(std::string&)>& edit) {
  auto records = fuzzing::read_zip_records(slurp(original));
  EXPECT_TRUE(records.has_value());
  if (!records) return original;
  const auto largest = largest_tensor_record(*records);
  EXPECT_NE(largest, records->end());
  edit(largest->bytes);
  const std::string path = dir.file(std::filesystem::path(original).filename().string());
  testing::write_bytes(path, [&] {
    const std::string zip = fuzzing::write_zip_records(*records);
    return std::vector<std::uint8_t>(zip.begin(), zip.end());
  }());
  return path;
}

void expect_both_loaders_refuse(const ScratchDir& dir, const std::function<void(std::string&)>& edit,
                                const std::vector<std::string>& fragments) {
  const std::string weights = with_edited_record(dir, weights_path(), edit);
  expect_throw_with<DataError>([&] { load_weights(weights); }, fragments);
  const std::string checkpoint = with_edited_record(dir, checkpoint_path(), edit);
  expect_throw_with<DataError>([&] { load_checkpoint(checkpoint); }, fragments);
}

TEST(WeightsRecords, TheRewrittenFileLoadsAsTheOriginal) {
  // Without this, the refusals below could come from the rewriting rather than the damage.
  ScratchDir dir;
  const std::string copy = with_edited_record(dir, weights_path(), [](std::string&) {});
  const LoadedWeights original = load_weights(weights_path());
  const LoadedWeights rewritten = load_weights(copy);
  const auto a = original.model->parameters();
  const auto b = rewritten.model->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << i;
  EXPECT_NO_THROW(load_checkpoint(with_edited_record(dir, checkpoint_path(), [](std::string&) {})));
}

TEST(WeightsRecords, AnEmptiedRecordIsRefused) {
  ScratchDir dir;
  expect_both_loaders_refuse(dir, [](std::string& bytes) { bytes.clear(); },
                             {"encoder.fc.weight", "declares 200704 bytes", "empty"});
}

TEST(WeightsRecords, AShortRecordIsRefused) {
  ScratchDir dir;
  expect_both_loaders_refuse(dir, [](std::string& bytes) { bytes.resize(bytes.size() / 2); },
                             {"encoder.fc.weight", "declares 200704 bytes", "holds 100352"});
}

TEST(WeightsRecords, AFlippedByteFailsTheZipsCrc) {
  ScratchDir dir;
  auto records = fuzzing::read_zip_records(slurp(weights_path()));
  ASSERT_TRUE(records);
  std::string bytes = slurp(weights_path());
  const std::string& record = largest_tensor_record(*records)->bytes;
  const auto at = bytes.find(record.substr(0, 64));  // stored uncompressed: the record's bytes are in the file
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1000] = static_cast<char>(bytes[at + 1000] ^ 0x01);
  testing::write_bytes(dir.file("flipped.pt"), std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
  expect_throw_with<DataError>([&] { load_weights(dir.file("flipped.pt")); }, {"damaged", "CRC"});
}

TEST(WeightsRecords, NonFiniteWeightsAreRefused) {
  ScratchDir dir;
  expect_both_loaders_refuse(
      dir,
      [](std::string& bytes) {
        const float nan = std::numeric_limits<float>::quiet_NaN();
        std::memcpy(bytes.data() + 400, &nan, sizeof nan);
      },
      {"encoder.fc.weight", "NaN or infinite"});
}

// A tensor whose offset takes it past its storage: LibTorch's unpickler sets views unchecked.
TEST(WeightsRecords, AViewPastItsStorageIsRefused) {
  ScratchDir dir;
  GenericDict dict = new_tagged_dict("vae_cnn.weights", kWeightsFormatVersion);
  ConvVae model(ConvVaeOptions().latent_dim(2));
  add_model_fields(dict, model, WeightsMetadata{});
  GenericDict state = dict.at("state_dict").toGenericDict();
  at::Tensor bias = torch::zeros({16});
  bias.unsafeGetTensorImpl()->set_storage_offset(8);  // elements 8..23 of a 16-element storage
  state.insert_or_assign(std::string("encoder.fc.bias"), bias);
  write_dict_file(dir.file("view.pt"), dict);
  expect_throw_with<DataError>([&] { load_weights(dir.file("view.pt")); },
                               {"encoder.fc.bias", "reaches past the end of its 64-byte storage"});
}

TEST(WeightsRecords, MetadataOutOfBoundsIsRefused) {
  ScratchDir dir;
  ConvVae model(ConvVaeOptions().latent_dim(2));
  const auto refused = [&](const std::string& key, const c10::IValue& value, const std::string& fragment) {
    GenericDict dict = new_tagged_dict("vae_cnn.weights", kWeightsFormatVersion);
    add_model_fields(dict, model, WeightsMetadata{});
    dict.insert_or_assign(key, value);
    write_dict_file(dir.file("meta.pt"), dict);
    expect_throw_with<DataError>([&] { load_weights(dir.file("meta.pt")); }, {"'" + key + "'", fragment});
  };
  refused("beta", std::numeric_limits<double>::infinity(), "expected a number from 0 to 1000000");
  refused("beta", -1.0, "expected a number from 0 to 1000000");
  refused("epochs", std::int64_t{-3}, "expected 0 to 1000000");
  refused("dataset", std::string("../../etc"), "not a folder name");
  refused("image_shape", c10::List<std::int64_t>({1, 30, 28}), "height 30 is not a multiple of 4");
  refused("image_shape", c10::List<std::int64_t>({2, 28, 28}), "2 channels, expected 1 (grey) or 3 (RGB)");
}

TEST(WeightsRecords, CheckpointOptionsOutOfBoundsAreRefused) {
  ScratchDir dir;
  const c10::IValue root = [&] {
    GenericDict dict = read_tagged_dict(checkpoint_path(), "vae_cnn.checkpoint", "a vae_cnn checkpoint", 99);
    GenericDict config = dict.at("config").toGenericDict();
    config.insert_or_assign(std::string("learning_rate"), std::numeric_limits<double>::quiet_NaN());
    return c10::IValue(dict);
  }();
  write_dict_file(dir.file("checkpoint.pt"), root.toGenericDict());
  expect_throw_with<DataError>([&] { load_checkpoint(dir.file("checkpoint.pt")); },
                               {"recorded options are out of bounds", "learning_rate must be a positive number"});
}

// Python's torch.save writes lists as plain lists, not int lists: image_shape [1, 28, 28] loads
// from either.
TEST(WeightsRecords, WeightsPythonResavedLoad) {
  const std::vector<std::string> pythons{"/usr/bin/python3",
                                         std::string(VAE_CNN_SOURCE_DIR) + "/.venv-libtorch/bin/python"};
  ScratchDir dir;
  int tried = 0;
  for (const std::string& python : pythons) {
    if (std::system(("'" + python + "' -c 'import torch' >/dev/null 2>&1").c_str()) != 0) continue;
    const std::string resaved = dir.file("resaved" + std::to_string(++tried) + ".pt");
    const std::string script = "import sys, torch; torch.save(torch.load(sys.argv[1], weights_only=False), sys.argv[2])";
    ASSERT_EQ(std::system(("'" + python + "' -c '" + script + "' '" + weights_path() + "' '" + resaved + "'").c_str()), 0)
        << python;
    LoadedWeights loaded;
    ASSERT_NO_THROW(loaded = load_weights(resaved)) << python;
    const LoadedWeights original = load_weights(weights_path());
    const auto a = original.model->parameters();
    const auto b = loaded.model->parameters();
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << python << " " << i;
    EXPECT_EQ(loaded.metadata.dataset, "mnist");
  }
  if (tried == 0) GTEST_SKIP() << "no python3-torch";
}

// A colour model's weights carry its shape and class names; Python's loader builds the same layers
// from them and computes the same z_mean.
TEST(WeightsRecords, AColourModelTravelsWithItsShapeAndClassNames) {
  ScratchDir dir;
  torch::manual_seed(5);
  ConvVae model(ConvVaeOptions().image_shape({3, 32, 32}));
  WeightsMetadata metadata;
  metadata.dataset = "tinted";
  metadata.class_names = {"cat", "dog", "red fox"};
  metadata.test_fraction = 0.25;
  save_weights(dir.file("colour.pt"), model, metadata);
  LoadedWeights loaded = load_weights(dir.file("colour.pt"));
  EXPECT_EQ(loaded.model->image_shape(), (ImageShape{3, 32, 32}));
  EXPECT_EQ(loaded.metadata.class_names, metadata.class_names);
  EXPECT_DOUBLE_EQ(loaded.metadata.test_fraction, 0.25);
  // The same images on both sides, made without a generator: (i mod 97) / 96.
  torch::NoGradGuard no_grad;
  const auto images = torch::arange(4 * 3 * 32 * 32, torch::kFloat).remainder(97).div(96).view({4, 3, 32, 32});
  const auto z_mean = loaded.model->encoder->forward(images).first;
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) GTEST_SKIP() << "no python3-torch";
  const std::string script =
      "import sys, torch; sys.path.insert(0, sys.argv[1]); from vae_cnn_model import load_weights; "
      "model, meta = load_weights(sys.argv[2]); "
      "x = torch.arange(4 * 3 * 32 * 32, dtype=torch.float).remainder(97).div(96).view(4, 3, 32, 32); "
      "print(meta['class_names'], list(meta['image_shape']), sum(p.numel() for p in model.parameters())); "
      "print(' '.join(f'{v:.6f}' for v in model.encoder(x)[0].flatten().tolist()))";
  const std::string command = "/usr/bin/python3 -c \"" + script + "\" '" + std::string(VAE_CNN_SOURCE_DIR) +
                              "/scripts' '" + dir.file("colour.pt") + "' > '" + dir.file("out.txt") + "'";
  ASSERT_EQ(std::system(command.c_str()), 0);
  std::istringstream out(slurp(dir.file("out.txt")));
  std::string described;
  std::getline(out, described);
  EXPECT_EQ(described, "['cat', 'dog', 'red fox'] [3, 32, 32] 153559");
  const auto flat = z_mean.flatten();
  for (std::int64_t i = 0; i < flat.numel(); ++i) {
    double value = 0;
    ASSERT_TRUE(out >> value) << "Python printed fewer z_mean values than " << flat.numel();
    EXPECT_NEAR(value, flat[i].item<double>(), 1e-4) << i;
  }
}

}  // namespace
}  // namespace vae_cnn
