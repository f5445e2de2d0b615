// The explorer's request handling (answer_request, as `vae_cnn serve` calls it for every request)
// on arbitrary method, path, query and body bytes. Beyond ASan and UBSan's findings, each reply
// must keep the API's contract: a status of 200 to 599, a JSON body wherever it says JSON, and for
// an error a JSON object of one line with an "error" text.
//   input: method byte, raw path, NUL, raw query, NUL, body (the rest; NULs included)
#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "vae_cnn/eval/latent_codes.hpp"
#include "vae_cnn/serve/api_router.hpp"

namespace {

using nlohmann::json;

// A small untrained model and 16 blank-and-bright test images: the handling is under test, not
// the model, and a small split keeps /api/latents cheap per input.
vae_cnn::ExplorerModel& explorer() {
  static vae_cnn::ExplorerModel model = [] {
    vae_cnn::ExplorerModel made;
    made.weights.model = vae_cnn::ConvVae(vae_cnn::ConvVaeOptions{});
    made.weights.model->eval();
    made.weights_path = "fuzz-\xff.pt";
    made.data_dir = "data/mnist-sample";
    made.test.pixels = torch::linspace(0, 255, 16).to(torch::kUInt8).view({16, 1, 1, 1}).expand({16, 1, 28, 28}).contiguous();
    made.test.labels = torch::arange(16, torch::kLong) % 10;
    made.test_codes = vae_cnn::encode_dataset(made.weights.model, made.test);
    return made;
  }();
  return model;
}

[[noreturn]] void broken_contract(const char* what, const vae_cnn::ApiReply& reply) {
  std::fprintf(stderr, "serve_api_fuzz: %s (status %d, %s): %.300s\n", what, reply.status, reply.content_type.c_str(),
               reply.body.c_str());
  std::abort();
}

// The part of `input` up to the next NUL (or its end), consumed.
std::string take_field(std::string& input) {
  const std::size_t end = input.find('\0');
  std::string field = input.substr(0, end);
  input.erase(0, end == std::string::npos ? input.size() : end + 1);
  return field;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  torch::set_num_threads(1);
  explorer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const char* const kMethods[] = {"GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE"};
  std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  vae_cnn::ApiRequest request;
  request.method = kMethods[data[0] % (sizeof kMethods / sizeof kMethods[0])];
  request.raw_path = take_field(rest);
  request.raw_query = take_field(rest);
  request.body = rest;

  static const vae_cnn::LatentApi api(explorer(), 4.0);
  const vae_cnn::ApiReply reply = vae_cnn::answer_request(api, request);
  if (reply.status < 200 || reply.status > 599) broken_contract("status out of range", reply);
  if (reply.content_type == "application/json" && !json::accept(reply.body)) broken_contract("not JSON", reply);
  if (reply.status >= 400) {
    const json error = json::parse(reply.body, nullptr, false);
    if (!error.is_object() || !error.contains("error") || !error["error"].is_string()) broken_contract("no error text", reply);
    if (reply.body.find('\n') != std::string::npos) broken_contract("error of more than one line", reply);
  }
  return 0;
}
