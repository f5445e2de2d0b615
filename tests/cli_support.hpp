// Running the real vae_cnn binary from a test: exit code, standard output and error.
#pragma once

#include <sys/wait.h>

#include <cstdlib>
#include <string>

#include "test_support.hpp"

namespace vae_cnn::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `vae_cnn <arguments>` through the shell, with its output in files of `dir`.
inline RunResult run_vae_cnn(const ScratchDir& dir, const std::string& arguments) {
  const std::string command = std::string("'") + VAE_CNN_BINARY + "' " + arguments + " >'" + dir.file("out.txt") +
                              "' 2>'" + dir.file("err.txt") + "' </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir.file("out.txt"));
  result.err = slurp(dir.file("err.txt"));
  return result;
}

inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace vae_cnn::testing
