// The weights and checkpoint loaders on files that stay valid zips: a custom mutator takes the
// archive apart, damages one record — the pickle, a tensor's bytes or length, the small records
// beside them, or which records there are — and puts it back together with the CRCs right, so that
// what is tested is every check behind the container (pickle framing, tensor records against what
// the pickle declares, contents) rather than the CRC check that stops raw byte mutations.
#include <random>

#include "exercise_loaders.hpp"
#include "zip_rewrite.hpp"

extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

namespace {

using vae_cnn::fuzzing::ZipRecord;

// libFuzzer's own byte-level mutations, applied to one record with room to grow by a quarter.
void mutate_bytes(std::string& bytes) {
  const std::size_t size = bytes.size();
  if (size == 0) {
    bytes.assign(8, '\0');
    return;
  }
  const std::size_t room = size + size / 4 + 16;
  bytes.resize(room);
  bytes.resize(LLVMFuzzerMutate(reinterpret_cast<std::uint8_t*>(bytes.data()), size, room));
}

void mutate_records(std::vector<ZipRecord>& records, std::minstd_rand& random) {
  if (records.empty()) return;
  const auto pick = [&](std::size_t count) { return static_cast<std::size_t>(random() % count); };
  ZipRecord& record = records[pick(records.size())];
  switch (pick(6)) {
    case 0: {  // the pickle: where storages, offsets, sizes, strides and metadata are declared
      for (ZipRecord& candidate : records) {
        if (candidate.name.size() >= 8 && candidate.name.compare(candidate.name.size() - 8, 8, "data.pkl") == 0) {
          mutate_bytes(candidate.bytes);
          return;
        }
      }
      mutate_bytes(record.bytes);
      return;
    }
    case 1:  // a record cut short, or emptied
      record.bytes.resize(record.bytes.empty() ? 0 : pick(record.bytes.size()));
      return;
    case 2:  // a record grown
      record.bytes.resize(record.bytes.size() + 1 + pick(64), '\0');
      return;
    case 3:  // a tensor's values: NaN, infinity, huge, or bytes from elsewhere
      mutate_bytes(record.bytes);
      return;
    case 4:  // a record gone
      records.erase(records.begin() + static_cast<std::ptrdiff_t>(pick(records.size())));
      return;
    default: {  // two records' contents swapped
      ZipRecord& other = records[pick(records.size())];
      std::swap(record.bytes, other.bytes);
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  return 0;
}

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
  auto records = vae_cnn::fuzzing::read_zip_records(std::string(reinterpret_cast<const char*>(data), size));
  if (!records || records->empty()) return LLVMFuzzerMutate(data, size, max_size);
  std::minstd_rand random(seed);
  mutate_records(*records, random);
  const std::string archive = vae_cnn::fuzzing::write_zip_records(*records);
  if (archive.empty() || archive.size() > max_size) return size;
  std::copy(archive.begin(), archive.end(), data);
  return archive.size();
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  vae_cnn::fuzzing::exercise_loaders(data, size);
  return 0;
}
