// One HTTP request to one reply, without sockets: the server (explorer_server.cpp) and the fuzz
// target (fuzz/serve_api_fuzz.cpp) call the same function, so every byte a client can send meets
// the code the fuzzer has run.
#pragma once

#include <string>

#include "vae_cnn/serve/latent_api.hpp"

namespace vae_cnn {

struct ApiRequest {
  std::string method;     ///< "GET", "POST", ...
  std::string raw_path;   ///< as sent, still percent-encoded, without the query
  std::string raw_query;  ///< what followed '?', still percent-encoded; empty when none
  std::string body;
};

/// The page's files and the JSON API (latent_api.hpp). Never throws: a client's fault is a 4xx,
/// ours a 500, each with a one-line JSON error; any bytes may come in.
ApiReply answer_request(const LatentApi& api, const ApiRequest& request) noexcept;

}  // namespace vae_cnn
