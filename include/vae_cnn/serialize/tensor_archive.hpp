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
/// must stay inside that storage. LibTorch checks neither: it reads a short record past its end and
/// crashes on an empty one. Throws DataError naming the file (`what` says what it should be), the
/// tensor and the fault.
///
/// `objects_as_dicts`: a TorchScript module archive (what LibTorch's serialize::OutputArchive
/// writes, and format-1 checkpoints embed) holds objects of classes its code/ files define; each
/// becomes the dict of its attributes, so that the archive is read as data, without the TorchScript
/// compiler (whose parser recurses as deep as the code nests) or LibTorch's unchecked reads. Without
/// it, an object is refused as in Python's torch.load(weights_only=True).
c10::IValue read_checked_archive(caffe2::serialize::PyTorchStreamReader& reader, const std::string& path,
                                 const std::string& what, bool objects_as_dicts = false);

}  // namespace vae_cnn
