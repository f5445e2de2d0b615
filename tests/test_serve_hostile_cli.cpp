// Hostile use of `vae_cnn serve`, round three (issue 27): the real binary on --port 0, spoken to
// through raw sockets, so that any bytes reach it as a hostile client would send them; and z
// values beyond float32 through `decode` and the API.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "cli_support.hpp"

namespace vae_cnn {
namespace {

using nlohmann::json;
using testing::ScratchDir;
using testing::slurp;
using Clock = std::chrono::steady_clock;

std::string trained_weights() {
  return testing::shared_training("serve_hostile_seed9", testing::small_real_run("", 1, 9)) + "/vae_cnn.mnist.pt";
}

// A running `vae_cnn serve` on a free port; Ctrl-C and its exit code when the test is done.
class Server {
 public:
  Server(const ScratchDir& dir, const std::string& weights, const std::vector<std::string>& extra = {},
         const std::string& printed_host = R"(127\.0\.0\.1)")
      : dir_(dir) {
    std::vector<std::string> args{"serve", "-w", weights, "--data", testing::small_real_dir(), "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = testing::spawn_vae_cnn(dir, args);
    const std::regex address("http://" + printed_host + R"(:(\d+)/)");
    const auto deadline = Clock::now() + std::chrono::seconds(60);
    while (pid_ > 0 && port_ == 0 && Clock::now() < deadline) {
      std::smatch match;
      const std::string out = slurp(dir.file("out.txt"));
      if (std::regex_search(out, match, address)) port_ = std::stoi(match[1].str());
      if (port_ == 0 && out.find("(Ctrl-C to stop)") != std::string::npos) break;  // printed, but not as expected
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  ~Server() {
    if (pid_ > 0 && !stopped_) stop();
  }
  int port() const { return port_; }
  std::string printed() const { return slurp(dir_.file("out.txt")) + slurp(dir_.file("err.txt")); }
  /// Ctrl-C: the server's exit code (130 when it ended as it should).
  int stop() {
    stopped_ = true;
    kill(pid_, SIGINT);
    return testing::wait_exit_code(pid_);
  }

 private:
  const ScratchDir& dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  bool stopped_ = false;
};

// A TCP connection to the server on the IPv4 loopback.
int connect_to(int port) {
  const int sock = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  if (::connect(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(sock);
    return -1;
  }
  return sock;
}

bool send_all(int sock, const std::string& bytes) {
  for (std::size_t sent = 0; sent < bytes.size();) {
    const ssize_t n = ::send(sock, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<std::size_t>(n);
  }
  return true;
}

struct Exchange {
  std::string reply;     ///< all bytes the server sent
  bool closed = false;   ///< the server closed the connection
  double seconds = 0;    ///< from sending to the end of the reply
};

// Sends `request` and reads until the server closes or `limit` passes.
Exchange exchange(int port, const std::string& request, std::chrono::milliseconds limit = std::chrono::milliseconds(5000)) {
  Exchange result;
  const int sock = connect_to(port);
  if (sock < 0) return result;
  const auto start = Clock::now();
  send_all(sock, request);
  const auto deadline = start + limit;
  char buffer[65536];
  while (Clock::now() < deadline) {
    pollfd entry{sock, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (::poll(&entry, 1, static_cast<int>(std::max<long long>(left, 1))) <= 0) continue;
    const ssize_t n = ::recv(sock, buffer, sizeof buffer, 0);
    if (n <= 0) {
      result.closed = true;
      break;
    }
    result.reply.append(buffer, static_cast<std::size_t>(n));
  }
  result.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  ::close(sock);
  return result;
}

int status_of(const std::string& reply) {
  return reply.rfind("HTTP/1.1 ", 0) == 0 && reply.size() >= 12 ? std::atoi(reply.substr(9, 3).c_str()) : 0;
}

std::string body_of(const std::string& reply) {
  const std::size_t end = reply.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : reply.substr(end + 4);
}

std::string get(const std::string& target) { return "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"; }

// The API's contract for a refused request: `status`, and a JSON object of one line with an
// "error" that contains `fragment`.
void expect_json_error(const Exchange& got, int status, const std::string& fragment, const std::string& context) {
  EXPECT_EQ(status_of(got.reply), status) << context << ": " << got.reply;
  const std::string body = body_of(got.reply);
  const json parsed = json::parse(body, nullptr, false);
  ASSERT_TRUE(parsed.is_object() && parsed.contains("error")) << context << ": " << got.reply;
  EXPECT_EQ(body.find('\n'), std::string::npos) << context;
  EXPECT_NE(parsed["error"].get<std::string>().find(fragment), std::string::npos) << context << ": " << body;
}

TEST(ServeHostileCli, AnyBytesInPathQueryOrBodyGetA4xxWithOneLineOfJson) {
  ScratchDir dir;
  // A weights file whose name is not UTF-8: /api/info shows it, and must still be JSON.
  const std::string weights = dir.file("weights-\xff\xfe.pt");
  std::filesystem::copy_file(trained_weights(), weights);
  Server server(dir, weights);
  ASSERT_GT(server.port(), 0) << server.printed();

  const std::string bad_bytes[] = {"%ff", "%c0%af", "%ed%a0%80", "%fe%ff", "%00", "%0a%0d", "\xff", "%"};
  for (const std::string& bytes : bad_bytes) {
    expect_json_error(exchange(server.port(), get("/" + bytes)), 404, "no such path", "path " + bytes);
    expect_json_error(exchange(server.port(), get("/api/test/" + bytes)), 404, "no test image", "index " + bytes);
    expect_json_error(exchange(server.port(), get("/api/decode?z=" + bytes)), 400, "z", "z " + bytes);
    expect_json_error(exchange(server.port(), get("/api/decode?z=0,0&format=" + bytes)), 400, "format", "format " + bytes);
    expect_json_error(exchange(server.port(), get("/api/line?from=0,0&to=" + bytes + "&steps=3")), 400, "to", "to " + bytes);
    expect_json_error(exchange(server.port(), get("/api/line?from=0,0&to=0,0&steps=3" + bytes)), 400, "steps", "steps " + bytes);
    const std::string body = "{\"pixels\": \"" + bytes + "\xff\"}";
    expect_json_error(exchange(server.port(), "POST /api/encode HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                                  std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body),
                      400, "body", "body " + bytes);
  }
  const Exchange info = exchange(server.port(), get("/api/info"));
  ASSERT_EQ(status_of(info.reply), 200) << "the server stopped answering: " << info.reply << server.printed();
  const json described = json::parse(body_of(info.reply), nullptr, false);
  ASSERT_TRUE(described.is_object()) << info.reply;
  EXPECT_NE(described["weights"].get<std::string>().find("weights-"), std::string::npos);
  EXPECT_EQ(server.stop(), 130) << server.printed();
}

TEST(ServeHostileCli, ATestImageIsNamedByItsCanonicalNumberOnly) {
  ScratchDir dir;
  Server server(dir, trained_weights());
  ASSERT_GT(server.port(), 0) << server.printed();
  const Exchange five = exchange(server.port(), get("/api/test/5"));
  ASSERT_EQ(status_of(five.reply), 200) << five.reply;
  EXPECT_EQ(json::parse(body_of(five.reply))["index"], 5);
  for (const std::string loose : {"+5", "%205", "5%20", "5%00junk", "05", "-0", "0x5", "5.0", "%2B5", "99999999999999999999"}) {
    expect_json_error(exchange(server.port(), get("/api/test/" + loose)), 404, "no test image", loose);
  }
  EXPECT_EQ(server.stop(), 130) << server.printed();
}

TEST(ServeHostileCli, ZBeyondFloat32IsRefusedByTheApiAndByDecode) {
  ScratchDir dir;
  Server server(dir, trained_weights());
  ASSERT_GT(server.port(), 0) << server.printed();
  expect_json_error(exchange(server.port(), get("/api/decode?z=1e39,0")), 400, "'1e39' (value 1 of '1e39,0') is too large",
                    "z 1e39");
  expect_json_error(exchange(server.port(), get("/api/decode?z=0,-1e308")), 400, "'-1e308'", "z -1e308");
  expect_json_error(exchange(server.port(), get("/api/decode?z=1e-50,0")), 400, "'1e-50' (value 1 of '1e-50,0') is too small",
                    "z 1e-50");
  expect_json_error(exchange(server.port(), get("/api/line?from=0,0&to=1e308,0&steps=3")), 400, "to: '1e308'", "line end");
  expect_json_error(exchange(server.port(), get("/api/line?from=1e-400,0&to=0,0&steps=3")), 400, "too small", "line start");
  // The largest float32 and the smallest normal one are still latent values.
  const Exchange largest = exchange(server.port(), get("/api/decode?z=3.4e38,-1.2e-38"));
  EXPECT_EQ(status_of(largest.reply), 200) << largest.reply;
  EXPECT_EQ(server.stop(), 130) << server.printed();

  const std::string decode = "decode -w '" + trained_weights() + "' -o '" + dir.file("d.png") + "' --z ";
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, decode + "1e308,0"), 2, "--z: '1e308' (value 1 of '1e308,0') is too large",
                                   "decode 1e308");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, decode + "0,1e39"), 2, "'1e39' (value 2 of '0,1e39') is too large",
                                   "decode 1e39");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, decode + "1e-50,0"), 2, "is too small for a latent value: 0, or at least",
                                   "decode 1e-50");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, decode + "1e-400,0"), 2, "too small", "decode 1e-400");
  EXPECT_FALSE(std::filesystem::exists(dir.file("d.png")));
}

TEST(ServeHostileCli, PlotAndServeShareOneBoundOnRange) {
  ScratchDir dir;
  for (const std::string command : {"plot", "serve"}) {
    testing::expect_one_line_failure(testing::run_vae_cnn(dir, command + " -w x.pt --range 1e30"), 2,
                                     "--range must be a number above 0 and at most 1000, got 1e30", command);
    testing::expect_one_line_failure(testing::run_vae_cnn(dir, command + " -w x.pt --range 1000.5"), 2, "at most 1000", command);
  }
}

// Whether the server on `port` has taken up at least `connections` connections: none still waits in
// its listening socket's accept queue, and it has read every byte they sent so far. From the
// kernel's table /proc/net/tcp, where a listening socket's rx_queue is its accept queue and an
// established one's is the bytes received but not yet read.
bool server_took_up(int port, int connections) {
  std::istringstream table(slurp("/proc/net/tcp"));
  std::string line;
  std::getline(table, line);  // the column names
  int established = 0;
  bool listener_seen = false;
  while (std::getline(table, line)) {
    std::istringstream fields(line);
    std::string slot, local, remote, state, queues;
    fields >> slot >> local >> remote >> state >> queues;
    const std::size_t colon = local.find(':');
    if (colon == std::string::npos || std::stoi(local.substr(colon + 1), nullptr, 16) != port) continue;
    const unsigned long unread = std::stoul(queues.substr(queues.find(':') + 1), nullptr, 16);
    if (unread != 0) return false;
    if (state == "0A") listener_seen = true;  // TCP_LISTEN
    if (state == "01") ++established;         // TCP_ESTABLISHED, the server's end
  }
  return listener_seen && established >= connections;
}

// Whether this machine can listen on the IPv6 loopback at all.
bool has_ipv6_loopback() {
  const int sock = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (sock < 0) return false;
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_loopback;
  const bool bound = ::bind(sock, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(sock);
  return bound;
}

TEST(ServeHostileCli, AnIpv6HostIsPrintedInBrackets) {
  if (!has_ipv6_loopback()) GTEST_SKIP() << "no IPv6 loopback here";
  ScratchDir dir;
  Server server(dir, trained_weights(), {"--host", "::1"}, R"(\[::1\])");
  EXPECT_GT(server.port(), 0) << server.printed();
  EXPECT_EQ(server.printed().find("http://::1:"), std::string::npos) << server.printed();
  EXPECT_EQ(server.stop(), 130) << server.printed();
}

TEST(ServeHostileCli, SlowAndIdleClientsDoNotStarveOthers) {
  ScratchDir dir;
  Server server(dir, trained_weights());
  ASSERT_GT(server.port(), 0) << server.printed();
  // 8 clients that send a header line every 500 ms and never end their request (as many as
  // httplib's whole pool had), and 50 that connect and say nothing.
  std::vector<int> slow, idle;
  for (int i = 0; i < 8; ++i) {
    slow.push_back(connect_to(server.port()));
    send_all(slow.back(), "GET /api/info HTTP/1.1\r\nHost: x\r\n");
  }
  for (int i = 0; i < 50; ++i) idle.push_back(connect_to(server.port()));
  std::atomic<bool> done{false};
  std::thread dribble([&] {
    for (int line = 0; !done; ++line) {
      for (const int sock : slow) send_all(sock, "X-Slow-" + std::to_string(line) + ": 1\r\n");
      for (int wait = 0; wait < 5 && !done; ++wait) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Every one of them taken up before the next client comes, or the next one could be served first
  // and prove nothing.
  const auto deadline = Clock::now() + std::chrono::seconds(4);
  bool taken_up = false;
  while (!taken_up && Clock::now() < deadline) {
    taken_up = server_took_up(server.port(), static_cast<int>(slow.size() + idle.size()));
    if (!taken_up) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(taken_up) << "the server did not accept and read all " << slow.size() + idle.size()
                        << " slow and idle connections within 4 s";
  // The bound measures waiting, not computing: /api/info answers in milliseconds.
  const Exchange info = exchange(server.port(), get("/api/info"), std::chrono::seconds(3));
  EXPECT_EQ(status_of(info.reply), 200) << "no answer within 3 s (" << info.seconds << " s) beside slow and idle clients";

  // A body announced as 100 MB is refused from its headers, and the connection closed: none of
  // it is sent.
  const Exchange huge = exchange(server.port(), "POST /api/encode HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
                                 std::chrono::seconds(3));
  expect_json_error(huge, 413, "100000000 bytes", "100 MB body");
  EXPECT_TRUE(huge.closed) << "the connection stayed open for the body";
  const Exchange expecting = exchange(
      server.port(), "POST /api/encode HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n",
      std::chrono::seconds(3));
  expect_json_error(expecting, 413, "at most", "100 MB body, expecting 100-continue");
  EXPECT_EQ(expecting.reply.find("100 Continue"), std::string::npos) << expecting.reply;

  done = true;
  dribble.join();
  for (const int sock : slow) ::close(sock);
  for (const int sock : idle) ::close(sock);
  EXPECT_EQ(server.stop(), 130) << server.printed();
}

}  // namespace
}  // namespace vae_cnn
