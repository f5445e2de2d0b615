// A transposed convolution y = Wᵀ * x is, by definition, the gradient with respect to the input of
// the convolution that W performs from y's shape to x's shape. LibTorch 1.13 sends that gradient,
// and the two products its backward needs (a forward convolution for dx, a weight gradient for dW),
// to oneDNN, while its own transposed convolution runs im2col + GEMM, which takes about half of a
// training step's time (perf record and vae_cnn_layer_timings, docs/benchmarks.md).
#include "vae_cnn/kernels/transposed_conv.hpp"

#include <torch/csrc/autograd/custom_function.h>

#include <tuple>

#include "vae_cnn/kernels/bias_relu.hpp"
#include "vae_cnn/kernels/blocked_conv_backward.hpp"

namespace vae_cnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The fused pass needs a float channels-last activation on the CPU with a float bias; anything
// else takes the plain operators.
bool fusable(const torch::Tensor& activation, bool has_float_bias) {
  return has_float_bias && activation.device().is_cpu() && activation.scalar_type() == torch::kFloat &&
         activation.is_contiguous(at::MemoryFormat::ChannelsLast);
}

// Our own oneDNN primitives (blocked_conv_backward.hpp) take float channels-last tensors where the
// output is exactly stride times the input; the weight gradient has to be float too.
bool blocked_layouts_pay_off(const torch::Tensor& x, const torch::Tensor& grad_y, const torch::Tensor& weight,
                             std::int64_t stride, std::int64_t padding) {
  if (!blocked_conv_backward_available() || !fusable(x, true) || !fusable(grad_y, true) ||
      weight.scalar_type() != torch::kFloat) {
    return false;
  }
  const std::int64_t kernel = weight.size(2);
  auto fits = [&](std::int64_t in, std::int64_t out) {
    return out == in * stride && (out + 2 * padding - kernel) / stride + 1 == in;
  };
  return weight.size(3) == kernel && fits(x.size(2), grad_y.size(2)) && fits(x.size(3), grad_y.size(3));
}

class TransposedConvFunction : public torch::autograd::Function<TransposedConvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, std::int64_t stride, std::int64_t padding,
                               std::int64_t output_padding, bool relu) {
    const std::int64_t kernel = weight.size(2);
    auto output_side = [&](std::int64_t side) { return (side - 1) * stride - 2 * padding + kernel + output_padding; };
    // Only the shape of this tensor is read: it stands for the convolution's input.
    const auto output_like = torch::empty({x.size(0), weight.size(1), output_side(x.size(2)), output_side(x.size(3))},
                                          x.options().memory_format(x.suggest_memory_format()));
    auto y = std::get<0>(at::convolution_backward(x, output_like, weight, c10::nullopt, {stride, stride},
                                                  {padding, padding}, {1, 1}, false, {0, 0}, 1, {true, false, false}));
    const bool has_float_bias = bias.defined() && bias.scalar_type() == torch::kFloat;
    if (relu && fusable(y, has_float_bias)) {
      bias_relu_forward(y.data_ptr<float>(), bias.contiguous().data_ptr<float>(), y.numel() / y.size(1), y.size(1));
    } else {
      if (bias.defined()) y.add_(bias.view({1, -1, 1, 1}));
      if (relu) y.relu_();
    }
    // With a ReLU, its output tells the backward pass where the gradient flows.
    context->save_for_backward({x, weight, relu ? y : torch::Tensor()});
    context->saved_data["relu"] = relu;
    context->saved_data["stride"] = stride;
    context->saved_data["padding"] = padding;
    context->saved_data["has_bias"] = bias.defined();
    context->saved_data["has_float_bias"] = has_float_bias;
    return y;
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const std::int64_t stride = context->saved_data["stride"].toInt();
    const std::int64_t padding = context->saved_data["padding"].toInt();
    auto grad_y = grad_outputs[0].contiguous(x.suggest_memory_format());
    const bool has_bias = context->saved_data["has_bias"].toBool();
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (context->saved_data["relu"].toBool()) {
      const auto& y = saved[2];
      const bool has_float_bias = context->saved_data["has_float_bias"].toBool();
      if (fusable(y, has_float_bias) && fusable(grad_y, has_float_bias)) {
        auto grad_pre = torch::empty_like(grad_y);
        grad_bias = torch::empty({y.size(1)}, y.options().memory_format(at::MemoryFormat::Contiguous));
        bias_relu_backward(grad_y.data_ptr<float>(), y.data_ptr<float>(), grad_pre.data_ptr<float>(),
                           grad_bias.data_ptr<float>(), y.numel() / y.size(1), y.size(1));
        grad_y = grad_pre;
      } else {
        grad_y = grad_y * y.gt(0);
      }
    }
    const bool want_grad_x = context->needs_input_grad(0), want_grad_weight = context->needs_input_grad(1);
    if (blocked_layouts_pay_off(x, grad_y, weight, stride, padding)) {
      std::tie(grad_x, grad_weight) =
          blocked_transposed_conv_backward(x, grad_y, weight, stride, padding, want_grad_x, want_grad_weight);
    } else {
      if (want_grad_x) {
        grad_x = at::convolution(grad_y, weight, {}, {stride, stride}, {padding, padding}, {1, 1}, false, {0, 0}, 1);
      }
      if (want_grad_weight) {
        // The convolution's weight gradient with grad_y as its input and x as its output gradient.
        grad_weight = std::get<1>(at::convolution_backward(x, grad_y, weight, c10::nullopt, {stride, stride},
                                                           {padding, padding}, {1, 1}, false, {0, 0}, 1,
                                                           {false, true, false}));
      }
    }
    if (has_bias && !grad_bias.defined()) grad_bias = grad_y.sum({0, 2, 3});
    if (!context->needs_input_grad(2)) grad_bias = torch::Tensor();
    return {grad_x, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor transposed_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                const TransposedConvShape& shape, bool relu) {
  return TransposedConvFunction::apply(x, weight, bias, shape.stride, shape.padding, shape.output_padding, relu);
}

}  // namespace vae_cnn
