// The HTTP side of `vae_cnn serve`: the page's files and the JSON API on one port.
#pragma once

#include <functional>
#include <string>

#include "vae_cnn/serve/bounded_http_server.hpp"
#include "vae_cnn/serve/latent_api.hpp"

namespace vae_cnn {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  ///< 0: any free port
  ConnectionLimits limits;
};

/// The page's address for a browser: "http://127.0.0.1:8080/"; an IPv6 host goes in brackets,
/// "http://[::1]:8080/" (RFC 3986), its zone's '%' written "%25".
std::string page_url(const std::string& host, int port);

/// Binds, calls `on_listening(port)` once, and serves until `should_stop()` (asked every 100 ms)
/// returns true; returns after the port is closed. Throws ResourceError naming host and port when
/// it cannot bind (in use, no such address).
void serve_explorer(const LatentApi& api, const ServeOptions& options, const std::function<void(int port)>& on_listening,
                    const std::function<bool()>& should_stop);

}  // namespace vae_cnn
