// `vae_cnn serve` as a user runs it: the real binary on --port 0, real HTTP requests (cpp-httplib's
// client), Ctrl-C ending it with 130 and the port free again; its option and start-up failures.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stb_image.h>
#include <sys/socket.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "cli_support.hpp"

namespace vae_cnn {
namespace {

using nlohmann::json;
using testing::ScratchDir;
using testing::slurp;

std::string weights_file() {
  return testing::shared_training("serve_cli_seed8", testing::small_real_run("", 1, 8)) + "/vae_cnn.mnist.pt";
}

// The port the server printed, once it has (0 when it never did).
int wait_for_port(const ScratchDir& dir, std::chrono::seconds limit) {
  const std::regex address(R"(http://127\.0\.0\.1:(\d+)/)");
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch match;
    const std::string out = slurp(dir.file("out.txt"));
    if (std::regex_search(out, match, address)) return std::stoi(match[1].str());
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return 0;
}

// Nothing listens there any more, and a new server could take it (as servers do, with
// SO_REUSEADDR: the test's own closed connections may linger in TIME_WAIT).
bool port_is_free(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const int client = ::socket(AF_INET, SOCK_STREAM, 0);
  const bool refused = ::connect(client, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0;
  ::close(client);
  const int server = ::socket(AF_INET, SOCK_STREAM, 0);
  const int yes = 1;
  ::setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  const bool bound = ::bind(server, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(server);
  return refused && bound;
}

// The grey levels of a 28x28 PNG.
std::vector<std::uint8_t> png_pixels(const std::string& png) {
  int width = 0, height = 0, channels = 0;
  unsigned char* pixels = stbi_load_from_memory(reinterpret_cast<const unsigned char*>(png.data()),
                                                static_cast<int>(png.size()), &width, &height, &channels, 1);
  if (pixels == nullptr) return {};
  std::vector<std::uint8_t> grey(pixels, pixels + width * height);
  stbi_image_free(pixels);
  return grey;
}

TEST(ServeCli, AnswersOverHttpAndCtrlCEndsItWith130) {
  ScratchDir dir;
  const pid_t pid = testing::spawn_vae_cnn(dir, {"serve", "-w", weights_file(), "--data", testing::small_real_dir(), "--port", "0"});
  ASSERT_GT(pid, 0);
  const int port = wait_for_port(dir, std::chrono::seconds(60));
  ASSERT_GT(port, 0) << slurp(dir.file("err.txt"));
  httplib::Client client("127.0.0.1", port);

  const auto page = client.Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_NE(page->body.find("explorer.js"), std::string::npos);
  const auto script = client.Get("/explorer.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->get_header_value("Content-Type").rfind("text/javascript", 0), 0u);

  // The decoded digit equals `vae_cnn decode --z` at the same z.
  const auto decoded = client.Get("/api/decode?z=0.75,-0.5");
  ASSERT_TRUE(decoded);
  ASSERT_EQ(decoded->status, 200) << decoded->body;
  ASSERT_EQ(testing::run_vae_cnn(dir, "decode -w '" + weights_file() + "' --z 0.75,-0.5 -o '" + dir.file("d.png") + "'").exit_code, 0);
  EXPECT_EQ(json::parse(decoded->body)["pixels"].get<std::vector<std::uint8_t>>(), png_pixels(slurp(dir.file("d.png"))));

  const auto bad = client.Get("/api/decode?z=1,nan");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  const auto unknown = client.Get("/api/nothing");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_TRUE(json::parse(unknown->body).contains("error"));
  const auto dots = client.Get("/../../etc/passwd");
  ASSERT_TRUE(dots);
  EXPECT_EQ(dots->status, 404);
  EXPECT_EQ(dots->body.find("root:"), std::string::npos);
  const auto huge = client.Post("/api/encode", std::string(100000, ' '), "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  const auto still = client.Get("/api/info");
  ASSERT_TRUE(still) << "the server stopped serving after bad requests";
  EXPECT_EQ(still->status, 200);

  kill(pid, SIGINT);
  EXPECT_EQ(testing::wait_exit_code(pid), 130) << slurp(dir.file("err.txt"));
  EXPECT_TRUE(port_is_free(port));
}

// A colour model of 148x148 images takes 65,712 levels to encode: a body of about 260 KB, above the
// 256 KB a request was held to, which cut the request off without a reply.
TEST(ServeCli, AnEncodeBodyOfALargeColourModelIsAnswered) {
  ScratchDir dir;
  const std::string data = testing::sample_image_folder(dir, "tinted", 40, /*tinted=*/true);
  const auto trained = testing::run_vae_cnn(dir, "train --data '" + data + "' --image-size 148 --epochs 1 --seed 2 "
                                                 "--threads 1 --out '" + dir.file("w") + "'");
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const pid_t pid = testing::spawn_vae_cnn(dir, {"serve", "-w", dir.file("w/vae_cnn.tinted.pt"), "--data", data,
                                                 "--port", "0"});
  ASSERT_GT(pid, 0);
  const int port = wait_for_port(dir, std::chrono::seconds(60));
  ASSERT_GT(port, 0) << slurp(dir.file("err.txt"));
  httplib::Client client("127.0.0.1", port);
  std::string body = "{\"pixels\": [";
  for (int i = 0; i < 3 * 148 * 148; ++i) body += (i > 0 ? ",255" : "255");
  body += "]}";
  ASSERT_GT(body.size(), 256u * 1024);
  const auto encoded = client.Post("/api/encode", body, "application/json");
  ASSERT_TRUE(encoded) << "no reply to an encode body of " << body.size() << " bytes";
  EXPECT_EQ(encoded->status, 200) << encoded->body;
  EXPECT_TRUE(json::parse(encoded->body).contains("z_mean")) << encoded->body;
  kill(pid, SIGINT);
  EXPECT_EQ(testing::wait_exit_code(pid), 130) << slurp(dir.file("err.txt"));
}

TEST(ServeCli, APortInUseAndBadInputsAreOneLine) {
  ScratchDir dir;
  // A port held by a listening socket of this test.
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  socklen_t length = sizeof address;
  ::getsockname(holder, reinterpret_cast<sockaddr*>(&address), &length);
  const std::string port = std::to_string(ntohs(address.sin_port));
  testing::expect_one_line_failure(
      testing::run_vae_cnn(dir, "serve -w '" + weights_file() + "' --data '" + testing::small_real_dir() + "' --port " + port), 1,
      "cannot serve on 127.0.0.1:" + port + ": Address already in use", "port in use");
  ::close(holder);

  testing::expect_one_line_failure(testing::run_vae_cnn(dir, "serve"), 2, "--weights is required", "no weights");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, "serve -w x.pt --port 70000"), 2, "--port", "port too high");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, "serve -w x.pt --port -1"), 2, "--port", "negative port");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, "serve -w x.pt --range 0"), 2, "--range", "range 0");
  testing::expect_one_line_failure(testing::run_vae_cnn(dir, "serve -w '" + dir.file("none.pt") + "'"), 1, "none.pt",
                                   "missing weights");
  testing::expect_one_line_failure(
      testing::run_vae_cnn(dir, "serve -w '" + weights_file() + "' --data '" + dir.file("nodata") + "' --port 0"), 1, "nodata",
      "missing data");
}

}  // namespace
}  // namespace vae_cnn
