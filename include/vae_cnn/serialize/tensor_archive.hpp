// The pickle and tensors of a torch.save / torch::pickle_save archive, read with every tensor
// checked against the record that holds its data.
#pragma once

#include "vae_cnn/torch_api.hpp"

#include <caffe2/serialize/inline_container.h>

#include <string>

namespace vae_cnn {

/// Unpickles the archive's data.pkl with its tensors. Before that, the pickle's framing is checked
/// (pickle_framing.hpp); after it, every tensor: the record behind its storage must hold exactly the
/// bytes the pickle declares for it (elements × element size), and its offset, sizes and strides
/// must stay inside that storage. LibTorch checks neither: a short record was read past its end, an
/// empty one crashed. Throws DataError naming the file (`what` says what it should be), the tensor
/// and the fault.
c10::IValue read_checked_archive(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path,
                                 const std::string& what);

}  // namespace vae_cnn
