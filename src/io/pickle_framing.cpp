// By hand because no Debian package checks a pickle from C++, and LibTorch 1.13's unpickler
// allocates (and clears) the length a string opcode announces before it reads a byte of it: a
// damaged 540 KB weights file announcing 4 GiB took 4.3 GB of memory and 12 s before failing
// (found by fuzz/weights_loader_fuzz.cpp). Lengths are checked here against the bytes present.
#include "vae_cnn/io/pickle_framing.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace vae_cnn {
namespace {

enum class Argument {
  kNone,
  kBytes1,       // fixed: 1 byte
  kBytes2,
  kBytes4,
  kBytes8,
  kLine,         // text up to a newline
  kTwoLines,
  kLength1,      // uint8 n, then n bytes
  kLength4,      // uint32 n (little-endian), then n bytes
  kLength8,      // uint64 n, then n bytes
  kUnknown,
};

Argument argument_of(unsigned char opcode) {
  switch (opcode) {
    // No argument.
    case '(': case '.': case '0': case '1': case '2': case 'N': case 0x88: case 0x89: case ']': case 'a':
    case 'e': case 'l': case ')': case 't': case 0x85: case 0x86: case 0x87: case '}': case 'd': case 's':
    case 'u': case 0x8f: case 0x90: case 0x91: case 'R': case 'b': case 0x81: case 0x92: case 'o': case 'Q':
    case 0x93: case 0x94: case 0x97: case 0x98:
      return Argument::kNone;
    case 'K': case 'q': case 'h': case 0x80: case 0x82:  // BININT1 BINPUT BINGET PROTO EXT1
      return Argument::kBytes1;
    case 'M': case 0x83:  // BININT2 EXT2
      return Argument::kBytes2;
    case 'J': case 'r': case 'j': case 0x84:  // BININT LONG_BINPUT LONG_BINGET EXT4
      return Argument::kBytes4;
    case 'G': case 0x95:  // BINFLOAT FRAME
      return Argument::kBytes8;
    case 'I': case 'L': case 'F': case 'S': case 'V': case 'p': case 'g': case 'P':
      return Argument::kLine;
    case 'c': case 'i':  // GLOBAL INST: module and name
      return Argument::kTwoLines;
    case 0x8a: case 'U': case 'C': case 0x8c:  // LONG1 SHORT_BINSTRING SHORT_BINBYTES SHORT_BINUNICODE
      return Argument::kLength1;
    case 0x8b: case 'T': case 'B': case 'X':  // LONG4 BINSTRING BINBYTES BINUNICODE
      return Argument::kLength4;
    case 0x8e: case 0x8d: case 0x96:  // BINBYTES8 BINUNICODE8 BYTEARRAY8
      return Argument::kLength8;
    default:
      return Argument::kUnknown;
  }
}

std::uint64_t little_endian(const unsigned char* bytes, int count) {
  std::uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

}  // namespace

std::optional<std::string> pickle_framing_fault(const char* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  std::size_t at = 0;
  while (at < size) {
    const std::size_t opcode_at = at;
    const unsigned char opcode = bytes[at++];
    const std::size_t left = size - at;
    const auto where = [&] { return " at byte " + std::to_string(opcode_at); };
    switch (argument_of(opcode)) {
      case Argument::kNone:
        if (opcode == '.') return at == size ? std::nullopt : std::optional<std::string>("bytes after STOP" + where());
        break;
      case Argument::kBytes1: case Argument::kBytes2: case Argument::kBytes4: case Argument::kBytes8: {
        const std::size_t width = argument_of(opcode) == Argument::kBytes1   ? 1
                                  : argument_of(opcode) == Argument::kBytes2 ? 2
                                  : argument_of(opcode) == Argument::kBytes4 ? 4
                                                                             : 8;
        if (width > left) return "argument runs past the end" + where();
        at += width;
        break;
      }
      case Argument::kLine: case Argument::kTwoLines: {
        for (int line = argument_of(opcode) == Argument::kLine ? 1 : 2; line > 0; --line) {
          const void* newline = std::memchr(bytes + at, '\n', size - at);
          if (newline == nullptr) return "unterminated text argument" + where();
          at = static_cast<std::size_t>(static_cast<const unsigned char*>(newline) - bytes) + 1;
        }
        break;
      }
      case Argument::kLength1: case Argument::kLength4: case Argument::kLength8: {
        const int width = argument_of(opcode) == Argument::kLength1 ? 1 : argument_of(opcode) == Argument::kLength4 ? 4 : 8;
        if (static_cast<std::size_t>(width) > left) return "length runs past the end" + where();
        const std::uint64_t length = little_endian(bytes + at, width);
        at += static_cast<std::size_t>(width);
        if (length > size - at) {
          return "announces " + std::to_string(length) + " bytes but " + std::to_string(size - at) + " remain" + where();
        }
        at += static_cast<std::size_t>(length);
        break;
      }
      case Argument::kUnknown: {
        char text[8];
        std::snprintf(text, sizeof text, "0x%02x", opcode);
        return std::string("unknown opcode ") + text + where();
      }
    }
  }
  return "no STOP opcode before the end";
}

}  // namespace vae_cnn
