// libzip rather than LibTorch's own miniz, which PyTorch builds with its CRC checks turned off
// (MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS) and whose handle PyTorchStreamReader keeps private.
#include "vae_cnn/serialize/zip_records.hpp"

#include <zip.h>

#include <memory>
#include <vector>

namespace vae_cnn {
namespace {

struct ArchiveCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct FileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

std::string error_text(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

// Reading a record to its end is what makes libzip compare its CRC-32 with the directory's.
std::optional<std::string> record_fault(zip_t* archive, zip_uint64_t index) {
  zip_stat_t stat;
  zip_stat_init(&stat);
  if (zip_stat_index(archive, index, 0, &stat) != 0) {
    return "record " + std::to_string(index) + ": " + std::string(zip_strerror(archive));
  }
  const std::string name = (stat.valid & ZIP_STAT_NAME) != 0 ? stat.name : "#" + std::to_string(index);
  std::unique_ptr<zip_file_t, FileCloser> file(zip_fopen_index(archive, index, 0));
  if (!file) return "record '" + name + "': " + std::string(zip_strerror(archive));
  std::vector<char> buffer(1 << 16);
  zip_uint64_t total = 0;
  for (;;) {
    const zip_int64_t got = zip_fread(file.get(), buffer.data(), buffer.size());
    if (got < 0) return "record '" + name + "': " + std::string(zip_file_strerror(file.get()));
    if (got == 0) break;
    total += static_cast<zip_uint64_t>(got);
  }
  if ((stat.valid & ZIP_STAT_SIZE) != 0 && total != stat.size) {
    return "record '" + name + "' holds " + std::to_string(total) + " bytes, its directory says " +
           std::to_string(stat.size);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> zip_records_fault(const char* data, std::size_t size) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(data, size, 0, &error);
  if (source == nullptr) {
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return "no zip archive (" + text + ")";
  }
  std::unique_ptr<zip_t, ArchiveCloser> archive(zip_open_from_source(source, ZIP_RDONLY | ZIP_CHECKCONS, &error));
  if (!archive) {
    const int code = zip_error_code_zip(&error);
    zip_error_fini(&error);
    zip_source_free(source);
    return "no readable zip directory (" + error_text(code) + ")";
  }
  zip_error_fini(&error);
  const zip_int64_t records = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t index = 0; index < records; ++index) {
    if (auto fault = record_fault(archive.get(), static_cast<zip_uint64_t>(index))) return fault;
  }
  return std::nullopt;
}

}  // namespace vae_cnn
