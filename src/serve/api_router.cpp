// Routing by exact paths, with httplib's own percent-decoding (the server's library, so the fuzz
// target decodes as the server does); no regular expressions, whose matching recurses per byte.
#include "vae_cnn/serve/api_router.hpp"

#include <httplib.h>

#include <exception>
#include <new>

#include "vae_cnn/serve/page_files.hpp"

namespace vae_cnn {
namespace {

constexpr const char* kTestImagePrefix = "/api/test/";

// The value of query parameter `name`, or "" when absent; a name given twice is refused, since
// which of them the client meant is a guess.
bool query_value(const httplib::Params& params, const std::string& name, std::string& value, ApiReply& error) {
  const auto [first, last] = params.equal_range(name);
  value = first == last ? std::string() : first->second;
  if (first != last && std::next(first) != last) {
    error = api_error(400, "query parameter '" + name + "' given more than once");
    return false;
  }
  return true;
}

const PageFile* page_file(const std::string& path) {
  for (const PageFile& file : page_files()) {
    if (file.path == path || (path == "/" && file.path == "/index.html")) return &file;
  }
  return nullptr;
}

bool is_api_path(const std::string& path) {
  return path == "/api/info" || path == "/api/latents" || path == "/api/decode" || path == "/api/line" ||
         path == "/api/encode" || path.rfind(kTestImagePrefix, 0) == 0;
}

ApiReply answer_get(const LatentApi& api, const std::string& path, const httplib::Params& params) {
  if (const PageFile* file = page_file(path)) return {200, std::string(file->content_type), std::string(file->bytes)};
  if (path == "/api/info") return api.info();
  if (path == "/api/latents") return api.latents();
  if (path.rfind(kTestImagePrefix, 0) == 0) return api.test_image(path.substr(std::string(kTestImagePrefix).size()));
  ApiReply error;
  if (path == "/api/decode") {
    std::string z, format;
    if (!query_value(params, "z", z, error) || !query_value(params, "format", format, error)) return error;
    return api.decode(z, format);
  }
  std::string from, to, steps;
  if (!query_value(params, "from", from, error) || !query_value(params, "to", to, error) ||
      !query_value(params, "steps", steps, error)) {
    return error;
  }
  return api.line(from, to, steps);
}

ApiReply route(const LatentApi& api, const ApiRequest& request) {
  const std::string path = httplib::detail::decode_url(request.raw_path, false);
  const bool get = request.method == "GET" || request.method == "HEAD";
  if (path == "/api/encode") {
    return request.method == "POST" ? api.encode(request.body) : api_error(405, "/api/encode takes POST, not " + request.method);
  }
  if (page_file(path) == nullptr && !is_api_path(path)) return api_error(404, "no such path: " + path);
  if (!get) return api_error(405, path + " takes GET, not " + request.method);
  httplib::Params params;
  httplib::detail::parse_query_text(request.raw_query, params);
  return answer_get(api, path, params);
}

}  // namespace

ApiReply answer_request(const LatentApi& api, const ApiRequest& request) noexcept {
  try {
    return route(api, request);
  } catch (const std::bad_alloc&) {
    return api_error(503, "out of memory for this request");
  } catch (const std::exception& fault) {
    const std::string what = fault.what();
    return api_error(500, "internal error: " + what.substr(0, what.find('\n')));
  } catch (...) {
    return api_error(500, "internal error");
  }
}

}  // namespace vae_cnn
