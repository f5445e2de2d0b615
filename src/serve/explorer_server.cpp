// cpp-httplib (Debian's libcpp-httplib-dev): a maintained, packaged HTTP/1.1 server with a thread
// pool and request-size limits, small enough to link into a command-line tool; we write no HTTP
// parsing of our own.
#include "vae_cnn/serve/explorer_server.hpp"

#include <httplib.h>
#include <ATen/Parallel.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/serve/page_files.hpp"

namespace vae_cnn {
namespace {

void send(httplib::Response& response, const ApiReply& reply) {
  response.status = reply.status;
  response.set_header("Cache-Control", "no-store");
  response.set_content(reply.body, reply.content_type.c_str());
}

std::string parameter(const httplib::Request& request, const char* name) {
  return request.has_param(name) ? request.get_param_value(name) : std::string();
}

void add_page_routes(httplib::Server& server) {
  for (const PageFile& file : page_files()) {
    const std::string path(file.path);
    const auto serve_file = [file](const httplib::Request&, httplib::Response& response) {
      response.set_content(std::string(file.bytes), std::string(file.content_type).c_str());
    };
    server.Get(path, serve_file);
    if (path == "/index.html") server.Get("/", serve_file);
  }
}

// Requests run side by side on the server's worker threads, each a batch of one: one intra-op
// thread each, or every worker's OpenMP team of all cores would fight over them.
void use_one_intra_op_thread() {
  thread_local const bool set = [] {
    at::set_num_threads(1);
    return true;
  }();
  (void)set;
}

void add_api_routes(httplib::Server& server, const LatentApi& api) {
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    use_one_intra_op_thread();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  server.Get("/api/info", [&api](const httplib::Request&, httplib::Response& response) { send(response, api.info()); });
  server.Get("/api/latents", [&api](const httplib::Request&, httplib::Response& response) { send(response, api.latents()); });
  server.Get("/api/decode", [&api](const httplib::Request& request, httplib::Response& response) {
    send(response, api.decode(parameter(request, "z"), parameter(request, "format")));
  });
  server.Post("/api/encode", [&api](const httplib::Request& request, httplib::Response& response) {
    send(response, api.encode(request.body));
  });
  server.Get(R"(/api/test/([^/]*))", [&api](const httplib::Request& request, httplib::Response& response) {
    send(response, api.test_image(request.matches[1].str()));
  });
  server.Get("/api/line", [&api](const httplib::Request& request, httplib::Response& response) {
    send(response, api.line(parameter(request, "from"), parameter(request, "to"), parameter(request, "steps")));
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

void serve_explorer(const LatentApi& api, const ServeOptions& options, const std::function<void(int port)>& on_listening,
                    const std::function<bool()>& should_stop) {
  httplib::Server server;
  // httplib's default also sets SO_REUSEPORT, which would let a second server share a port in use.
  server.set_socket_options([](socket_t socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server.set_payload_max_length(kMaxEncodeBody);
  // httplib writes a reply's headers and body separately: with Nagle's algorithm the body waited
  // for the client's delayed ACK, 40 ms a request.
  server.set_tcp_nodelay(true);
  add_page_routes(server);
  add_api_routes(server, api);
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
