# Sourced by install_deps.sh and build.sh: which LibTorch a build uses, and where its build folder is.
#   debian  Debian 12's libtorch-dev 1.13.1 (CPU), found by CMake on its own; folder build/
#   pip     PyPI's torch $VAE_CNN_TORCH_PIN (CUDA 13.0 build) in the ignored virtual environment
#           .venv-libtorch/; folder build-torch2/
#   DIR     any other LibTorch, e.g. pytorch.org's unpacked archive (the folder holding
#           share/cmake/Torch); folder build-libtorch/
# VAE_CNN_BUILD_DIR overrides build/, VAE_CNN_TORCH2_BUILD_DIR the other two.
VAE_CNN_TORCH_PIN=2.11.0
vae_cnn_venv="$root/.venv-libtorch"

libtorch_build_dir() { # libtorch_build_dir KIND
  case "$1" in
    debian) echo "${VAE_CNN_BUILD_DIR:-$root/build}" ;;
    pip) echo "${VAE_CNN_TORCH2_BUILD_DIR:-$root/build-torch2}" ;;
    *) echo "${VAE_CNN_TORCH2_BUILD_DIR:-$root/build-libtorch}" ;;
  esac
}

libtorch_prefix() { # libtorch_prefix KIND: what CMAKE_PREFIX_PATH needs, empty for Debian's
  case "$1" in
    debian) ;;
    pip)
      [ -x "$vae_cnn_venv/bin/python" ] || { echo "libtorch: no $vae_cnn_venv; run scripts/install_deps.sh --libtorch pip" >&2; return 1; }
      "$vae_cnn_venv/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)' ;;
    *)
      [ -d "$1/share/cmake/Torch" ] || { echo "libtorch: $1: not a LibTorch folder (no share/cmake/Torch in it)" >&2; return 1; }
      (cd "$1" && pwd) ;;
  esac
}
