// By hand because no Debian package checks a pickle from C++, and LibTorch 1.13's unpickler
// allocates (and clears) the length a string opcode announces before it reads a byte of it: a
// damaged 540 KB weights file announcing 4 GiB takes 4.3 GB of memory and 12 s before failing
// (found by fuzz/weights_loader_fuzz.cpp). Lengths are checked here against the bytes present.
#include "vae_cnn/serialize/pickle_framing.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <unordered_map>
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

std::uint64_t little_endian(const unsigned char* bytes, int count) {
  std::uint64_t value = 0;
  for (int i = count - 1; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

// What an opcode does to the unpickler's stack: items taken (`pops`, or everything down to the
// last mark), then `pushes` items; `needs` items that must already be there (the list of APPENDS,
// the value BINPUT stores). LibTorch's unpickler takes items with stack_.back() and the like
// unchecked, so a pickle that takes more than is there crashes it (found by
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

// Containers nested deeper than this are refused. LibTorch's unpickler builds iteratively, but what
// it built is taken apart (and walked by our checks) recursively, one call per level: a tuple nested
// 15,000 deep in an extra field of a weights file overflowed the stack (SIGSEGV in every command
// that reads weights). Our files nest 5 deep, Python's torch.save of a state_dict 6.
constexpr std::size_t kMaxNesting = 100;

// The values on the unpickler's stack, as far as counting and nesting go: each stack item is the
// index of a value, which the memo (PUT/GET) and DUP can hand out again.
//
// A container's depth is counted when it is made and when it grows (APPEND, SETITEM, SETITEMS).
// Through the memo, one already placed inside another could be grown later, each step looking
// shallow, or be placed inside itself; neither Python's pickler nor LibTorch's ever grows a
// container once it was placed (each is filled first), so such a pickle is refused, and every
// depth counted stays true.
class StackModel {
 public:
  // Applies `opcode` with its argument; a description of the fault when it takes more than is
  // there, nests too deep, or reaches a value it may not.
  std::optional<std::string> apply(unsigned char opcode, const unsigned char* argument, std::size_t argument_size) {
    if (opcode == '(') {
      marks_.push_back(stack_.size());
      return std::nullopt;
    }
    const StackEffect effect = stack_effect_of(opcode);
    const std::size_t floor = marks_.empty() ? 0 : marks_.back();
    std::vector<std::size_t> taken;  // the items taken, bottom first
    if (effect.to_mark) {
      if (marks_.empty()) return std::string("takes items down to a mark, and there is none");
      taken.assign(stack_.begin() + static_cast<std::ptrdiff_t>(marks_.back()), stack_.end());
      stack_.resize(marks_.back());
      marks_.pop_back();
    } else if (stack_.size() < floor + static_cast<std::size_t>(effect.pops)) {
      return "takes " + std::to_string(effect.pops) + " items, and " + std::to_string(stack_.size() - floor) +
             " are there";
    } else {
      taken.assign(stack_.end() - effect.pops, stack_.end());
      stack_.resize(stack_.size() - static_cast<std::size_t>(effect.pops));
    }
    if (stack_.size() < static_cast<std::size_t>(effect.needs)) {
      return std::string("works on an item, and the stack is empty");
    }
    return build(opcode, taken, argument, argument_size);
  }

 private:
  struct Value {
    std::size_t depth;  // 0 for a number, string or name; a container: 1 + its deepest item
    bool placed;        // inside a container: may no longer grow
  };

  // Pushes what `opcode` makes of the items it took.
  std::optional<std::string> build(unsigned char opcode, const std::vector<std::size_t>& taken,
                                   const unsigned char* argument, std::size_t argument_size) {
    switch (opcode) {
      case '.': case '0': case '1': case 0x80: case 0x95:  // STOP POP POP_MARK PROTO FRAME
        return std::nullopt;
      case '2': case 0x98:  // DUP READONLY_BUFFER: the same value
        stack_.insert(stack_.end(), taken.begin(), taken.end());
        if (opcode == '2') stack_.push_back(taken.back());
        return std::nullopt;
      case ']': case ')': case '}': case 0x8f:  // EMPTY_LIST EMPTY_TUPLE EMPTY_DICT EMPTY_SET
        return push_container({});
      case 'l': case 't': case 0x91: case 0x85: case 0x86: case 0x87:  // LIST TUPLE FROZENSET TUPLE1-3
        return push_container(taken);
      case 'a': case 's': {  // APPEND SETITEM: into the first item taken, which stays
        stack_.push_back(taken.front());
        return grow(taken.front(), {taken.begin() + 1, taken.end()});
      }
      case 'e': case 'u': case 0x90:  // APPENDS SETITEMS ADDITEMS: into the item below the mark
        if (opcode == 'u' && taken.size() % 2 != 0) return odd_items(taken.size());
        return grow(stack_.back(), taken);
      case 'd':
        if (taken.size() % 2 != 0) return odd_items(taken.size());
        return push_container(taken);
      // LibTorch's unpickler calls a function for REDUCE and for BUILD alike, on one argument, and
      // lets NEWOBJ drop the arguments and keep the class, whose BUILD then makes the object.
      case 'R': case 'b':
        return push_result(taken, 2);
      case 0x81:
        stack_.push_back(taken.front());
        return std::nullopt;
      case 'Q': case 'o': case 'i': case 0x92:  // BINPERSID OBJ INST NEWOBJ_EX: a call with loose arguments
        return push_result(taken, 1);
      case 0x93:  // STACK_GLOBAL: module and name make a name
        stack_.push_back(new_value(0));
        return std::nullopt;
      case 'q': case 'r': case 'p': case 0x94:  // BINPUT LONG_BINPUT PUT MEMOIZE
        return store(opcode, argument, argument_size);
      case 'h': case 'j': case 'g':  // BINGET LONG_BINGET GET
        return fetch(opcode, argument, argument_size);
      default:  // numbers, strings, None, booleans, GLOBAL, PERSID, extension codes
        stack_.push_back(new_value(0));
        return std::nullopt;
    }
  }

  std::size_t new_value(std::size_t depth) {
    values_.push_back({depth, false});
    return values_.size() - 1;
  }

  // The depth of a container holding `items`, each of which is placed in it.
  std::size_t place(const std::vector<std::size_t>& items) {
    std::size_t deepest = 0;
    for (const std::size_t item : items) {
      deepest = std::max(deepest, values_[item].depth);
      values_[item].placed = true;
    }
    return deepest + 1;
  }

  // LibTorch's unpickler reads a DICT's or SETITEMS' items two at a time, the last pair's value
  // past the stack's end when their number is odd.
  static std::optional<std::string> odd_items(std::size_t count) {
    return "takes keys and values in pairs, and " + std::to_string(count) + " items are there";
  }

  std::optional<std::string> too_deep(std::size_t depth) const {
    if (depth <= kMaxNesting) return std::nullopt;
    return "nests containers " + std::to_string(depth) + " deep, more than the " + std::to_string(kMaxNesting) +
           " any weights file or checkpoint needs";
  }

  std::optional<std::string> push_container(const std::vector<std::size_t>& items) {
    const std::size_t depth = place(items);
    if (auto fault = too_deep(depth)) return fault;
    stack_.push_back(new_value(depth));
    return std::nullopt;
  }

  std::optional<std::string> grow(std::size_t target, const std::vector<std::size_t>& items) {
    if (values_[target].placed) return std::string("adds to a container already placed inside another");
    if (std::find(items.begin(), items.end(), target) != items.end()) {
      return std::string("places a container inside itself");
    }
    const std::size_t depth = std::max(values_[target].depth, place(items));
    if (auto fault = too_deep(depth)) return fault;
    values_[target].depth = depth;
    return std::nullopt;
  }

  // What a call returns: LibTorch's functions return an element of their argument tuple
  // (restore_type_tag, build_intlist) or a new value made from its elements, so the result nests no
  // deeper than the argument, and may be a container already placed in it. `wrapping` is how deep
  // an argument sits in the items taken: inside a tuple (2: REDUCE's and BUILD's) or loose (1).
  std::optional<std::string> push_result(const std::vector<std::size_t>& taken, std::size_t wrapping) {
    std::size_t deepest = 0;
    for (const std::size_t item : taken) deepest = std::max(deepest, values_[item].depth);
    place(taken);
    const std::size_t depth = deepest + 2 - wrapping;
    if (auto fault = too_deep(depth)) return fault;
    stack_.push_back(new_value(depth));
    values_.back().placed = deepest >= wrapping;
    return std::nullopt;
  }

  // The memo index an opcode names: its fixed-width argument, or a line of decimal digits.
  static std::optional<std::uint64_t> memo_index(unsigned char opcode, const unsigned char* argument,
                                                 std::size_t argument_size, std::size_t memo_size) {
    if (opcode == 0x94) return memo_size;  // MEMOIZE: the next free index
    if (opcode != 'p' && opcode != 'g') return little_endian(argument, static_cast<int>(argument_size));
    std::uint64_t index = 0;
    const std::size_t digits = argument_size - 1;  // the line ends in a newline
    if (digits == 0 || digits > 19) return std::nullopt;
    for (std::size_t i = 0; i < digits; ++i) {
      if (argument[i] < '0' || argument[i] > '9') return std::nullopt;
      index = index * 10 + (argument[i] - '0');
    }
    return index;
  }

  std::optional<std::string> store(unsigned char opcode, const unsigned char* argument, std::size_t argument_size) {
    const auto index = memo_index(opcode, argument, argument_size, memo_.size());
    if (!index) return std::string("names a memo entry that is not a number");
    memo_[*index] = stack_.back();
    return std::nullopt;
  }

  std::optional<std::string> fetch(unsigned char opcode, const unsigned char* argument, std::size_t argument_size) {
    const auto index = memo_index(opcode, argument, argument_size, memo_.size());
    if (!index) return std::string("names a memo entry that is not a number");
    const auto found = memo_.find(*index);
    if (found == memo_.end()) return "reads memo entry " + std::to_string(*index) + ", which nothing stored";
    stack_.push_back(found->second);
    return std::nullopt;
  }

  std::vector<std::size_t> stack_;  // indices into values_
  std::vector<std::size_t> marks_;
  std::vector<Value> values_;
  std::unordered_map<std::uint64_t, std::size_t> memo_;
};

std::string opcode_name(unsigned char opcode) {
  char text[8];
  std::snprintf(text, sizeof text, "0x%02x", opcode);
  return text;
}

}  // namespace

std::optional<std::string> pickle_framing_fault(const char* data, std::size_t size) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(data);
  std::size_t at = 0;
  StackModel stack;
  while (at < size) {
    const std::size_t opcode_at = at;
    const unsigned char opcode = bytes[at++];
    const std::size_t argument_at = at;
    const std::size_t left = size - at;
    const auto where = [&] { return " at byte " + std::to_string(opcode_at); };
    const Argument argument = argument_of(opcode);
    const auto width = static_cast<std::size_t>(argument.width);
    switch (argument.kind) {
      case Argument::kFixed:
        if (width > left) return "argument runs past the end" + where();
        // LibTorch's unpickler grows its memo table to the index a LONG_BINPUT names (16 bytes an
        // entry) before storing: an index of 4 billion asks for 64 GB (found by
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
    if (const auto fault = stack.apply(opcode, bytes + argument_at, at - argument_at)) {
      return "opcode " + opcode_name(opcode) + " " + *fault + where();
    }
    if (opcode == '.') return at == size ? std::nullopt : std::optional<std::string>("bytes after STOP" + where());
  }
  return "no STOP opcode before the end";
}

}  // namespace vae_cnn
