// The entry point the launcher (main.cpp) looks up in libvae_cnn_app.so once it has loaded it.
#include "vae_cnn/cli/cli.hpp"

extern "C" __attribute__((visibility("default"))) int vae_cnn_main(int argc, char** argv) {
  return vae_cnn::run_cli(argc, argv);
}
