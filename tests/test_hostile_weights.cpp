// Hostile weights files and checkpoints, round three: a pickle nested past any stack, a format-1
// checkpoint's embedded optimizer archive, records shared between tensors, and the words for files
// vae_cnn cannot read. Each through the real binary where the crash or the words were the binary's.
#include <filesystem>
#include <functional>
#include <string>

#include "cli_support.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/serialize/pickle_framing.hpp"
#include "vae_cnn/serialize/weights_file.hpp"
#include "vae_cnn/train/checkpoint.hpp"
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

}  // namespace
}  // namespace vae_cnn
