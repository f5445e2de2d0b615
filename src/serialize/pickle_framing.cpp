// By hand because no Debian package checks a pickle from C++, and LibTorch 1.13's unpickler
// allocates (and clears) the length a string opcode announces before it reads a byte of it: a
// damaged 540 KB weights file announcing 4 GiB took 4.3 GB of memory and 12 s before failing
// (found by fuzz/weights_loader_fuzz.cpp). Lengths are checked here against the bytes present.
#include "vae_cnn/serialize/pickle_framing.hpp"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace vae_cnn {
namespace {

// How an opcode's argument is laid out: `width` bytes of fixed data, a `width`-byte little-endian
// length followed by that many bytes, or `width` newline-terminated lines.
struct Argument {
  enum Kind { kFixed, kLengthPrefixed, kLines, kUnknown } kind;
  int width;
};

Argument argument_of(unsigned char opcode) {
  switch (opcode) {
    // No argument.
    case '(': case '.': case '0': case '1': case '2': case 'N': case 0x88: case 0x89: case ']': case 'a':
    case 'e': case 'l': case ')': case 't': case 0x85: case 0x86: case 0x87: case '}': case 'd': case 's':
    case 'u': case 0x8f: case 0x90: case 0x91: case 'R': case 'b': case 0x81: case 0x92: case 'o': case 'Q':
    case 0x93: case 0x94: case 0x97: case 0x98:
      return {Argument::kFixed, 0};
    case 'K': case 'q': case 'h': case 0x80: case 0x82:  // BININT1 BINPUT BINGET PROTO EXT1
      return {Argument::kFixed, 1};
    case 'M': case 0x83:  // BININT2 EXT2
      return {Argument::kFixed, 2};
    case 'J': case 'r': case 'j': case 0x84:  // BININT LONG_BINPUT LONG_BINGET EXT4
      return {Argument::kFixed, 4};
    case 'G': case 0x95:  // BINFLOAT FRAME
      return {Argument::kFixed, 8};
    case 'I': case 'L': case 'F': case 'S': case 'V': case 'p': case 'g': case 'P':
      return {Argument::kLines, 1};
    case 'c': case 'i':  // GLOBAL INST: module and name
      return {Argument::kLines, 2};
    case 0x8a: case 'U': case 'C': case 0x8c:  // LONG1 SHORT_BINSTRING SHORT_BINBYTES SHORT_BINUNICODE
      return {Argument::kLengthPrefixed, 1};
    case 0x8b: case 'T': case 'B': case 'X':  // LONG4 BINSTRING BINBYTES BINUNICODE
      return {Argument::kLengthPrefixed, 4};
    case 0x8e: case 0x8d: case 0x96:  // BINBYTES8 BINUNICODE8 BYTEARRAY8
      return {Argument::kLengthPrefixed, 8};
    default:
      return {Argument::kUnknown, 0};
  }
}

// What an opcode does to the unpickler's stack: items taken (`pops`, or everything down to the
// last mark), then `pushes` items; `needs` items that must already be there (the list of APPENDS,
// the value BINPUT stores). LibTorch's unpickler takes items with stack_.back() and the like
// unchecked, so a pickle that takes more than is there crashed it (found by
// fuzz/weights_structure_fuzz.cpp); here such a pickle is refused first.
struct StackEffect {
  int pops = 0;
  int pushes = 0;
  bool to_mark = false;
  int needs = 0;
};

StackEffect stack_effect_of(unsigned char opcode) {
  switch (opcode) {
    case '(': case 0x80: case 0x95:  // MARK (handled apart), PROTO, FRAME
      return {};
    case '.': case '0':  // STOP, POP
      return {1, 0};
    case '1':  // POP_MARK
      return {0, 0, true};
    case '2':  // DUP
      return {1, 2};
    case 'a': case 'R': case 'b': case 0x81: case 0x86: case 0x93:  // APPEND REDUCE BUILD NEWOBJ TUPLE2 STACK_GLOBAL
      return {2, 1};
    case 's': case 0x92: case 0x87:  // SETITEM NEWOBJ_EX TUPLE3
      return {3, 1};
    case 0x85: case 'Q': case 0x98:  // TUPLE1 BINPERSID READONLY_BUFFER
      return {1, 1};
    case 'e': case 'u': case 0x90:  // APPENDS SETITEMS ADDITEMS: into the item below the mark
      return {0, 0, true, 1};
    case 'l': case 't': case 'd': case 0x91: case 'o': case 'i':  // LIST TUPLE DICT FROZENSET OBJ INST
      return {0, 1, true};
    case 'q': case 'r': case 'p': case 0x94:  // BINPUT LONG_BINPUT PUT MEMOIZE: store the top
      return {0, 0, false, 1};
    default:  // every other known opcode pushes one value (numbers, strings, GLOBAL, GET, ...)
      return {0, 1};
  }
}

// The stack's depth and its marks, as far as counting goes.
class StackCount {
 public:
  // Applies `opcode`; a description of the fault when it takes more than is there.
  std::optional<std::string> apply(unsigned char opcode) {
    if (opcode == '(') {
      marks_.push_back(depth_);
      return std::nullopt;
    }
    const StackEffect effect = stack_effect_of(opcode);
    const std::size_t floor = marks_.empty() ? 0 : marks_.back();
    if (effect.to_mark) {
      if (marks_.empty()) return std::string("takes items down to a mark, and there is none");
      depth_ = marks_.back();
      marks_.pop_back();
    } else if (depth_ < floor + static_cast<std::size_t>(effect.pops)) {
      return "takes " + std::to_string(effect.pops) + " items, and " + std::to_string(depth_ - floor) + " are there";
    } else {
      depth_ -= static_cast<std::size_t>(effect.pops);
    }
    if (depth_ < static_cast<std::size_t>(effect.needs)) return std::string("works on an item, and the stack is empty");
    depth_ += static_cast<std::size_t>(effect.pushes);
    return std::nullopt;
  }

