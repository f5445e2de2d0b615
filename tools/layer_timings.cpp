// Forward and backward time of each convolution layer alone, vae_cnn's kernels against LibTorch's
// own layers, at batch 128: the per-layer half of the speed work's profile.
//
//     build/vae_cnn_layer_timings [--threads N=2] [--repeats N=30]
//
// Prints the fastest and the median of N repetitions (a busy machine only ever adds time, so the
// fastest is the steadiest figure). A developer tool, not part of vae_cnn's command line.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "vae_cnn/io/allocator_policy.hpp"
#include "vae_cnn/model/conv_vae.hpp"
#include "vae_cnn/kernels/single_channel_conv.hpp"
#include "vae_cnn/kernels/single_channel_deconv.hpp"
#include "vae_cnn/kernels/transposed_conv.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Layer = std::function<torch::Tensor(const torch::Tensor&)>;

struct Timing {
  double fastest_ms, median_ms;
};

Timing summarise(std::vector<double> samples) {
  std::sort(samples.begin(), samples.end());
  return {samples.front(), samples[samples.size() / 2]};
}

double since_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Times y = layer(x) and y.backward(g) separately; the input needs a gradient as inside the model
// (all but the images).
std::pair<Timing, Timing> time_layer(const Layer& layer, const torch::Tensor& input, bool input_needs_grad,
                                     int repeats) {
  std::vector<double> forward_ms, backward_ms;
  for (int i = 0; i < repeats + 3; ++i) {
    auto x = input.detach().clone(input.suggest_memory_format()).requires_grad_(input_needs_grad);
    auto start = Clock::now();
    auto y = layer(x);
    const double f = since_ms(start);
    const auto upstream = torch::randn_like(y);
    start = Clock::now();
    y.backward(upstream);
    const double b = since_ms(start);
    if (i >= 3) {  // the first calls create oneDNN primitives and touch fresh memory
      forward_ms.push_back(f);
      backward_ms.push_back(b);
    }
  }
  return {summarise(forward_ms), summarise(backward_ms)};
}

torch::Tensor channels_last(const torch::Tensor& x) { return x.contiguous(at::MemoryFormat::ChannelsLast); }

}  // namespace

int main(int argc, char** argv) {
  vae_cnn::keep_freed_memory_for_reuse();  // as vae_cnn itself does
  int threads = 2, repeats = 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--threads") threads = std::atoi(argv[i + 1]);
    else if (arg == "--repeats") repeats = std::atoi(argv[i + 1]);
  }
  torch::set_num_threads(threads);
  torch::manual_seed(1);
  vae_cnn::ConvVae model(vae_cnn::ConvVaeOptions{});
  auto& encoder = *model->encoder;
  auto& decoder = *model->decoder;
  const std::int64_t n = 128;
  const auto image = torch::rand({n, 1, 28, 28});
  const auto h1 = torch::rand({n, 32, 14, 14});
  const auto features = torch::rand({n, 64, 7, 7});
  const auto d1 = torch::rand({n, 64, 14, 14});
  const auto d2 = torch::rand({n, 32, 28, 28});
  const vae_cnn::TransposedConvShape stride2{2, 1, 1};

  struct Row {
    std::string name;
    Layer fast, plain;
    torch::Tensor input;
  };
  const std::vector<Row> rows = {
      {"conv1 1->32 28->14 +ReLU",
       [&](const torch::Tensor& x) {
         return vae_cnn::single_channel_conv3x3_s2_relu(channels_last(x), encoder.conv1->weight, encoder.conv1->bias);
       },
       [&](const torch::Tensor& x) { return torch::relu(encoder.conv1->forward(x)); }, image},
      {"conv2 32->64 14->7 +ReLU", [&](const torch::Tensor& x) { return torch::relu(encoder.conv2->forward(channels_last(x))); },
       [&](const torch::Tensor& x) { return torch::relu(encoder.conv2->forward(x)); }, h1},
      {"deconv1 64->64 7->14 +ReLU",
       [&](const torch::Tensor& x) {
         return vae_cnn::transposed_conv2d(channels_last(x), decoder.deconv1->weight, decoder.deconv1->bias, stride2, true);
       },
       [&](const torch::Tensor& x) { return torch::relu(decoder.deconv1->forward(x)); }, features},
      {"deconv2 64->32 14->28 +ReLU",
       [&](const torch::Tensor& x) {
         return vae_cnn::transposed_conv2d(channels_last(x), decoder.deconv2->weight, decoder.deconv2->bias, stride2, true);
       },
       [&](const torch::Tensor& x) { return torch::relu(decoder.deconv2->forward(x)); }, d1},
      {"deconv3 32->1 28->28",
       [&](const torch::Tensor& x) {
         return vae_cnn::single_channel_deconv3x3(channels_last(x), decoder.deconv3->weight, decoder.deconv3->bias);
       },
       [&](const torch::Tensor& x) { return decoder.deconv3->forward(x); }, d2},
  };

  std::printf("batch %lld, %d threads, %d repeats; ms, fastest (median)\n", static_cast<long long>(n), threads, repeats);
  std::printf("%-28s %22s %22s %22s %22s\n", "layer", "vae_cnn forward", "vae_cnn backward", "LibTorch forward",
              "LibTorch backward");
  double totals[4] = {0, 0, 0, 0};
  for (const auto& row : rows) {
    // vae_cnn keeps activations channels-last from layer to layer; LibTorch's layers take NCHW.
    const auto [fast_forward, fast_backward] =
        time_layer(row.fast, channels_last(row.input), row.input.size(1) > 1, repeats);
    const auto [plain_forward, plain_backward] = time_layer(row.plain, row.input, row.input.size(1) > 1, repeats);
    const Timing timings[4] = {fast_forward, fast_backward, plain_forward, plain_backward};
    std::printf("%-28s", row.name.c_str());
    for (int k = 0; k < 4; ++k) {
      std::printf(" %12.2f (%7.2f)", timings[k].fastest_ms, timings[k].median_ms);
      totals[k] += timings[k].fastest_ms;
    }
    std::printf("\n");
  }
  std::printf("%-28s", "sum of fastest");
  for (double total : totals) std::printf(" %12.2f          ", total);
  std::printf("\n");
  return 0;
}
