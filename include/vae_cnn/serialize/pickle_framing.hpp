// A check of a pickle's framing (opcodes, the lengths they announce, the stack and the nesting they
// build), run before LibTorch's unpickler sees the bytes.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace vae_cnn {

/// Walks the opcodes of a pickle (protocols 0–5) from the first byte to STOP. Returns a description
/// of the first fault — an unknown opcode, an argument or a length-prefixed payload that runs past
/// the end, nothing after the last opcode but no STOP, an opcode that takes more items than the
/// stack holds, a memo entry read before it was stored, containers nested more than 100 deep, or a
/// container grown after it was placed inside another (no pickler does that; it would hide nesting)
/// — or nothing when the framing holds. Says nothing else about what the opcodes mean.
std::optional<std::string> pickle_framing_fault(const char* data, std::size_t size);

}  // namespace vae_cnn
