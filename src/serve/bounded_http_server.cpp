// httplib's own socket stream waits up to its read timeout for each read, so a client sending a
// byte every few seconds held a worker for ever; and its pool has 8 workers for all connections.
// Here each connection has a thread (up to a bound), and each request a deadline and a byte
// budget that every read of it counts against.
#include "vae_cnn/serve/bounded_http_server.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>

namespace vae_cnn {
namespace {

using Clock = std::chrono::steady_clock;
// How often a wait looks whether the server is stopping (Ctrl-C).
constexpr std::chrono::milliseconds kStopCheck{100};

// Waits until `sock` is ready for `events` (or hung up), the deadline passes or the server stops.
bool wait_ready(socket_t sock, short events, Clock::time_point deadline, const std::atomic<socket_t>& listening) {
  for (;;) {
    const auto now = Clock::now();
    if (now >= deadline || listening == INVALID_SOCKET) return false;
    const auto slice = std::min<Clock::duration>(deadline - now, kStopCheck);
    pollfd entry{sock, events, 0};
    const int ready = ::poll(&entry, 1, static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
}

void numeric_address(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  std::array<char, NI_MAXHOST> host{};
  std::array<char, NI_MAXSERV> service{};
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host.data(), host.size(), service.data(),
                    service.size(), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    ip = host.data();
    port = std::atoi(service.data());
  }
}

// One connection's socket, buffered (httplib reads a request's head a byte at a time).
class ClientStream final : public httplib::Stream {
 public:
  ClientStream(socket_t sock, const ConnectionLimits& limits, const std::atomic<socket_t>& listening)
      : sock_(sock), limits_(limits), listening_(listening) {}

  /// Waits up to the idle time for a request to begin; then its deadline and budget start.
  bool next_request() {
    if (begin_ == end_ && !wait_ready(sock_, POLLIN, Clock::now() + limits_.idle, listening_)) return false;
    deadline_ = Clock::now() + limits_.request;
    budget_ = limits_.request_bytes;
    cut_off_ = false;
    return true;
  }
  /// The request ran past its deadline or budget (or the server stops): end the connection.
  bool cut_off() const { return cut_off_; }

  bool is_readable() const override {
    pollfd entry{sock_, POLLIN, 0};
    return begin_ < end_ || ::poll(&entry, 1, 0) > 0;
  }
  bool is_writable() const override { return wait_ready(sock_, POLLOUT, Clock::now() + limits_.write, listening_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (budget_ == 0 || !wait_ready(sock_, POLLIN, deadline_, listening_)) {
        cut_off_ = true;
        return -1;
      }
      ssize_t n = -1;
      do {
        n = ::recv(sock_, buffer_.data(), std::min(buffer_.size(), budget_), 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n < 0 ? -1 : 0;
      budget_ -= static_cast<std::size_t>(n);
      begin_ = 0;
      end_ = static_cast<std::size_t>(n);
    }
    const std::size_t count = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_.data() + begin_, count);
    begin_ += count;
    return static_cast<ssize_t>(count);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n = -1;
    do {
      n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n < 0 ? -1 : n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getpeername(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) numeric_address(address, length, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(sock_, reinterpret_cast<sockaddr*>(&address), &length) == 0) numeric_address(address, length, ip, port);
  }
  socket_t socket() const override { return sock_; }

 private:
  socket_t sock_;
  const ConnectionLimits& limits_;
  const std::atomic<socket_t>& listening_;
  std::array<char, 4096> buffer_{};
  std::size_t begin_ = 0, end_ = 0;
  Clock::time_point deadline_{};
  std::size_t budget_ = 0;
  bool cut_off_ = false;
};

// A thread for each connection; the bound is BoundedHttpServer's. shutdown() waits for all of
// them, since they use the server and its handlers.
class ConnectionThreads final : public httplib::TaskQueue {
 public:
  void enqueue(std::function<void()> task) override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++running_;
    }
    try {
      std::thread([this, task] {
        task();
        finished();
      }).detach();
    } catch (const std::system_error&) {
      // No thread to be had: serve it here, on the accepting thread, rather than leak its socket.
      task();
      finished();
    }
  }
  void shutdown() override {
    std::unique_lock<std::mutex> lock(mutex_);
    all_finished_.wait(lock, [this] { return running_ == 0; });
  }

 private:
  void finished() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--running_ == 0) all_finished_.notify_all();
  }

  std::mutex mutex_;
  std::condition_variable all_finished_;
  int running_ = 0;
};

bool carries_body(const httplib::Request& request) {
  return (request.has_header("Content-Length") && request.get_header_value("Content-Length") != "0") ||
         request.has_header("Transfer-Encoding");
}

// Written without reading a byte of the request: the connection is over the bound.
void refuse_as_busy(socket_t sock) {
  const std::string body = R"({"error":"server busy: too many open connections, try again"})";
  const std::string reply = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: " +
                            std::to_string(body.size()) + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body;
  (void)::send(sock, reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

}  // namespace

BoundedHttpServer::BoundedHttpServer(const ConnectionLimits& limits) : limits_(limits) {
  new_task_queue = [] { return new ConnectionThreads; };
  set_keep_alive_max_count(static_cast<std::size_t>(limits_.requests_per_connection));
  set_keep_alive_timeout(std::chrono::duration_cast<std::chrono::seconds>(limits_.idle).count());
  set_post_routing_handler([](const httplib::Request& request, httplib::Response& response) {
    if (!carries_body(request)) return;
    response.headers.erase("Keep-Alive");
    response.set_header("Connection", "close");
  });
}

void BoundedHttpServer::widen_backlog() {
  // listen() again on a listening socket only sets its backlog.
  const socket_t listening = svr_sock_;
  if (listening != INVALID_SOCKET) ::listen(listening, limits_.max_connections);
}

bool BoundedHttpServer::process_and_close_socket(socket_t sock) {
  const int open = ++open_connections_;
  if (open > limits_.max_connections) {
    refuse_as_busy(sock);
  } else {
    ClientStream stream(sock, limits_, svr_sock_);
    for (int served = 0; served < limits_.requests_per_connection && stream.next_request(); ++served) {
      bool parsed = false, body = false, connection_closed = false;
      const bool last = served + 1 == limits_.requests_per_connection;
      const bool answered = process_request(stream, last, connection_closed, [&](const httplib::Request& request) {
        parsed = true;
        body = carries_body(request);
      });
      // After a request that did not parse or carried a body, the next bytes are not known to
      // begin a request.
      if (!answered || connection_closed || !parsed || body || stream.cut_off()) break;
    }
  }
  --open_connections_;
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return true;
}

}  // namespace vae_cnn
