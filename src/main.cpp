// vae_cnn: train a convolutional VAE on MNIST-format images and plot what it learned.
//
// A launcher that links nothing but the C library. LibTorch's loading and initialisers take half a
// second before any code of ours could run, and a SIGINT or SIGTERM then ended the process with 143
// and no word. So SIGINT and SIGTERM are blocked first, and everything else (vae_cnn, LibTorch) is
// loaded after, from libvae_cnn_app.so beside this file; a signal that arrives meanwhile waits
// until the command can answer it (release_held_interrupts in cli/interrupt.hpp).
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char** argv) {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &stop_signals, nullptr);

  char path[PATH_MAX];
  const ssize_t length = readlink("/proc/self/exe", path, sizeof path - 1);
  if (length <= 0) {
    fprintf(stderr, "vae_cnn: error: cannot find its own file (/proc/self/exe): %s\n", strerror(errno));
    return 1;
  }
  path[length] = '\0';
  char* const slash = strrchr(path, '/');
  const char kLibrary[] = "libvae_cnn_app.so";
  if (slash == nullptr || static_cast<size_t>(slash + 1 - path) + sizeof kLibrary > sizeof path) return 1;
  memcpy(slash + 1, kLibrary, sizeof kLibrary);
  void* const app = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (app == nullptr) {
    fprintf(stderr, "vae_cnn: error: cannot load %s\n", dlerror());
    return 1;
  }
  using Entry = int (*)(int, char**);
  const auto entry = reinterpret_cast<Entry>(dlsym(app, "vae_cnn_main"));
  if (entry == nullptr) {
    fprintf(stderr, "vae_cnn: error: %s has no vae_cnn_main\n", path);
    return 1;
  }
  return entry(argc, argv);
}
