// The parts of LibTorch vae_cnn uses. Including these rather than <torch/torch.h> keeps the
// precompiled header a quarter smaller, and every translation unit that loads it faster.
#pragma once

#include <ATen/ATen.h>
#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/adam.h>
#include <torch/serialize.h>
#include <torch/utils.h>
