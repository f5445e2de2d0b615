// Hostile weights files and checkpoints: a pickle nested past any stack, a format-1
// checkpoint's embedded optimizer archive, records shared between tensors, and the words for files
// vae_cnn cannot read. Each through the real binary where the crash or the words would be the binary's.
#include <cstring>
#include <filesystem>
#include <functional>
#include <sstream>
#include <string>

#include "cli_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/pickle_framing.hpp"
#include "vae_cnn/serialize/pickled_dict.hpp"
#include "vae_cnn/serialize/tensor_archive.hpp"
#include "vae_cnn/serialize/weights_file.hpp"
#include "vae_cnn/train/checkpoint.hpp"
#include "vae_cnn/train/trainer.hpp"
#include "zip_rewrite.hpp"

namespace vae_cnn {
namespace {

using testing::expect_one_line_failure;
using testing::run_vae_cnn;
using testing::ScratchDir;
using testing::slurp;

// The run test_weights_records.cpp trains too: one training for both files.
std::string trained_dir() { return testing::shared_training("weights_records_seed4", testing::small_real_run("", 1, 4)); }

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// `original` with its pickle (data.pkl) edited, written as a valid zip (CRCs right) to `path`.
void write_with_edited_pickle(const std::string& original, const std::string& path,
                              const std::function<void(std::string&)>& edit) {
  auto records = fuzzing::read_zip_records(slurp(original));
  ASSERT_TRUE(records.has_value()) << original;
  const auto pickle = fuzzing::pickle_record(*records);
  ASSERT_NE(pickle, records->end()) << original;
  edit(pickle->bytes);
  const std::string zip = fuzzing::write_zip_records(*records);
  testing::write_bytes(path, std::vector<std::uint8_t>(zip.begin(), zip.end()));
}

// An extra field 'deep' holding None inside `depth` tuples, first in the file's top-level dict
// (whose items start at its first EMPTY_DICT, MARK).
void add_deep_field(std::string& pickle, int depth) {
  const auto items = pickle.find("}(");
  ASSERT_NE(items, std::string::npos);
  std::string field = std::string("X\x04\x00\x00\x00", 5) + "deep" + "N" + std::string(static_cast<std::size_t>(depth), '\x85');
  pickle.insert(items + 2, field);
}

std::optional<std::string> framing_fault(const std::string& pickle) {
  return pickle_framing_fault(pickle.data(), pickle.size());
}

TEST(HostileWeights, NestingIsBoundedAndCannotHideBehindTheMemo) {
  using namespace std::string_literals;
  const auto nested = [](int depth) { return "\x80\x02N"s + std::string(static_cast<std::size_t>(depth), '\x85') + "."; };
  EXPECT_EQ(framing_fault(nested(100)), std::nullopt);
  EXPECT_NE(framing_fault(nested(101)).value_or("").find("nests containers 101 deep, more than the 100"), std::string::npos);
  // A list placed in a tuple, then reached through the memo and grown: each step one level deep,
  // and the tuple's depth would no longer be what was counted.
  EXPECT_NE(framing_fault("\x80\x02]q\x00\x85" "0h\x00N" "a."s).value_or("").find("adds to a container already placed"),
            std::string::npos);
  // A list appended to itself: LibTorch's checks would walk it forever.
  EXPECT_NE(framing_fault("\x80\x02]q\x00h\x00" "a."s).value_or("").find("inside itself"), std::string::npos);
  // DICT and SETITEMS read pairs; an odd count had the last value read past the stack.
  EXPECT_NE(framing_fault("\x80\x02(Nd."s).value_or("").find("in pairs, and 1 items"), std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02}(NNNu."s).value_or("").find("in pairs, and 3 items"), std::string::npos);
  EXPECT_NE(framing_fault("\x80\x02h\x05."s).value_or("").find("memo entry 5, which nothing stored"), std::string::npos);
  // What picklers write: an object filled before it is placed, a list grown in batches.
  EXPECT_EQ(framing_fault("\x80\x02}q\x00(X\x01\x00\x00\x00" "a]q\x01(K\x01K\x02" "e(K\x03" "eu."s), std::nullopt);
  EXPECT_EQ(framing_fault("\x80\x02" "c__torch__\nModule\n)\x81}(X\x01\x00\x00\x00" "aK\x01u" "b."s), std::nullopt);
}

// A tuple nested 20,000 deep in an extra field of an otherwise valid weights file or checkpoint
// overflowed the stack (SIGSEGV, 139) in every command that reads one; 50 deep still loads.
TEST(HostileWeights, ADeeplyNestedPickleIsRefusedByEveryCommand) {
  ScratchDir dir;
  const std::string deep = dir.file("deep.pt");
  write_with_edited_pickle(trained_dir() + "/vae_cnn.mnist.pt", deep, [](std::string& p) { add_deep_field(p, 20000); });
  const std::string data = " --data " + quoted(testing::small_real_dir());
  const std::string fault = "nests containers 101 deep";
  expect_one_line_failure(run_vae_cnn(dir, "decode -w " + quoted(deep) + " --z 0,0 -o " + quoted(dir.file("z.png"))), 1,
                          deep + ": not a vae_cnn weights file, or damaged", "decode");
  expect_one_line_failure(run_vae_cnn(dir, "eval -w " + quoted(deep) + data), 1, fault, "eval");
  expect_one_line_failure(run_vae_cnn(dir, "plot -w " + quoted(deep) + data + " --out " + quoted(dir.file("plots"))), 1,
                          fault, "plot");
  expect_one_line_failure(run_vae_cnn(dir, "serve -w " + quoted(deep) + data + " --port 0", "timeout 60"), 1, fault,
                          "serve");

  const std::string shallow = dir.file("shallow.pt");
  write_with_edited_pickle(trained_dir() + "/vae_cnn.mnist.pt", shallow, [](std::string& p) { add_deep_field(p, 50); });
  const auto decoded = run_vae_cnn(dir, "decode -w " + quoted(shallow) + " --z 0,0 -o " + quoted(dir.file("z.png")));
  EXPECT_EQ(decoded.exit_code, 0) << decoded.err;

  // A checkpoint: refused by --resume, and a plain train into its folder neither crashes nor replaces it.
  const std::string run = dir.file("run");
  std::filesystem::copy(trained_dir(), run);
  write_with_edited_pickle(trained_dir() + "/checkpoint.pt", run + "/checkpoint.pt",
                           [](std::string& p) { add_deep_field(p, 20000); });
  const std::string before = slurp(run + "/checkpoint.pt");
  expect_one_line_failure(run_vae_cnn(dir, "train --resume " + quoted(run + "/checkpoint.pt") + " --epochs 2"), 1,
                          run + "/checkpoint.pt: not a vae_cnn checkpoint, or damaged", "train --resume");
  expect_one_line_failure(run_vae_cnn(dir, "train --epochs 1 --limit 64 --threads 1" + data + " --out " + quoted(run)), 2,
                          "already holds another run", "train into its folder");
  EXPECT_EQ(slurp(run + "/checkpoint.pt"), before);
}

// The run's checkpoint rewritten as format 1 wrote it: LibTorch's own optimizer archive, with
// `edit` applied to that archive's records, as a uint8 field 'optimizer'.
void write_format_one_checkpoint(const std::string& path, const std::function<void(std::vector<fuzzing::ZipRecord>&)>& edit) {
  const std::string current = trained_dir() + "/checkpoint.pt";
  const Checkpoint checkpoint = load_checkpoint(current);
  ConvVae model = checkpoint.weights.model;
  auto optimizer = make_optimizer(model, checkpoint.config.learning_rate, checkpoint.config.optimizer);
  restore_training_state(checkpoint, model, *optimizer, torch::kCPU);
  std::ostringstream bytes;
  torch::serialize::OutputArchive archive;
  optimizer->save(archive);
  archive.save_to(bytes);
  auto records = fuzzing::read_zip_records(bytes.str());
  ASSERT_TRUE(records.has_value());
  edit(*records);
  const std::string edited = fuzzing::write_zip_records(*records);
  GenericDict dict = read_tagged_dict(current, "vae_cnn.checkpoint", "a checkpoint", kCheckpointFormatVersion);
  ASSERT_EQ(dict.erase(std::string("optimizer_state")), 1u);
  dict.insert_or_assign(std::string("format_version"), std::int64_t{1});
  dict.insert(std::string("optimizer"), torch::from_blob(const_cast<char*>(edited.data()),
                                                         {static_cast<std::int64_t>(edited.size())}, torch::kUInt8)
                                            .clone());
  write_dict_file(path, dict);
}

// A format-1 checkpoint's embedded optimizer archive gets every check the checkpoint gets: a REDUCE
// on an empty stack in its pickle is one line and exit 1, never handed to LibTorch's loader (a
// SIGSEGV there).
TEST(HostileWeights, AFormatOneCheckpointsOptimizerArchiveIsCheckedLikeTheFile) {
  ScratchDir dir;
  const std::string run = dir.file("run");
  std::filesystem::copy(trained_dir(), run);
  const std::string checkpoint = run + "/checkpoint.pt";
  write_format_one_checkpoint(checkpoint, [](std::vector<fuzzing::ZipRecord>& records) {
    const auto pickle = fuzzing::pickle_record(records);
    ASSERT_NE(pickle, records.end());
    pickle->bytes.insert(2, "R");  // after PROTO 2
  });
  expect_one_line_failure(run_vae_cnn(dir, "train --resume " + quoted(checkpoint) + " --epochs 2"), 1,
                          checkpoint + ": not LibTorch's optimizer archive (field 'optimizer'), or damaged: its pickle "
                                       "(data.pkl) opcode 0x52 takes 2 items, and 0 are there",
                          "REDUCE on an empty stack");

  // A short tensor record, as in the file itself (WeightsRecords.AShortRecordIsRefused).
  write_format_one_checkpoint(checkpoint, [](std::vector<fuzzing::ZipRecord>& records) {
    const auto largest = fuzzing::largest_tensor_record(records);
    ASSERT_NE(largest, records.end());
    largest->bytes.resize(largest->bytes.size() / 2);
  });
  testing::expect_throw_with<DataError>([&] { load_checkpoint(checkpoint); },
                                        {checkpoint, "declares 200704 bytes", "holds 100352"});

  // Undamaged, it still resumes.
  write_format_one_checkpoint(checkpoint, [](std::vector<fuzzing::ZipRecord>&) {});
  const auto resumed = run_vae_cnn(dir, "train --resume " + quoted(checkpoint) + " --epochs 2 --threads 1");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.err;
}

// A pickle of a list of `count` float tensors of `elements` each, all naming record '0' (protocol 2,
// as torch.save writes one tensor), in an archive holding that one record of `elements` floats.
std::string archive_of_tensors_naming_one_record(int count, std::int32_t elements) {
  using namespace std::string_literals;
  std::string number("J\0\0\0\0", 5);
  std::memcpy(&number[1], &elements, 4);
  std::string pickle = "\x80\x02](";
  for (int i = 0; i < count; ++i) {
    pickle += "ctorch._utils\n_rebuild_tensor_v2\n(("s + "X\x07\0\0\0storage"s + "ctorch\nFloatStorage\n"s +
              "X\x01\0\0\0" "0"s + "X\x03\0\0\0cpu"s + number + "tQK\0"s + number + "\x85K\x01\x85\x89"s +
              "ccollections\nOrderedDict\n)Rt" "R"s;
  }
  pickle += "e.";
  const std::vector<fuzzing::ZipRecord> records{{"archive/data.pkl", pickle},
                                                {"archive/data/0", std::string(static_cast<std::size_t>(elements) * 4, '\0')},
                                                {"archive/version", "3\n"}};
  return fuzzing::write_zip_records(records);
}

// Copied per tensor, one 1 MB record named by 6,000 tensors of a 1.3 MB file would ask for 6 GB.
// The record is read once and shared, as Python shares it.
TEST(HostileWeights, ARecordNamedByManyTensorsIsReadOnce) {
  const std::string archive = archive_of_tensors_naming_one_record(8, 262144);
  std::istringstream in(archive);
  caffe2::serialize::PyTorchStreamReader reader(&in);
  const c10::IValue root = read_checked_archive(reader, "shared.pt", "a test archive");
  ASSERT_TRUE(root.isList());
  const auto tensors = root.toList();
  ASSERT_EQ(tensors.size(), 8u);
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const at::Tensor tensor = tensors.get(i).toTensor();
    EXPECT_EQ(tensor.numel(), 262144);
    EXPECT_EQ(tensor.storage().data(), tensors.get(0).toTensor().storage().data()) << "tensor " << i << " has a copy";
  }
}

// LibTorch parses a container's type tag ("List[int]") one call per bracket.
TEST(HostileWeights, ATypeTagNestedPastAnyStackIsRefused) {
  using namespace std::string_literals;
  const auto pickle_tagged = [](int depth) {
    std::string type;
    for (int i = 0; i < depth; ++i) type += "List[";
    type += "int" + std::string(static_cast<std::size_t>(depth), ']');
    std::string length(4, '\0');
    const auto size = static_cast<std::uint32_t>(type.size());
    std::memcpy(&length[0], &size, 4);
    return "\x80\x02" "ctorch.jit._pickle\nrestore_type_tag\n(]X"s + length + type + "tR."s;
  };
  const auto read = [&](int depth) {
    const std::string archive =
        fuzzing::write_zip_records({{"archive/data.pkl", pickle_tagged(depth)}, {"archive/version", "3\n"}});
    std::istringstream in(archive);
    caffe2::serialize::PyTorchStreamReader reader(&in);
    return read_checked_archive(reader, "tagged.pt", "a test archive");
  };
  EXPECT_TRUE(read(3).isList());
  testing::expect_throw_with<DataError>([&] { read(200000); }, {"tagged.pt", "type nested more than 100 deep"});
}

// Files vae_cnn cannot read are called what they are, not "truncated": a pickle of protocol 4
// (torch.save(..., pickle_protocol=4)), and a bare state_dict (an OrderedDict at the top, as
// torch.save(model.state_dict()) writes). The fixtures are made here, as Python writes their start.
TEST(HostileWeights, UnsupportedPythonSavesAreNamed) {
  using namespace std::string_literals;
  ScratchDir dir;
  const std::string protocol4 = dir.file("protocol4.pt");
  write_with_edited_pickle(trained_dir() + "/vae_cnn.mnist.pt", protocol4, [](std::string& p) { p[1] = 4; });
  expect_one_line_failure(run_vae_cnn(dir, "decode -w " + quoted(protocol4) + " --z 0,0 -o " + quoted(dir.file("z.png"))), 1,
                          protocol4 + ": its pickle is of protocol 4, which LibTorch does not read", "protocol 4");

  const std::string ordered = dir.file("state_dict.pt");
  const std::string pickle = "\x80\x02" "ccollections\nOrderedDict\nq\x00)Rq\x01(X\x01\0\0\0" "aq\x02K\x01u."s;
  const std::string zip = fuzzing::write_zip_records({{"state_dict/data.pkl", pickle}, {"state_dict/version", "3\n"}});
  testing::write_bytes(ordered, std::vector<std::uint8_t>(zip.begin(), zip.end()));
  expect_one_line_failure(run_vae_cnn(dir, "eval -w " + quoted(ordered)), 1,
                          ordered + ": holds an OrderedDict, as Python's torch.save(model.state_dict()) writes", "OrderedDict");
}

}  // namespace
}  // namespace vae_cnn
