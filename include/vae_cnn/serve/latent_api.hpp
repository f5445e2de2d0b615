// The JSON API under the explorer page, as functions from request text to a reply, so that the
// HTTP layer (explorer_server.hpp) only routes and the tests call these directly.
#pragma once

#include <cstddef>
#include <string>

#include "vae_cnn/serve/explorer_model.hpp"

namespace vae_cnn {

struct ApiReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

/// {"error": message} with `status`.
ApiReply api_error(int status, const std::string& message);

/// Largest body `POST /api/encode` takes for images of `shape`: 80 bytes a level (each number
/// written out generously), and never under 64 KiB.
std::size_t max_encode_body(const ImageShape& shape);
/// Most digits one `GET /api/line` decodes.
constexpr int kMaxLineSteps = 100;

/// Each call is safe from several threads at once: the model only runs forward, without gradients.
class LatentApi {
 public:
  LatentApi(ExplorerModel& model, double range) : model_(model), range_(range) {}

  /// The largest body encode() takes for this model's images (max_encode_body).
  std::size_t max_encode_body() const;
  /// GET /api/info: data set, loss, β, latent size, image shape ([channels, height, width]), epochs,
  /// test loss terms, test images, and the map's range.
  ApiReply info() const;
  /// GET /api/latents: {"latent_dim", "labels": [...], "z_mean": [[...], ...]} of the test split.
  ApiReply latents() const;
  /// GET /api/decode?z=x,y[,...][&format=png]: {"z", "pixels": the image's levels as image_bytes
  /// gives them, 784 grey levels for an MNIST digit} or a PNG of the model's image shape; the
  /// pixels are those of `vae_cnn decode --z` at the same z.
  ApiReply decode(const std::string& z, const std::string& format) const;
  /// POST /api/encode with {"pixels": the image's levels 0..255, as "pixels" replies hold them}:
  /// {"z_mean", "z_log_var", "reconstruction": levels alike}, as `vae_cnn encode` would give.
  ApiReply encode(const std::string& body) const;
  /// GET /api/test/<index>: a test image, its label, latent mean and log-variance, reconstruction.
  ApiReply test_image(const std::string& index) const;
  /// GET /api/line?from=z&to=z&steps=N: N digits decoded on the straight line, ends included.
  ApiReply line(const std::string& from, const std::string& to, const std::string& steps) const;

 private:
  ExplorerModel& model_;
  double range_;
};

}  // namespace vae_cnn
