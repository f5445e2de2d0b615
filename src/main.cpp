// vae_cnn: train a convolutional VAE on MNIST-format images and plot what it learned.
#include "vae_cnn/cli/cli.hpp"

int main(int argc, char** argv) { return vae_cnn::run_cli(argc, argv); }
