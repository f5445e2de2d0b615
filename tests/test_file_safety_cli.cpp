// Hostile use, round three (see the file's tests).
#include "cli_support.hpp"
