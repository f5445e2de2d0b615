// Bias add and ReLU fused into one pass over a channels-last activation, forward and backward.
#pragma once

#include <cstdint>

namespace vae_cnn {

/// y[p][c] = max(y[p][c] + bias[c], 0) for `pixels` rows of `channels` floats, in place.
void bias_relu_forward(float* y, const float* bias, std::int64_t pixels, std::int64_t channels);

/// From the ReLU's output y and the upstream gradient: grad_pre = grad where y > 0, else 0, and
/// grad_bias[c] = Σ_p grad_pre[p][c]. The sum runs over fixed blocks in a fixed order, so the result
/// does not depend on the thread count.
void bias_relu_backward(const float* grad, const float* y, float* grad_pre, float* grad_bias, std::int64_t pixels,
                        std::int64_t channels);

}  // namespace vae_cnn
