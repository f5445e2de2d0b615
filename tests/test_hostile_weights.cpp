// Hostile weights files and checkpoints, round three.
#include "test_support.hpp"
