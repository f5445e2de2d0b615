// The explorer's JSON API called in-process: its numbers equal the library's (and so `vae_cnn
// decode`/`encode`), and each bad request gets its 4xx with a one-line JSON error.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "test_support.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/eval/model_evaluation.hpp"
#include "vae_cnn/serve/api_router.hpp"
#include "vae_cnn/render/digit_pixels.hpp"
#include "vae_cnn/serve/latent_api.hpp"

namespace vae_cnn {
namespace {

using nlohmann::json;

ExplorerModel& explorer() {
  static ExplorerModel model = [] {
    const std::string trained = testing::shared_training("serve_api_seed6", testing::small_real_run("", 2, 6));
    return load_explorer_model(trained + "/vae_cnn.mnist.pt", testing::small_real_dir(), torch::kCPU);
  }();
  return model;
}

json body_of(const ApiReply& reply) {
  EXPECT_EQ(reply.content_type, "application/json");
  return json::parse(reply.body);
}

void expect_error(const ApiReply& reply, int status, const std::string& fragment, const std::string& context) {
  EXPECT_EQ(reply.status, status) << context << ": " << reply.body;
  const json body = json::parse(reply.body, nullptr, false);
  ASSERT_TRUE(body.is_object() && body.contains("error")) << context << ": " << reply.body;
  const std::string message = body["error"];
  EXPECT_NE(message.find(fragment), std::string::npos) << context << ": " << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << context;
}

TEST(ServeApi, InfoAndLatentsDescribeTheModelAndItsTestSplit) {
  const LatentApi api(explorer(), 4.0);
  const json info = body_of(api.info());
  EXPECT_EQ(info["latent_dim"], 2);
  EXPECT_EQ(info["loss"], "mse");
  EXPECT_EQ(info["epochs"], 2);
  EXPECT_EQ(info["test_images"], 100);
  EXPECT_NEAR(info["test_loss"].get<double>(), info["test_reconstruction"].get<double>() + info["test_kl"].get<double>(), 1e-3);
  // The page's figure is `vae_cnn eval`'s.
  ExplorerModel& model = explorer();
  const ModelEvaluation evaluation = evaluate_model(model.weights.model, model.test, model.weights.metadata, 1, 0);
  EXPECT_DOUBLE_EQ(info["test_loss"].get<double>(), evaluation.metrics.loss);
  EXPECT_DOUBLE_EQ(info["test_kl"].get<double>(), evaluation.metrics.kl);
  EXPECT_EQ(info["range"], 4.0);
  EXPECT_EQ(info["image_shape"].get<std::vector<std::int64_t>>(), explorer().weights.model->image_shape().sizes());
  const json latents = body_of(api.latents());
  ASSERT_EQ(latents["labels"].size(), 100u);
  ASSERT_EQ(latents["z_mean"].size(), 100u);
  const auto means = explorer().test_codes.z_mean;
  EXPECT_EQ(latents["z_mean"][7][1].get<double>(), static_cast<double>(means[7][1].item<float>()));
  EXPECT_EQ(latents["labels"][7], explorer().test_codes.labels[7].item<std::int64_t>());
}

TEST(ServeApi, DecodeGivesTheLibrarysPixels) {
  const LatentApi api(explorer(), 4.0);
  const json reply = body_of(api.decode("0.5,-1.25", ""));
  const auto expected = decode_to_bytes(explorer().weights.model, torch::tensor({0.5, -1.25}).to(torch::kFloat32).view({1, 2}));
  EXPECT_EQ(reply["pixels"].get<std::vector<std::uint8_t>>(), expected);
  const ApiReply png = api.decode("0.5,-1.25", "png");
  EXPECT_EQ(png.content_type, "image/png");
  // The PNG of the model's shape, byte for byte the one `vae_cnn decode` writes.
  const auto digit_png = encode_digit_png(explorer().weights.model->image_shape(), expected);
  EXPECT_EQ(png.body, std::string(digit_png.begin(), digit_png.end()));
}

// The most /api/encode takes grows with the image: 64 KiB for a digit, 80 bytes a level beyond.
TEST(ServeApi, TheEncodeBodyLimitFollowsTheImageShape) {
  EXPECT_EQ(max_encode_body(ImageShape{}), 64u * 1024);
  EXPECT_EQ(max_encode_body(ImageShape{3, 64, 64}), 80u * 3 * 64 * 64);
  EXPECT_EQ(LatentApi(explorer(), 4.0).max_encode_body(), max_encode_body(explorer().weights.model->image_shape()));
}

TEST(ServeApi, EncodeOfATestImageEqualsTheSplitsEncoding) {
  const LatentApi api(explorer(), 4.0);
  const int index = 11;
  const auto bytes = image_bytes(explorer().test.images(index, index + 1));
  const json reply = body_of(api.encode(json{{"pixels", bytes}}.dump()));
  const auto z_mean = reply["z_mean"].get<std::vector<double>>();
  ASSERT_EQ(z_mean.size(), 2u);
  for (int d = 0; d < 2; ++d) {
    EXPECT_NEAR(z_mean[static_cast<std::size_t>(d)], explorer().test_codes.z_mean[index][d].item<float>(), 1e-5) << d;
  }
  const json test = body_of(api.test_image(std::to_string(index)));
  EXPECT_EQ(test["pixels"].get<std::vector<std::uint8_t>>(), bytes);
  EXPECT_EQ(reply["reconstruction"], test["reconstruction"]);
  EXPECT_EQ(test["label"], explorer().test_codes.labels[index].item<std::int64_t>());
}

TEST(ServeApi, LineRunsFromOneEndToTheOther) {
  const LatentApi api(explorer(), 4.0);
  const json reply = body_of(api.line("-1,0", "1,2", "5"));
  ASSERT_EQ(reply["digits"].size(), 5u);
  EXPECT_EQ(reply["digits"][0], body_of(api.decode("-1,0", ""))["pixels"]);
  EXPECT_EQ(reply["digits"][4], body_of(api.decode("1,2", ""))["pixels"]);
}

TEST(ServeApi, BadRequestsGetTheir4xx) {
  const LatentApi api(explorer(), 4.0);
  expect_error(api.decode("1", ""), 400, "latent size is 2", "one value");
  expect_error(api.decode("1,2,3", ""), 400, "latent size is 2", "three values");
  expect_error(api.decode("1,nan", ""), 400, "not a finite number", "NaN");
  expect_error(api.decode("inf,0", ""), 400, "not a finite number", "infinity");
  expect_error(api.decode("1e999,0", ""), 400, "'1e999' (value 1 of '1e999,0') is too large", "overflow");
  expect_error(api.decode("0,1e39", ""), 400, "is too large for a latent value: at most 3.4e+38", "beyond float32");
  expect_error(api.decode("1e-50,0", ""), 400, "is too small for a latent value: 0, or at least 1.2e-38", "below float32");
  expect_error(api.decode(std::string("0\0,0", 4), ""), 400, "'0\\x00' (value 1 of '0\\x00,0') is not a finite number", "a NUL byte after a number");
  expect_error(api.decode("a,b", ""), 400, "not a finite number", "words");
  expect_error(api.decode("", ""), 400, "not a finite number", "nothing");
  expect_error(api.decode("1,", ""), 400, "not a finite number", "trailing comma");
  expect_error(api.decode("0,0", "gif"), 400, "format", "format");
  expect_error(api.encode("not json"), 400, "not JSON", "not JSON");
  expect_error(api.encode("[1,2,3]"), 400, "784 grey levels", "an array");
  expect_error(api.encode(json{{"pixels", std::vector<int>(783, 0)}}.dump()), 400, "784 grey levels", "783 pixels");
  std::vector<json> pixels(784, 0);
  pixels[5] = 256;
  expect_error(api.encode(json{{"pixels", pixels}}.dump()), 400, "pixels[5]", "grey level 256");
  pixels[5] = "white";
  expect_error(api.encode(json{{"pixels", pixels}}.dump()), 400, "pixels[5]", "a word");
  expect_error(api.encode(std::string(api.max_encode_body() + 1, ' ')), 413, "at most", "too long a body");
  expect_error(api.test_image("100"), 404, "no test image", "index past the end");
  expect_error(api.test_image("-1"), 404, "no test image", "negative index");
  expect_error(api.test_image("x"), 404, "no test image", "not an index");
  for (const std::string& loose : std::vector<std::string>{"+5", " 5", "5 ", "05", std::string("5\0junk", 6), "5.0", "0x5"}) {
    expect_error(api.test_image(loose), 404, "no test image", "loose index '" + loose + "'");
  }
  expect_error(api.line("0,0", "1,1", std::string("5\0", 2)), 400, "steps", "a NUL byte after steps");
  expect_error(api.line("0,0", "1,1", "1"), 400, "steps", "one step");
  expect_error(api.line("0,0", "1,1", "101"), 400, "steps", "too many steps");
  expect_error(api.line("0,0", "1", "5"), 400, "to has 1 values", "short end");
}

// The server's one entry (answer_request): routes by exact path after percent-decoding, refuses
// the wrong method and a parameter given twice, and shows any bytes as valid JSON.
TEST(ServeApi, RequestsAreRoutedByExactPathsAndEveryReplyIsJson) {
  const LatentApi api(explorer(), 4.0);
  const auto answer = [&api](const std::string& method, const std::string& path, const std::string& query,
                             const std::string& body = "") { return answer_request(api, {method, path, query, body}); };
  EXPECT_EQ(answer("GET", "/", "").content_type.rfind("text/html", 0), 0u);
  EXPECT_EQ(answer("GET", "/explorer.js", "").status, 200);
  EXPECT_EQ(answer("HEAD", "/api/info", "").status, 200);
  EXPECT_EQ(body_of(answer("GET", "/api/test/%37", "")).at("index"), 7) << "a percent-encoded digit is the digit";
  EXPECT_EQ(answer("GET", "/api/decode", "z=0.5%2C-1").status, 200);
  expect_error(answer("GET", "/api/nothing", ""), 404, "no such path: /api/nothing", "unknown path");
  expect_error(answer("GET", "/api/info/", ""), 404, "no such path", "a trailing slash");
  expect_error(answer("GET", "/%ff", ""), 404, "no such path: /\xef\xbf\xbd", "not UTF-8");
  expect_error(answer("DELETE", "/api/info", ""), 405, "takes GET, not DELETE", "wrong method");
  expect_error(answer("GET", "/api/encode", ""), 405, "takes POST", "encode by GET");
  expect_error(answer("GET", "/api/decode", "z=0,0&z=1,1"), 400, "'z' given more than once", "z twice");
  expect_error(answer("POST", "/api/encode", "", "\xff"), 400, "not JSON", "a body not UTF-8");
  const ApiReply shown = answer("GET", "/api/decode", "z=%ff%00%0a");
  expect_error(shown, 400, "z: '", "bytes in z");
  EXPECT_TRUE(json::accept(shown.body)) << shown.body;
}

}  // namespace
}  // namespace vae_cnn
