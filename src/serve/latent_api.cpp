// Bad requests are answered, never thrown: every parse failure becomes a 4xx with one line.
#include "vae_cnn/serve/latent_api.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <optional>

#include "vae_cnn/errors.hpp"
#include "vae_cnn/eval/decoded_digits.hpp"
#include "vae_cnn/eval/latent_values.hpp"
#include "vae_cnn/model/loss.hpp"
#include "vae_cnn/render/digit_pixels.hpp"

namespace vae_cnn {
namespace {

using nlohmann::json;

// What a reply shows may hold any bytes a client sent, or a file name that is not UTF-8: those
// become U+FFFD instead of the exception (type_error 316) that nlohmann's dump() throws by default.
std::string one_line_json(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

ApiReply json_reply(const json& value) { return {200, "application/json", one_line_json(value)}; }

// A count or the index of a test image as the canonical decimal number only ("5", not "+5", " 5", "05" or
// "5\0junk", all of which strtoll would take as 5); 18 digits at most, so it cannot overflow.
std::optional<std::int64_t> canonical_index(const std::string& text) {
  if (text.empty() || text.size() > 18 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value;
}

json floats(const torch::Tensor& row) {
  const auto values = row.to(torch::kCPU).to(torch::kFloat64).contiguous();
  return json(std::vector<double>(values.data_ptr<double>(), values.data_ptr<double>() + values.numel()));
}

// A point of the model's latent size, or a reply saying what is wrong with it.
std::optional<torch::Tensor> latent_point(const std::string& label, const std::string& text, std::int64_t latent,
                                          ApiReply& error) {
  std::vector<double> values;
  try {
    values = parse_latent_values(label, text);
  } catch (const UsageError& fault) {
    error = api_error(400, fault.what());
    return std::nullopt;
  }
  if (static_cast<std::int64_t>(values.size()) != latent) {
    error = api_error(400, label + " has " + std::to_string(values.size()) + " values; this model's latent size is " +
                               std::to_string(latent));
    return std::nullopt;
  }
  // As `vae_cnn decode` does: the numbers as doubles, then the model's float32.
  return torch::tensor(values, torch::kFloat64).to(torch::kFloat32).view({1, latent});
}

torch::Device device_of(ConvVae& model) { return model->parameters().front().device(); }

// What one image's "pixels" hold, for error messages: "784 grey levels 0..255".
std::string pixels_wanted(const ImageShape& shape) {
  return std::to_string(shape.numel()) +
         (shape.channels == 1 ? " grey levels" : " colour levels, channel after channel,") + " 0..255";
}

}  // namespace

std::size_t max_encode_body(const ImageShape& shape) {
  constexpr std::size_t kLeast = 64 * 1024, kBytesPerLevel = 80;
  return std::max(kLeast, kBytesPerLevel * static_cast<std::size_t>(shape.numel()));
}

std::size_t LatentApi::max_encode_body() const { return vae_cnn::max_encode_body(model_.weights.model->image_shape()); }

ApiReply api_error(int status, const std::string& message) { return {status, "application/json", one_line_json({{"error", message}})}; }

ApiReply LatentApi::info() const {
  const WeightsMetadata& meta = model_.weights.metadata;
  return json_reply({{"weights", model_.weights_path},
                     {"data_dir", model_.data_dir},
                     {"dataset", meta.dataset},
                     {"loss", to_string(meta.loss)},
                     {"beta", meta.beta},
                     {"latent_dim", meta.latent_dim},
                     {"image_shape", model_.weights.model->image_shape().sizes()},
                     {"class_names", meta.class_names},
                     {"epochs", meta.epochs},
                     {"test_images", model_.test.size()},
                     {"test_loss", model_.test_loss},
                     {"test_reconstruction", model_.test_reconstruction},
                     {"test_kl", model_.test_kl},
                     {"range", range_}});
}

ApiReply LatentApi::latents() const {
  const auto means = model_.test_codes.z_mean.to(torch::kFloat64).contiguous();
  const auto labels = model_.test_codes.labels.contiguous();
  const std::int64_t latent = means.size(1);
  json rows = json::array();
  const double* values = means.data_ptr<double>();
  for (std::int64_t i = 0; i < means.size(0); ++i) rows.push_back(std::vector<double>(values + i * latent, values + (i + 1) * latent));
  return json_reply({{"latent_dim", latent},
                     {"labels", std::vector<std::int64_t>(labels.data_ptr<std::int64_t>(),
                                                          labels.data_ptr<std::int64_t>() + labels.numel())},
                     {"z_mean", rows}});
}

ApiReply LatentApi::decode(const std::string& z_text, const std::string& format) const {
  if (format != "" && format != "json" && format != "png") return api_error(400, "format: '" + format + "', expected json or png");
  ApiReply error;
  const auto z = latent_point("z", z_text, model_.weights.metadata.latent_dim, error);
  if (!z) return error;
  const std::vector<std::uint8_t> pixels = decode_to_bytes(model_.weights.model, z->to(device_of(model_.weights.model)));
  if (format == "png") {
    const auto png = encode_digit_png(model_.weights.model->image_shape(), pixels);
    return {200, "image/png", std::string(png.begin(), png.end())};
  }
  return json_reply({{"z", floats((*z)[0])}, {"pixels", pixels}});
}

ApiReply LatentApi::encode(const std::string& body) const {
  const std::size_t most = max_encode_body();
  if (body.size() > most) return api_error(413, "body of " + std::to_string(body.size()) + " bytes; at most " + std::to_string(most));
  const json request = json::parse(body, nullptr, false);
  if (request.is_discarded()) return api_error(400, "body is not JSON");
  ConvVae& model = model_.weights.model;
  const ImageShape& shape = model->image_shape();
  const auto found = request.is_object() ? request.find("pixels") : request.end();
  if (found == request.end() || !found->is_array() || found->size() != static_cast<std::size_t>(shape.numel())) {
    return api_error(400, "body must be {\"pixels\": [" + pixels_wanted(shape) + "]}");
  }
  std::vector<float> levels(static_cast<std::size_t>(shape.numel()));
  for (std::size_t i = 0; i < levels.size(); ++i) {
    const json& value = (*found)[i];
    if (!value.is_number() || !(value.get<double>() >= 0 && value.get<double>() <= 255)) {
      return api_error(400, "pixels[" + std::to_string(i) + "] is not a number from 0 to 255");
    }
    // As images are read from IDX files: grey level / 255.
    levels[i] = static_cast<float>(value.get<double>() / 255.0);
  }
  torch::NoGradGuard no_grad;
  const auto image = torch::from_blob(levels.data(), shape.batch(1), torch::kFloat32).clone().to(device_of(model));
  auto [z_mean, z_log_var] = model->encoder->forward(image);
  return json_reply({{"z_mean", floats(z_mean[0])},
                     {"z_log_var", floats(z_log_var[0])},
                     {"reconstruction", decode_to_bytes(model, z_mean)}});
}

ApiReply LatentApi::test_image(const std::string& index_text) const {
  const std::int64_t index = canonical_index(index_text).value_or(-1);
  if (index < 0 || index >= model_.test.size()) {
    return api_error(404, "no test image '" + index_text + "' (0 to " + std::to_string(model_.test.size() - 1) + ")");
  }
  ConvVae& model = model_.weights.model;
  const auto image = model_.test.images(index, index + 1);
  return json_reply({{"index", index},
                     {"label", model_.test_codes.labels[index].item<std::int64_t>()},
                     {"z_mean", floats(model_.test_codes.z_mean[index])},
                     {"z_log_var", floats(model_.test_codes.z_log_var[index])},
                     {"pixels", image_bytes(image)},
                     {"reconstruction", image_bytes(reconstruct_from_mean(model, image.to(device_of(model))))}});
}

ApiReply LatentApi::line(const std::string& from_text, const std::string& to_text, const std::string& steps_text) const {
  ApiReply error;
  const std::int64_t latent = model_.weights.metadata.latent_dim;
  const auto from = latent_point("from", from_text, latent, error);
  if (!from) return error;
  const auto to = latent_point("to", to_text, latent, error);
  if (!to) return error;
  const std::int64_t steps = canonical_index(steps_text).value_or(0);
  if (steps < 2 || steps > kMaxLineSteps) {
    return api_error(400, "steps: '" + steps_text + "', expected 2 to " + std::to_string(kMaxLineSteps));
  }
  const auto points = latent_line((*from)[0], (*to)[0], steps);
  const auto bytes = decode_to_bytes(model_.weights.model, points.to(device_of(model_.weights.model)));
  const std::int64_t digit_bytes = model_.weights.model->image_shape().numel();
  json digits = json::array();
  for (std::int64_t i = 0; i < steps; ++i) {
    digits.push_back(std::vector<std::uint8_t>(bytes.begin() + i * digit_bytes, bytes.begin() + (i + 1) * digit_bytes));
  }
  return json_reply({{"from", floats((*from)[0])}, {"to", floats((*to)[0])}, {"digits", digits}});
}

}  // namespace vae_cnn
