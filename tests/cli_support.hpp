// Running the real vae_cnn binary from a test: exit code, standard output and error.
#pragma once

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.hpp"
#include "vae_cnn/data/dataset.hpp"
#include "vae_cnn/data/idx_file.hpp"

extern char** environ;

namespace vae_cnn::testing {

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs `binary <arguments>` through the shell, with its output in files of `dir`; `shell_prefix`
/// goes before the binary (e.g. "ulimit -f 100;").
inline RunResult run_program(const std::string& binary, const ScratchDir& dir, const std::string& arguments,
                             const std::string& shell_prefix = "") {
  const std::string command = shell_prefix + " '" + binary + "' " + arguments + " >'" + dir.file("out.txt") +
                              "' 2>'" + dir.file("err.txt") + "' </dev/null";
  const int status = std::system(command.c_str());
  RunResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  result.out = slurp(dir.file("out.txt"));
  result.err = slurp(dir.file("err.txt"));
  return result;
}

/// Runs this build's `vae_cnn <arguments>` (see run_program).
inline RunResult run_vae_cnn(const ScratchDir& dir, const std::string& arguments, const std::string& shell_prefix = "") {
  return run_program(VAE_CNN_BINARY, dir, arguments, shell_prefix);
}

/// Two CSV files of `encode`'s layout: whether the header, indices and labels agree, how many rows
/// both have, and the largest difference of a latent value.
struct CsvComparison {
  bool same_labels = true;
  int rows = 0;
  double largest_difference = 0;
};

inline CsvComparison compare_encodings(const std::string& first_csv, const std::string& second_csv) {
  std::istringstream first(first_csv), second(second_csv);
  std::string first_line, second_line;
  CsvComparison result;
  std::getline(first, first_line);
  std::getline(second, second_line);
  result.same_labels = first_line == second_line;
  while (std::getline(first, first_line) && std::getline(second, second_line)) {
    std::istringstream a(first_line), b(second_line);
    std::string x, y;
    for (int column = 0; std::getline(a, x, ',') && std::getline(b, y, ','); ++column) {
      if (column < 3) {  // index, label, class
        result.same_labels = result.same_labels && x == y;
      } else {
        result.largest_difference = std::max(result.largest_difference, std::abs(std::stod(x) - std::stod(y)));
      }
    }
    ++result.rows;
  }
  return result;
}

// Starts the binary with stdout and stderr sent to files in `dir`, and `extra_env` ("NAME=value")
// added to this process's environment.
inline pid_t spawn_vae_cnn(const ScratchDir& dir, const std::vector<std::string>& args,
                           const std::vector<std::string>& extra_env = {}) {
  std::vector<std::string> words{VAE_CNN_BINARY};
  words.insert(words.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& word : words) argv.push_back(word.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, dir.file("out.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, dir.file("err.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> env_words(extra_env);
  for (char** variable = environ; *variable != nullptr; ++variable) env_words.emplace_back(*variable);
  std::vector<char*> envp;
  for (auto& word : env_words) envp.push_back(word.data());
  envp.push_back(nullptr);
  pid_t pid = -1;
  const int failed = posix_spawn(&pid, VAE_CNN_BINARY, &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return failed ? -1 : pid;
}

inline int wait_exit_code(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The first `count` arrays of a real IDX file.
inline IdxArray first_of(const std::string& stem, std::uint32_t magic, std::uint32_t count) {
  IdxArray array = read_idx(locate_idx_file(mnist_sample_dir(), stem), magic);
  std::size_t per_item = 1;
  for (std::size_t d = 1; d < array.dims.size(); ++d) per_item *= array.dims[d];
  array.dims[0] = count;
  array.values.resize(per_item * count);
  return array;
}

enum class Files { kRaw, kGzip, kBoth };

// A data folder of real digits: `train_count` training and 100 test images.
inline std::string small_data(const ScratchDir& dir, const std::string& name, Files files, std::uint32_t train_count = 300) {
  const std::string folder = dir.file(name);
  std::filesystem::create_directories(folder);
  const struct {
    const char* stem;
    std::uint32_t magic;
    std::uint32_t count;
  } parts[] = {{"train-images-idx3-ubyte", kIdxImagesMagic, train_count},
               {"train-labels-idx1-ubyte", kIdxLabelsMagic, train_count},
               {"t10k-images-idx3-ubyte", kIdxImagesMagic, 100},
               {"t10k-labels-idx1-ubyte", kIdxLabelsMagic, 100}};
  for (const auto& part : parts) {
    const IdxArray array = first_of(part.stem, part.magic, part.count);
    const std::string path = folder + "/" + part.stem;
    if (files != Files::kGzip) write_idx(path, array, IdxCompression::kNone);
    if (files != Files::kRaw) write_idx(path + ".gz", array, IdxCompression::kGzip);
  }
  return folder;
}

inline int count_lines(const std::string& text) {
  int lines = 0;
  for (char c : text) lines += c == '\n';
  return lines;
}

}  // namespace vae_cnn::testing

namespace vae_cnn::testing {

/// scripts/mnist_to_image_folder.py on the first `per_split` digits of each split of the MNIST
/// sample, into dir/<name>: 28x28 grey PNGs under folders 0..9, or with `tinted` 32x32 RGB digits,
/// one colour per class, under folders zero..nine (in byte order eight, five, four, nine, one, seven,
/// six, three, two, zero). Returns the folder.
inline std::string sample_image_folder(const ScratchDir& dir, const std::string& name, int per_split, bool tinted) {
  const std::string out = dir.file(name);
  const std::string command = "/usr/bin/python3 '" + std::string(VAE_CNN_SOURCE_DIR) +
                              "/scripts/mnist_to_image_folder.py' " + (tinted ? "--tinted " : "") + "--limit " +
                              std::to_string(per_split) + " --data '" + mnist_sample_dir() + "' '" + out + "' >/dev/null";
  EXPECT_EQ(std::system(command.c_str()), 0) << command;
  return out;
}

/// The CLI's contract for a failure: exit code `code`, exactly one line on stderr, naming `fragment`.
inline void expect_one_line_failure(const RunResult& result, int code, const std::string& fragment,
                                    const std::string& context) {
  EXPECT_EQ(result.exit_code, code) << context << ": " << result.err;
  EXPECT_EQ(count_lines(result.err), 1) << context << ": " << result.err;
  EXPECT_NE(result.err.find(fragment), std::string::npos) << context << ": " << result.err;
}

}  // namespace vae_cnn::testing
