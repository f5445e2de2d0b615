// The real binary, end to end: exit codes and one-line errors.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_support.hpp"

namespace vae_cnn {
namespace {

using testing::ScratchDir;

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

RunResult run_vae_cnn(const ScratchDir& dir, const std::string& arguments) {
  const std::string command = std::string("'") + VAE_CNN_BINARY + "' " + arguments + " >'" + dir.file("out.txt") +
                              "' 2>'" + dir.file("err.txt") + "' </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir.file("out.txt"));
  result.err = slurp(dir.file("err.txt"));
  return result;
}

int count_lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

TEST(Cli, HelpAndVersionExitZero) {
  ScratchDir dir;
  const RunResult help = run_vae_cnn(dir, "--help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("usage: vae_cnn <command>"), std::string::npos);
  const RunResult version = run_vae_cnn(dir, "--version");
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("vae_cnn ", 0), 0u) << version.out;
}

TEST(Cli, UnknownCommandIsAUsageErrorOnOneLine) {
  ScratchDir dir;
  const RunResult result = run_vae_cnn(dir, "frobnicate");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_EQ(count_lines(result.err), 1) << result.err;
  EXPECT_NE(result.err.find("unknown command 'frobnicate'"), std::string::npos) << result.err;
  EXPECT_EQ(run_vae_cnn(dir, "").exit_code, 2);
}

}  // namespace
}  // namespace vae_cnn
