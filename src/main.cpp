// vae_cnn: train a convolutional VAE on MNIST-format images and plot what it learned.
//
// A launcher that links nothing but the C library. LibTorch's loading and initialisers take half a
// second before any code of ours could run, and a SIGINT or SIGTERM in that time would end the process
// with 143 and no word. So SIGINT and SIGTERM are blocked first, and everything else (vae_cnn,
// LibTorch) is loaded after, from libvae_cnn_app.so beside this file; a signal that arrives meanwhile waits
// until the command can answer it (release_held_interrupts in cli/interrupt.hpp). A signal sent
// before the process has run its first instruction still takes the kernel's default action: no
// program can hold it earlier.
//
// Under an address-space limit (`ulimit -v`) the load itself can fail three ways, none of which
// reaches code of ours: the loader cannot map a library; a LibTorch initialiser throws bad_alloc
// (std::terminate, SIGABRT); or OpenBLAS's initialiser retries its 128 MiB buffer forever at full
// speed, with SIGINT and SIGTERM held. Each ends here with one line and exit code 1.
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace {

constexpr unsigned long long kMiB = 1024ull * 1024ull;

std::atomic<bool> g_loaded{false};
int g_real_stderr = -1;   // standard error while the load's own output is held back
char g_no_space_line[256];  // written from a signal handler: made before the load
size_t g_no_space_length = 0;

// The address space this process has mapped (/proc/self/statm's first field), or 0.
unsigned long long mapped_bytes() {
  FILE* const statm = fopen("/proc/self/statm", "r");
  if (statm == nullptr) return 0;
  unsigned long long pages = 0;
  const int read = fscanf(statm, "%llu", &pages);
  fclose(statm);
  return read == 1 ? pages * static_cast<unsigned long long>(sysconf(_SC_PAGESIZE)) : 0;
}

[[noreturn]] void fail_for_want_of_address_space() {
  const ssize_t ignored = write(g_real_stderr, g_no_space_line, g_no_space_length);
  (void)ignored;
  _exit(1);
}

extern "C" void on_abort_while_loading(int) { fail_for_want_of_address_space(); }

// OpenBLAS's endless retry: a load that stands still for two seconds within one such buffer of the
// limit (two, not one: on a machine busy with other work a slow load may pause for a moment).
void* watch_the_load(void* limit_pointer) {
  const unsigned long long limit = *static_cast<const unsigned long long*>(limit_pointer);
  constexpr unsigned long long kOneBufferAndSome = 192 * kMiB;
  unsigned long long previous = 0;
  int quarters_still = 0;
  while (!g_loaded.load()) {
    const timespec quarter_second{0, 250'000'000};
    nanosleep(&quarter_second, nullptr);
    const unsigned long long mapped = mapped_bytes();
    const bool near_limit = mapped + kOneBufferAndSome > limit;
    quarters_still = near_limit && mapped == previous ? quarters_still + 1 : 0;
    previous = mapped;
    if (quarters_still >= 8 && !g_loaded.load()) fail_for_want_of_address_space();
  }
  return nullptr;
}

// While a limited address space is loaded into: stderr is held in memory (so libstdc++'s
// "terminate called after throwing..." never shows), SIGABRT and a stalled load end with the one
// line; afterwards stderr and SIGABRT are as they were, and what the load wrote is passed on.
class LimitedLoadGuard {
 public:
  explicit LimitedLoadGuard(unsigned long long limit) : limit_(limit) {
    g_no_space_length = static_cast<size_t>(snprintf(
        g_no_space_line, sizeof g_no_space_line,
        "vae_cnn: error: not enough address space: ulimit -v allows %llu MiB and loading LibTorch needs more; "
        "raise or lift the limit (ulimit -v unlimited)\n",
        limit / kMiB));
    g_no_space_length = g_no_space_length < sizeof g_no_space_line ? g_no_space_length : sizeof g_no_space_line - 1;
    g_real_stderr = dup(STDERR_FILENO);
    held_ = memfd_create("vae_cnn-load-stderr", 0);
    if (g_real_stderr >= 0 && held_ >= 0) dup2(held_, STDERR_FILENO);
    if (g_real_stderr < 0) g_real_stderr = STDERR_FILENO;
    struct sigaction on_abort {};
    on_abort.sa_handler = on_abort_while_loading;
    sigemptyset(&on_abort.sa_mask);
    sigaction(SIGABRT, &on_abort, &previous_abort_);
    watching_ = pthread_create(&watchdog_, nullptr, watch_the_load, &limit_) == 0;
  }

  ~LimitedLoadGuard() {
    g_loaded = true;
    if (watching_) pthread_detach(watchdog_);  // it sees the flag within a quarter second and ends
    sigaction(SIGABRT, &previous_abort_, nullptr);
    if (held_ < 0 || g_real_stderr == STDERR_FILENO) return;
    dup2(g_real_stderr, STDERR_FILENO);
    char buffer[4096];
    for (off_t at = 0;;) {
      const ssize_t got = pread(held_, buffer, sizeof buffer, at);
      if (got <= 0 || write(STDERR_FILENO, buffer, static_cast<size_t>(got)) != got) break;
      at += got;
    }
    close(held_);
    close(g_real_stderr);
    g_real_stderr = STDERR_FILENO;
  }

  LimitedLoadGuard(const LimitedLoadGuard&) = delete;
  LimitedLoadGuard& operator=(const LimitedLoadGuard&) = delete;

 private:
  unsigned long long limit_;
  int held_ = -1;
  pthread_t watchdog_{};
  bool watching_ = false;
  struct sigaction previous_abort_ {};
};

// dlopen of libvae_cnn_app.so; null with the reason in `why` on failure.
void* load_app(const char* path, unsigned long long limit, const char** why) {
  if (limit == 0) {
    void* const app = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (app == nullptr) *why = dlerror();
    return app;
  }
  LimitedLoadGuard guard(limit);
  void* const app = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (app == nullptr) {
    *why = dlerror();
    if (strstr(*why, "failed to map") != nullptr || strstr(*why, "cannot allocate") != nullptr ||
        strstr(*why, "Cannot allocate") != nullptr) {
      fail_for_want_of_address_space();
    }
  }
  return app;
}

}  // namespace

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

  rlimit address_space{};
  const unsigned long long limit =
      getrlimit(RLIMIT_AS, &address_space) == 0 && address_space.rlim_cur != RLIM_INFINITY ? address_space.rlim_cur : 0;
  const char* why = "";
  void* const app = load_app(path, limit, &why);
  if (app == nullptr) {
    fprintf(stderr, "vae_cnn: error: cannot load %s\n", why);
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
