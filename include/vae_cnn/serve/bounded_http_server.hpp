// cpp-httplib's server with what its fixed pool of 8 workers lacks: a thread per connection up to
// a bound, and clients that must send each request within a time and a size, so that slow or idle
// clients cannot hold every worker (docs/api.md, "Bounds").
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>

namespace vae_cnn {

struct ConnectionLimits {
  int max_connections = 128;                 ///< open at once; one more is answered 503 and closed
  std::chrono::milliseconds idle{5000};      ///< wait for the next request on an open connection
  std::chrono::milliseconds request{10000};  ///< a request's head and body must arrive within this
  std::size_t request_bytes = 256 * 1024;    ///< head and body together, at most
  std::chrono::milliseconds write{5000};     ///< each wait for the client to take more of a reply
  int requests_per_connection = 100;
};

/// Routes and handlers as httplib::Server's; connections are served as ConnectionLimits says. A
/// request that carries a body ends its connection after the reply, since a body no route read
/// would otherwise be taken for the next request.
class BoundedHttpServer : public httplib::Server {
 public:
  explicit BoundedHttpServer(const ConnectionLimits& limits);

  /// After bind_to_port: lets as many connections wait to be accepted as the bound allows.
  /// httplib listens with a backlog of 5, so a burst of connections waited for SYN retries (1 s,
  /// 3 s, ...) before the server ever saw them.
  void widen_backlog();

 private:
  // httplib's keep-alive loop, with a stream of our own (bounded_http_server.cpp).
  bool process_and_close_socket(socket_t sock) override;

  ConnectionLimits limits_;
  std::atomic<int> open_connections_{0};
};

}  // namespace vae_cnn
