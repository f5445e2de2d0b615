// Zip archives taken apart and put back together in memory, with every CRC-32 and size right: how
// the structure-aware fuzzer and the tests that damage files on purpose reach the checks behind
// the container (pickle, tensor records, contents) instead of stopping at a bad CRC.
#pragma once

#include <zip.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vae_cnn::fuzzing {

struct ZipRecord {
  std::string name;
  std::string bytes;
};

namespace detail {

struct Discard {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};

}  // namespace detail

/// The records of a zip archive in order; nothing when libzip cannot read it.
inline std::optional<std::vector<ZipRecord>> read_zip_records(const std::string& archive) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(archive.data(), archive.size(), 0, &error);
  zip_error_fini(&error);
  if (source == nullptr) return std::nullopt;
  std::unique_ptr<zip_t, detail::Discard> zip(zip_open_from_source(source, ZIP_RDONLY, nullptr));
  if (!zip) {
    zip_source_free(source);
    return std::nullopt;
  }
  std::vector<ZipRecord> records;
  const zip_int64_t count = zip_get_num_entries(zip.get(), 0);
  for (zip_int64_t index = 0; index < count; ++index) {
    zip_stat_t stat;
    if (zip_stat_index(zip.get(), static_cast<zip_uint64_t>(index), 0, &stat) != 0) return std::nullopt;
    zip_file_t* file = zip_fopen_index(zip.get(), static_cast<zip_uint64_t>(index), 0);
    if (file == nullptr) return std::nullopt;
    ZipRecord record{stat.name, std::string(stat.size, '\0')};
    const zip_int64_t got = zip_fread(file, record.bytes.data(), stat.size);
    zip_fclose(file);
    if (got < 0 || static_cast<zip_uint64_t>(got) != stat.size) return std::nullopt;
    records.push_back(std::move(record));
  }
  return records;
}

/// The largest record holding a tensor's data (".../data/<key>"), or records.end() when there is none:
/// the one the tests damage (the encoder's dense layer in a weights file).
inline std::vector<ZipRecord>::iterator largest_tensor_record(std::vector<ZipRecord>& records) {
  auto largest = records.end();
  for (auto it = records.begin(); it != records.end(); ++it) {
    if (it->name.find("/data/") == std::string::npos) continue;
    if (largest == records.end() || it->bytes.size() > largest->bytes.size()) largest = it;
  }
  return largest;
}

/// The record holding the archive's pickle (".../data.pkl"), or records.end() when there is none.
inline std::vector<ZipRecord>::iterator pickle_record(std::vector<ZipRecord>& records) {
  const std::string suffix = "/data.pkl";
  for (auto it = records.begin(); it != records.end(); ++it) {
    if (it->name.size() >= suffix.size() && it->name.compare(it->name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return it;
    }
  }
  return records.end();
}

/// A zip archive of `records`, stored uncompressed as LibTorch writes them, with a correct directory.
inline std::string write_zip_records(const std::vector<ZipRecord>& records) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* target = zip_source_buffer_create(nullptr, 0, 0, &error);
  zip_error_fini(&error);
  if (target == nullptr) return {};
  zip_source_keep(target);
  zip_t* zip = zip_open_from_source(target, ZIP_TRUNCATE, nullptr);
  if (zip == nullptr) {
    zip_source_free(target);
    zip_source_free(target);
    return {};
  }
  for (const ZipRecord& record : records) {
    zip_source_t* data = zip_source_buffer(zip, record.bytes.data(), record.bytes.size(), 0);
    const zip_int64_t index = data == nullptr ? -1 : zip_file_add(zip, record.name.c_str(), data, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
      if (data != nullptr) zip_source_free(data);
      continue;  // a name libzip refuses (empty, or a duplicate): the record is left out
    }
    zip_set_file_compression(zip, static_cast<zip_uint64_t>(index), ZIP_CM_STORE, 0);
    zip_file_set_mtime(zip, static_cast<zip_uint64_t>(index), 0, 0);
  }
  std::string bytes;
  if (zip_close(zip) != 0) {
    zip_discard(zip);
  } else if (zip_source_open(target) == 0) {
    zip_stat_t stat;
    if (zip_source_stat(target, &stat) == 0 && (stat.valid & ZIP_STAT_SIZE) != 0) {
      bytes.resize(stat.size);
      const zip_int64_t got = zip_source_read(target, bytes.data(), stat.size);
      bytes.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
    }
    zip_source_close(target);
  }
  zip_source_free(target);
  return bytes;
}

}  // namespace vae_cnn::fuzzing
