// A transposed convolution y = Wᵀ * x is, by definition, the gradient with respect to the input of
// the convolution that W performs from y's shape to x's shape. LibTorch 1.13 sends that gradient,
// and the two products its backward needs (a forward convolution for dx, a weight gradient for dW),
// to oneDNN, while its own transposed convolution runs im2col + GEMM: about half of a training
// step's time went there (the profile in issue 6).
#include "vae_cnn/model/transposed_conv.hpp"

#include <torch/csrc/autograd/custom_function.h>

namespace vae_cnn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class TransposedConvFunction : public torch::autograd::Function<TransposedConvFunction> {
 public:
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, std::int64_t stride, std::int64_t padding,
                               std::int64_t output_padding) {
    const std::int64_t kernel = weight.size(2);
    auto output_side = [&](std::int64_t side) { return (side - 1) * stride - 2 * padding + kernel + output_padding; };
    // Only the shape of this tensor is read: it stands for the convolution's input.
    const auto output_like = torch::empty({x.size(0), weight.size(1), output_side(x.size(2)), output_side(x.size(3))},
                                          x.options());
    auto y = std::get<0>(at::convolution_backward(x, output_like, weight, c10::nullopt, {stride, stride},
                                                  {padding, padding}, {1, 1}, false, {0, 0}, 1, {true, false, false}));
    if (bias.defined()) y.add_(bias.view({1, -1, 1, 1}));
    context->save_for_backward({x, weight});
    context->saved_data["stride"] = stride;
    context->saved_data["padding"] = padding;
    context->saved_data["has_bias"] = bias.defined();
    return y;
  }

  static variable_list backward(AutogradContext* context, variable_list grad_outputs) {
    const auto saved = context->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const std::int64_t stride = context->saved_data["stride"].toInt();
    const std::int64_t padding = context->saved_data["padding"].toInt();
    const auto grad_y = grad_outputs[0].contiguous();
    torch::Tensor grad_x, grad_weight, grad_bias;
    if (context->needs_input_grad(0)) {
      grad_x = at::convolution(grad_y, weight, {}, {stride, stride}, {padding, padding}, {1, 1}, false, {0, 0}, 1);
    }
    if (context->needs_input_grad(1)) {
      // The convolution's weight gradient with grad_y as its input and x as its output gradient.
      grad_weight = std::get<1>(at::convolution_backward(x, grad_y, weight, c10::nullopt, {stride, stride},
                                                         {padding, padding}, {1, 1}, false, {0, 0}, 1,
                                                         {false, true, false}));
    }
    if (context->saved_data["has_bias"].toBool() && context->needs_input_grad(2)) grad_bias = grad_y.sum({0, 2, 3});
    return {grad_x, grad_weight, grad_bias, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor transposed_conv2d(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias,
                                const TransposedConvShape& shape) {
  return TransposedConvFunction::apply(x, weight, bias, shape.stride, shape.padding, shape.output_padding);
}

}  // namespace vae_cnn