 private:
  std::size_t depth_ = 0;
  std::vector<std::size_t> marks_;
};

std::string opcode_name(unsigned char opcode) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", opcode);
  return text;
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
  StackCount stack;
  while (at < size) {
    const std::size_t opcode_at = at;
    const unsigned char opcode = bytes[at++];
    const std::size_t left = size - at;
    const auto where = [&] { return " at byte " + std::to_string(opcode_at); };
    const Argument argument = argument_of(opcode);
    if (argument.kind != Argument::kUnknown) {
      if (const auto fault = stack.apply(opcode)) return "opcode " + opcode_name(opcode) + " " + *fault + where();
    }
    const auto width = static_cast<std::size_t>(argument.width);
    switch (argument.kind) {
      case Argument::kFixed:
        if (opcode == '.') return at == size ? std::nullopt : std::optional<std::string>("bytes after STOP" + where());
        if (width > left) return "argument runs past the end" + where();
        // LibTorch's unpickler grows its memo table to the index a LONG_BINPUT names (16 bytes an
        // entry) before storing: an index of 4 billion asked for 64 GB (found by
        // fuzz/weights_structure_fuzz.cpp). Picklers number memo entries 0, 1, 2, ..., one per
        // opcode at most, so no valid index reaches the pickle's size.
        if (opcode == 'r' && little_endian(bytes + at, 4) >= size) {
          return "memo index " + std::to_string(little_endian(bytes + at, 4)) + " beyond any a " + std::to_string(size) +
                 "-byte pickle stores" + where();
        }
        at += width;
        break;
      case Argument::kLines:
        for (int line = argument.width; line > 0; --line) {
          const void* newline = std::memchr(bytes + at, '\n', size - at);
          if (newline == nullptr) return "unterminated text argument" + where();
          at = static_cast<std::size_t>(static_cast<const unsigned char*>(newline) - bytes) + 1;
        }
        break;
      case Argument::kLengthPrefixed: {
        if (width > left) return "length runs past the end" + where();
        const std::uint64_t length = little_endian(bytes + at, argument.width);
        at += width;
        if (length > size - at) {
          return "announces " + std::to_string(length) + " bytes but " + std::to_string(size - at) + " remain" + where();
        }
        at += static_cast<std::size_t>(length);
        break;
      }
      case Argument::kUnknown:
        return "unknown opcode " + opcode_name(opcode) + where();
    }
  }
  return "no STOP opcode before the end";
}

}  // namespace vae_cnn
