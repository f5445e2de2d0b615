// cpp-httplib (Debian's libcpp-httplib-dev): a maintained, packaged HTTP/1.1 parser small enough
// to link into a command-line tool; we write no HTTP parsing of our own. Its connections are
// bounded by BoundedHttpServer, its requests answered by answer_request (api_router.hpp).
#include "vae_cnn/serve/explorer_server.hpp"

#include <httplib.h>
#include <ATen/Parallel.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <optional>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/serve/api_router.hpp"
#include "vae_cnn/serve/bounded_http_server.hpp"

namespace vae_cnn {
namespace {

void send(httplib::Response& response, const ApiReply& reply) {
  response.status = reply.status;
  response.set_header("Cache-Control", "no-store");
  response.set_content(reply.body, reply.content_type.c_str());
}

// Requests run side by side on the server's threads, each a batch of one: one intra-op thread
// each, or every thread's OpenMP team of all cores would fight over them.
void use_one_intra_op_thread() {
  thread_local const bool set = [] {
    at::set_num_threads(1);
    return true;
  }();
  (void)set;
}

ApiRequest api_request(const httplib::Request& request, std::string body) {
  const std::size_t question = request.target.find('?');
  return {request.method, request.target.substr(0, question),
          question == std::string::npos ? std::string() : request.target.substr(question + 1), std::move(body)};
}

// A body refused from its headers alone, before a byte of it is read: the page sends its JSON
// with a Content-Length, plain, and no larger than /api/encode takes.
std::optional<ApiReply> refused_body(const httplib::Request& request, std::size_t most) {
  if (request.get_header_value_count("Content-Length") > 1) return api_error(400, "Content-Length given more than once");
  const std::string length = request.get_header_value("Content-Length");
  if (!length.empty()) {
    if (length.size() > 18 || length.find_first_not_of("0123456789") != std::string::npos) {
      return api_error(400, "Content-Length: '" + length + "' is not a number of bytes");
    }
    if (std::stoull(length) > most) {
      return api_error(413, "request body of " + length + " bytes; at most " + std::to_string(most));
    }
  }
  const std::string encoding = request.get_header_value("Content-Encoding");
  if (!encoding.empty() && encoding != "identity") return api_error(415, "Content-Encoding '" + encoding + "' is not taken");
  return std::nullopt;
}

// Every request goes to answer_request; only POST /api/encode's body is read first (by httplib,
// through its route), every other request is answered before routing, body unread.
void add_routes(httplib::Server& server, const LatentApi& api) {
  server.set_expect_100_continue_handler([&api](const httplib::Request& request, httplib::Response& response) {
    const auto refusal = refused_body(request, api.max_encode_body());
    if (!refusal) return 100;
    send(response, *refusal);
    return refusal->status;
  });
  server.set_pre_routing_handler([&api](const httplib::Request& request, httplib::Response& response) {
    use_one_intra_op_thread();
    if (const auto refusal = refused_body(request, api.max_encode_body())) {
      send(response, *refusal);
    } else if (request.method == "POST" && request.path == "/api/encode") {
      return httplib::Server::HandlerResponse::Unhandled;
    } else {
      send(response, answer_request(api, api_request(request, "")));
    }
    return httplib::Server::HandlerResponse::Handled;
  });
  server.Post("/api/encode", [&api](const httplib::Request& request, httplib::Response& response) {
    send(response, answer_request(api, api_request(request, request.body)));
  });
}

// Every answer that is not a route's own is JSON too: unknown paths, bodies over the limit, and
// anything a handler let through.
void add_error_replies(httplib::Server& server) {
  server.set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!response.body.empty()) return;
    const std::string message = response.status == 404   ? "no such path: " + request.path
                                : response.status == 413 ? "request body too large"
                                                         : "bad request";
    const ApiReply reply = api_error(response.status, message);
    response.set_content(reply.body, reply.content_type.c_str());
  });
  server.set_exception_handler([](const httplib::Request&, httplib::Response& response, std::exception_ptr error) {
    std::string message = "internal error";
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& caught) {
      message += std::string(": ") + caught.what();
    } catch (...) {
    }
    send(response, api_error(500, message.substr(0, message.find('\n'))));
  });
}

}  // namespace

std::string page_url(const std::string& host, int port) {
  std::string shown = host;
  if (host.find(':') != std::string::npos) {
    shown.clear();
    for (const char c : host) shown += c == '%' ? std::string("%25") : std::string(1, c);
    shown = "[" + shown + "]";
  }
  return "http://" + shown + ":" + std::to_string(port) + "/";
}

void serve_explorer(const LatentApi& api, const ServeOptions& options, const std::function<void(int port)>& on_listening,
                    const std::function<bool()>& should_stop) {
  // A model of large images takes an encode body above the default bound of a whole request (3x256x256
  // levels: about 800 KB): the bound grows to hold the largest body /api/encode accepts and a head.
  constexpr std::size_t kHeadRoom = 64 * 1024;
  ConnectionLimits limits = options.limits;
  limits.request_bytes = std::max(limits.request_bytes, api.max_encode_body() + kHeadRoom);
  BoundedHttpServer server(limits);
  // httplib's default also sets SO_REUSEPORT, which would let a second server share a port in use.
  server.set_socket_options([](socket_t socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_payload_max_length(api.max_encode_body());
  // httplib writes a reply's headers and body separately: with Nagle's algorithm the body waited
  // for the client's delayed ACK, 40 ms a request.
  server.set_tcp_nodelay(true);
  add_routes(server, api);
  add_error_replies(server);

  errno = 0;
  const std::string where = options.host + ":" + std::to_string(options.port);
  int port = options.port;
  if (options.port == 0) {
    port = server.bind_to_any_port(options.host);
  } else if (!server.bind_to_port(options.host, options.port)) {
    port = -1;
  }
  if (port <= 0) {
    const std::string cause = errno != 0 ? std::strerror(errno) : "not an address of this machine";
    throw ResourceError("cannot serve on " + where + ": " + cause);
  }
  server.widen_backlog();
  on_listening(port);
  std::atomic<bool> finished{false};
  std::thread watcher([&] {
    while (!finished && !should_stop()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    server.stop();
  });
  server.listen_after_bind();
  finished = true;
  watcher.join();
}

}  // namespace vae_cnn
