// Running the real vae_cnn binary from a test: exit code, standard output and error.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "test_support.hpp"

extern char** environ;

namespace vae_cnn::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `vae_cnn <arguments>` through the shell, with its output in files of `dir`; `shell_prefix`
/// goes before the binary (e.g. "ulimit -f 100;").
inline RunResult run_vae_cnn(const ScratchDir& dir, const std::string& arguments, const std::string& shell_prefix = "") {
  const std::string command = shell_prefix + " '" + VAE_CNN_BINARY + "' " + arguments + " >'" + dir.file("out.txt") +
                              "' 2>'" + dir.file("err.txt") + "' </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir.file("out.txt"));
  result.err = slurp(dir.file("err.txt"));
  return result;
}

// Starts the binary with stdout and stderr sent to files in `dir`.
inline pid_t spawn_vae_cnn(const ScratchDir& dir, const std::vector<std::string>& args) {
  std::vector<std::string> words{VAE_CNN_BINARY};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, dir.file("out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, dir.file("err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  const int failed = posix_spawn(&pid, VAE_CNN_BINARY, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  return failed ? -1 : pid;
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace vae_cnn::testing
