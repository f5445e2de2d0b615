// The input gradient of a transposed convolution is the ordinary convolution of grad_y with the
// same weights (read as OIHW: O = Cin, I = Cout); its weight gradient is that convolution's weight
// gradient with grad_y as the source and x as the destination's gradient.
#include "vae_cnn/kernels/blocked_conv_backward.hpp"

#ifdef VAE_CNN_HAVE_DNNL

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <tuple>

namespace vae_cnn {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;
using Dims = memory::dims;

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

struct Shape {
  std::int64_t images, in_channels, out_channels, height, width, kernel, stride, padding;
  auto tied() const { return std::tie(images, in_channels, out_channels, height, width, kernel, stride, padding); }
  bool operator<(const Shape& other) const { return tied() < other.tied(); }
  // The convolution runs from grad_y's shape to x's shape.
  Dims source() const { return {images, out_channels, height * stride, width * stride}; }
  Dims destination() const { return {images, in_channels, height, width}; }
  Dims weights() const { return {in_channels, out_channels, kernel, kernel}; }
};

struct Primitives {
  dnnl::convolution_forward::primitive_desc forward_desc;
  dnnl::convolution_backward_weights::primitive_desc weights_desc;
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_weights weights;
};

std::unique_ptr<Primitives> create(const Shape& s) {
  const auto f32 = memory::data_type::f32;
  // format_tag::any lets oneDNN pick its fastest (blocked) layouts.
  const memory::desc source(s.source(), f32, Tag::any), destination(s.destination(), f32, Tag::any),
      weights(s.weights(), f32, Tag::any);
  const Dims strides{s.stride, s.stride}, padding{s.padding, s.padding};
  auto forward_desc = dnnl::convolution_forward::primitive_desc(
      {dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, source, weights, destination, strides,
       padding, padding},
      cpu_engine());
  auto weights_desc = dnnl::convolution_backward_weights::primitive_desc(
      {dnnl::algorithm::convolution_direct, source, weights, destination, strides, padding, padding}, cpu_engine(),
      forward_desc);
  return std::unique_ptr<Primitives>(new Primitives{forward_desc, weights_desc, dnnl::convolution_forward(forward_desc),
                                                    dnnl::convolution_backward_weights(weights_desc)});
}

// Created once per shape: creating a primitive descriptor dispatches over oneDNN's
// implementations, far too slow to repeat every step.
Primitives& primitives_for(const Shape& shape) {
  static std::mutex mutex;
  static std::map<Shape, std::unique_ptr<Primitives>> cache;
  const std::lock_guard<std::mutex> lock(mutex);
  auto& entry = cache[shape];
  if (!entry) entry = create(shape);
  return *entry;
}

memory wrap(const torch::Tensor& tensor, const Dims& dims, Tag tag) {
  return memory({dims, memory::data_type::f32, tag}, cpu_engine(), tensor.data_ptr());
}

// `user` in the layout `wanted`: itself when it already is, else a reordered copy.
memory in_layout(memory user, const memory::desc& wanted, dnnl::stream& stream) {
  if (user.get_desc() == wanted) return user;
  memory converted(wanted, cpu_engine());
  dnnl::reorder(user, converted).execute(stream, user, converted);
  return converted;
}

}  // namespace

bool blocked_conv_backward_available() { return true; }

std::pair<torch::Tensor, torch::Tensor> blocked_transposed_conv_backward(const torch::Tensor& x,
                                                                         const torch::Tensor& grad_y,
                                                                         const torch::Tensor& weight,
                                                                         std::int64_t stride, std::int64_t padding,
                                                                         bool want_grad_x, bool want_grad_weight) {
  const auto channels_last = at::MemoryFormat::ChannelsLast;
  TORCH_CHECK(x.is_contiguous(channels_last) && grad_y.is_contiguous(channels_last),
              "blocked_transposed_conv_backward: x and grad_y must be channels-last");
  const Shape shape{x.size(0), x.size(1), weight.size(1), x.size(2), x.size(3), weight.size(2), stride, padding};
  TORCH_CHECK(grad_y.size(2) == x.size(2) * stride && grad_y.size(3) == x.size(3) * stride,
              "blocked_transposed_conv_backward: grad_y must be stride times x's size");
  Primitives& p = primitives_for(shape);
  dnnl::stream stream(cpu_engine());
  const auto weight_values = weight.detach().contiguous();
  memory grad_y_user = wrap(grad_y, shape.source(), Tag::nhwc);
  memory source = in_layout(grad_y_user, p.forward_desc.src_desc(), stream);
  torch::Tensor grad_x, grad_weight;
  if (want_grad_x) {
    grad_x = torch::empty(shape.destination(), x.options().memory_format(channels_last));
    memory grad_x_user = wrap(grad_x, shape.destination(), Tag::nhwc);
    memory weights = in_layout(wrap(weight_values, shape.weights(), Tag::oihw), p.forward_desc.weights_desc(), stream);
    const bool direct = p.forward_desc.dst_desc() == grad_x_user.get_desc();
    memory destination = direct ? grad_x_user : memory(p.forward_desc.dst_desc(), cpu_engine());
    p.forward.execute(stream, {{DNNL_ARG_SRC, source}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, destination}});
    if (!direct) dnnl::reorder(destination, grad_x_user).execute(stream, destination, grad_x_user);
  }
  if (want_grad_weight) {
    grad_weight = torch::empty(shape.weights(), weight.options());
    memory grad_weight_user = wrap(grad_weight, shape.weights(), Tag::oihw);
    memory weights_source = p.weights_desc.src_desc() == source.get_desc()
                                      ? source
                                      : in_layout(grad_y_user, p.weights_desc.src_desc(), stream);
    memory x_gradient = in_layout(wrap(x, shape.destination(), Tag::nhwc), p.weights_desc.diff_dst_desc(), stream);
    const bool direct = p.weights_desc.diff_weights_desc() == grad_weight_user.get_desc();
    memory result = direct ? grad_weight_user : memory(p.weights_desc.diff_weights_desc(), cpu_engine());
    p.weights.execute(stream,
                      {{DNNL_ARG_SRC, weights_source}, {DNNL_ARG_DIFF_DST, x_gradient}, {DNNL_ARG_DIFF_WEIGHTS, result}});
    if (!direct) dnnl::reorder(result, grad_weight_user).execute(stream, result, grad_weight_user);
  }
  stream.wait();
  return {grad_x, grad_weight};
}

}  // namespace vae_cnn

#else  // without oneDNN headers: LibTorch's operators do the work (transposed_conv.cpp)

namespace vae_cnn {

bool blocked_conv_backward_available() { return false; }

std::pair<torch::Tensor, torch::Tensor> blocked_transposed_conv_backward(const torch::Tensor&, const torch::Tensor&,
                                                                         const torch::Tensor&, std::int64_t,
                                                                         std::int64_t, bool, bool) {
  TORCH_CHECK(false, "this build of vae_cnn has no oneDNN primitives of its own");
}

}  // namespace vae_cnn

#endif
