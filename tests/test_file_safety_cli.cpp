// Hostile use (docs/reliability.md): nothing a user has is overwritten, and
// what cannot work is refused before the work. Every case runs the real binary on real digits.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cli_support.hpp"
#include "vae_cnn/cli/cli.hpp"
#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/metrics_csv.hpp"

namespace vae_cnn {
namespace {

namespace fs = std::filesystem;
using testing::expect_one_line_failure;
using testing::RunResult;
using testing::ScratchDir;
using testing::slurp;

// The folders of two different finished one-epoch runs, trained once per build and only read here.
std::string shared_run(std::uint64_t seed) {
  return testing::shared_training("file_safety_seed" + std::to_string(seed), testing::small_real_run("", 1, seed));
}

// A copy of a shared run's folder (its lock file left out) that a test may change.
std::string copy_of_run(const ScratchDir& dir, std::uint64_t seed, const std::string& name) {
  const std::string copy = dir.file(name);
  fs::create_directories(copy);
  for (const char* file : {"checkpoint.pt", "vae_cnn.mnist.pt", "metrics.csv"}) {
    fs::copy_file(fs::path(shared_run(seed)) / file, fs::path(copy) / file);
  }
  return copy;
}

// Runs the binary with `args` as they are (no shell: names may hold any byte).
RunResult run_words(const ScratchDir& dir, const std::vector<std::string>& args) {
  RunResult result;
  result.exit_code = testing::wait_exit_code(testing::spawn_vae_cnn(dir, args));
  result.out = slurp(dir.file("out.txt"));
  result.err = slurp(dir.file("err.txt"));
  return result;
}

// A one-epoch run of 256 digits, the shape of small_real_run.
std::vector<std::string> small_train(const std::string& out, const std::string& data = testing::small_real_dir()) {
  return {"train", "--data", data, "--limit", "256", "--batch-size", "64", "--threads", "1", "--lr-warmup", "0",
          "--seed", "3", "--epochs", "1", "--out", out};
}

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string quoted(const std::string& path) { return "'" + path + "'"; }

TEST(FileSafety, WeightsAndMetricsWithoutACheckpointAreNotOverwritten) {
  ScratchDir dir;
  const std::string out = copy_of_run(dir, 3, "run");
  fs::remove(out + "/checkpoint.pt");
  const std::string weights = slurp(out + "/vae_cnn.mnist.pt");
  const std::string metrics = slurp(out + "/metrics.csv");
  for (const auto& args : {small_train(out), with(small_train(out), {"--resume"})}) {
    const RunResult result = run_words(dir, args);
    expect_one_line_failure(result, 1, "holds metrics.csv and vae_cnn.mnist.pt of an earlier run but no checkpoint.pt",
                            args.back());
    EXPECT_NE(result.err.find("--overwrite"), std::string::npos) << result.err;
    EXPECT_EQ(slurp(out + "/vae_cnn.mnist.pt"), weights);
    EXPECT_EQ(slurp(out + "/metrics.csv"), metrics);
  }
}

TEST(FileSafety, ResumingIntoAnotherRunsFolderIsRefusedUnlessItIsTheSameFolder) {
  ScratchDir dir;
  const std::string a = copy_of_run(dir, 3, "a");
  const std::string b = copy_of_run(dir, 4, "b");
  const std::string b_checkpoint = slurp(b + "/checkpoint.pt");
  const std::string b_metrics = slurp(b + "/metrics.csv");
  const std::vector<std::string> resume_a_in_b{"train", "--resume", a + "/checkpoint.pt", "--epochs", "2", "--out", b};

  const RunResult refused = run_words(dir, resume_a_in_b);
  expect_one_line_failure(refused, 2, "--out must be a folder without another run, got " + b +
                                          ": it holds checkpoint.pt, metrics.csv and vae_cnn.mnist.pt",
                          "resume a into b");
  EXPECT_NE(refused.err.find("--overwrite"), std::string::npos) << refused.err;
  EXPECT_EQ(slurp(b + "/checkpoint.pt"), b_checkpoint);
  EXPECT_EQ(slurp(b + "/metrics.csv"), b_metrics);

  // Asked to, it replaces b's run with a's, continued.
  const RunResult replaced = run_words(dir, with(resume_a_in_b, {"--overwrite"}));
  ASSERT_EQ(replaced.exit_code, 0) << replaced.err;
  EXPECT_EQ(read_metrics_csv(b + "/metrics.csv").size(), 2u);

  // a's own folder, reached through a link: the same folder by identity, so simply a resume.
  fs::create_directory_symlink(a, dir.file("a_link"));
  const RunResult own = run_words(dir, {"train", "--resume", a + "/checkpoint.pt", "--epochs", "2", "--out", dir.file("a_link")});
  ASSERT_EQ(own.exit_code, 0) << own.err;
  EXPECT_EQ(read_metrics_csv(a + "/metrics.csv").size(), 2u);
}

TEST(FileSafety, AnOutputThatIsAnInputOfTheCommandIsRefusedNamingBoth) {
  ScratchDir dir;
  const std::string weights = dir.file("x.pt");
  fs::copy_file(shared_run(3) + "/vae_cnn.mnist.pt", weights);
  fs::create_hard_link(weights, dir.file("hard.pt"));
  fs::create_symlink(weights, dir.file("soft.pt"));
  fs::copy_file(weights, dir.file("loss.png"));  // weights under the name of one of plot's pictures
  const std::string data = dir.file("mnist");
  fs::copy(testing::small_real_dir(), data);
  const std::string original = slurp(weights);
  const std::string test_images = slurp(data + "/t10k-images-idx3-ubyte");

  const struct {
    std::string arguments, output, input;
  } cases[] = {
      {"decode -w " + quoted(weights) + " --z 0,0 -o " + quoted(dir.file("./x.pt")), "-o", "-w"},
      {"decode -w " + quoted(weights) + " --z 0,0 -o " + quoted(dir.file("soft.pt")), "-o", "-w"},
      {"encode -w " + quoted(weights) + " --data " + quoted(data) + " -o " + quoted(data + "/t10k-images-idx3-ubyte"),
       "-o", "--data"},
      {"eval -w " + quoted(weights) + " --data " + quoted(data) + " --iw 1 --json " + quoted(dir.file("hard.pt")),
       "--json", "-w"},
      {"interpolate -w " + quoted(weights) + " --data " + quoted(data) + " --from 0 --to 1 -o " + quoted(weights),
       "-o", "-w"},
      {"plot -w " + quoted(dir.file("loss.png")) + " --data " + quoted(data) + " --out " + quoted(dir.path().string()),
       "--out", "-w"},
  };
  for (const auto& c : cases) {
    const RunResult result = testing::run_vae_cnn(dir, c.arguments);
    expect_one_line_failure(result, 2, "is the same file as " + c.input, c.arguments);
    EXPECT_NE(result.err.find(c.output + " "), std::string::npos) << result.err;
    EXPECT_EQ(slurp(weights), original) << c.arguments;
    EXPECT_EQ(slurp(dir.file("loss.png")), original) << c.arguments;
    EXPECT_EQ(slurp(data + "/t10k-images-idx3-ubyte"), test_images) << c.arguments;
  }

  const RunResult train = run_words(dir, small_train(dir.file("mnist/"), data));
  expect_one_line_failure(train, 2, "--out must be a folder other than the data folder", "train --out = --data");
  EXPECT_FALSE(fs::exists(data + "/checkpoint.pt"));
}

TEST(FileSafety, LinksPlantedInTheOutputFolderAreNotFollowed) {
  ScratchDir dir;
  const std::string victim = dir.file("victim.txt");
  testing::write_bytes(victim, {'p', 'r', 'e', 'c', 'i', 'o', 'u', 's'});
  for (const char* planted : {".vae_cnn.lock", "train.log"}) {
    const std::string out = dir.file(std::string("out") + planted);
    fs::create_directories(out);
    fs::create_symlink(victim, out + "/" + planted);
    const RunResult result = run_words(dir, small_train(out));
    expect_one_line_failure(result, 1, out + "/" + planted + ": is a symbolic link", planted);
    EXPECT_EQ(slurp(victim), "precious") << planted;
    EXPECT_FALSE(fs::exists(out + "/checkpoint.pt")) << "refused before training: " << planted;
  }
}

TEST(FileSafety, ReplacingAFileKeepsItsModeAndOwner) {
  ScratchDir dir;
  const std::string digit = dir.file("digit.png");
  const std::string decode = "decode -w " + quoted(shared_run(3) + "/vae_cnn.mnist.pt") + " --z 0.5,-1 -o " + quoted(digit);
  ASSERT_EQ(testing::run_vae_cnn(dir, decode).exit_code, 0);
  ASSERT_EQ(::chmod(digit.c_str(), 0600), 0);
  // Only root may give a file away; others check that the mode alone survives.
  const bool root = ::geteuid() == 0;
  const uid_t owner = root ? 65534 : ::geteuid();
  const gid_t group = root ? 65534 : ::getegid();
  if (root) {
    ASSERT_EQ(::chown(digit.c_str(), owner, group), 0);
  }

  const RunResult again = testing::run_vae_cnn(dir, decode);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  struct stat info {};
  ASSERT_EQ(::stat(digit.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0600u);
  EXPECT_EQ(info.st_uid, owner);
  EXPECT_EQ(info.st_gid, group);
}

TEST(FileSafety, ADataSetNameNoFileCanCarryIsRefusedBeforeTraining) {
  ScratchDir dir;
  for (const std::string& name : {std::string("mn\nist"), std::string(250, 'x')}) {
    const std::string data = dir.file(name);
    fs::create_directory_symlink(testing::small_real_dir(), data);
    const std::string out = dir.file("out");
    const RunResult result = run_words(dir, small_train(out, data));
    expect_one_line_failure(result, 2, "--data ", "a data folder named " + std::to_string(name.size()) + " bytes");
    EXPECT_NE(result.err.find("the data set's name (the folder's name)"), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out + "/checkpoint.pt")) << "refused before training";
  }
}

TEST(FileSafety, TrainWithStandardOutputClosedFailsBeforeTraining) {
  ScratchDir dir;
  const std::string out = dir.file("out");
  std::string command = "'" + std::string(VAE_CNN_BINARY) + "'";
  for (const auto& word : small_train(out)) command += " " + quoted(word);
  const int status = std::system((command + " >&- 2>" + quoted(dir.file("err.txt"))).c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.err = slurp(dir.file("err.txt"));
  expect_one_line_failure(result, 1, "standard output: is closed", "train >&-");
  EXPECT_FALSE(fs::exists(out + "/checkpoint.pt")) << "refused before training";
}

TEST(FileSafety, AResumeWhoseDataFolderMovedSaysToPassData) {
  ScratchDir dir;
  fs::copy(testing::small_real_dir(), dir.file("mnist"));
  TrainConfig config = testing::small_real_run(dir.file("run"), 1, 3);
  config.data_dir = dir.file("mnist");
  run_training(config, {});
  fs::create_directories(dir.file("moved"));
  fs::rename(dir.file("mnist"), dir.file("moved/mnist"));

  const std::vector<std::string> resume{"train", "--resume", dir.file("run/checkpoint.pt"), "--epochs", "2"};
  const RunResult result = run_words(dir, resume);
  expect_one_line_failure(result, 1, dir.file("mnist") + ": no such data folder", "data folder moved");
  EXPECT_NE(result.err.find("pass --data DIR"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("fetch_data"), std::string::npos) << result.err;

  const RunResult followed = run_words(dir, with(resume, {"--data", dir.file("moved/mnist")}));
  EXPECT_EQ(followed.exit_code, 0) << followed.err;
}

TEST(FileSafety, MoreThreadsThanCoresIsWarnedInOneLine) {
  ScratchDir dir;
  const unsigned cores = std::thread::hardware_concurrency();
  ASSERT_GT(cores, 0u);
  const std::string threads = std::to_string(cores + 1);
  auto args = small_train(dir.file("out"));
  args[8] = threads;  // the value of --threads
  args[4] = "64";     // --limit: one batch is enough to start
  ASSERT_EQ(args[7], "--threads");
  const RunResult result = run_words(dir, args);
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const std::string warning = "--threads " + threads + " is more than the " + std::to_string(cores) + " cores";
  EXPECT_NE(result.out.find(warning), std::string::npos) << result.out;
  EXPECT_NE(slurp(dir.file("out/train.log")).find(warning), std::string::npos);
}

// Through parse_cli for each option that names a file (the check is the parser's), and through the
// binary for a few, for the exit code and the one line.
TEST(FileSafety, AnEmptyFileNameIsAUsageErrorNamingTheOption) {
  const struct {
    std::vector<std::string> words;
    std::string fragment;
  } cases[] = {
      {{"decode", "-w", "", "--z", "0,0"}, "-w/--weights: the file name is empty"},
      {{"decode", "-w", "x.pt", "--z", "0,0", "-o", ""}, "-o/--output: the file name is empty"},
      {{"encode", "-w", "x.pt", "-o", ""}, "-o/--output: the file name is empty"},
      {{"encode", "-w", "", "--data", "d"}, "-w/--weights: the file name is empty"},
      {{"encode", "-w", "x.pt", "--data", ""}, "--data: the file name is empty"},
      {{"eval", "-w", "x.pt", "--json", ""}, "--json: the file name is empty"},
      {{"eval", "-w", ""}, "-w/--weights: the file name is empty"},
      {{"eval", "-w", "x.pt", "--data", ""}, "--data: the file name is empty"},
      {{"interpolate", "-w", "x.pt", "--from", "0", "--to", "1", "-o", ""}, "-o/--output: the file name is empty"},
      {{"interpolate", "-w", "", "--from", "0", "--to", "1"}, "-w/--weights: the file name is empty"},
      {{"interpolate", "-w", "x.pt", "--from", "0", "--to", "1", "--data", ""}, "--data: the file name is empty"},
      {{"plot", "-w", "x.pt", "--out", ""}, "--out: the file name is empty"},
      {{"plot", "-w", ""}, "-w/--weights: the file name is empty"},
      {{"plot", "-w", "x.pt", "--data", ""}, "--data: the file name is empty"},
      {{"train", "--out", ""}, "--out must be a folder name: it is empty"},
      {{"train", "--data", ""}, "--data must be a folder or file name: it is empty"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv{"vae_cnn"};
    argv.insert(argv.end(), c.words.begin(), c.words.end());
    testing::expect_throw_with<UsageError>([&] { parse_cli(argv); }, {c.fragment});
  }
  ScratchDir dir;
  for (const std::size_t binary_case : {1u, 2u, 14u}) {
    const auto& c = cases[binary_case];
    expect_one_line_failure(run_words(dir, c.words), 2, c.fragment, c.words.front());
  }
}

}  // namespace
}  // namespace vae_cnn
