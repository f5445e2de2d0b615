// The files of the explorer page (web/), built into the binary (cmake/embed_page_files.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace vae_cnn {

struct PageFile {
  std::string_view path;          ///< as requested, e.g. "/index.html"
  std::string_view content_type;
  std::string_view bytes;
};

const std::vector<PageFile>& page_files();

}  // namespace vae_cnn
