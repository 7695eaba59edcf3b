#include "train/npy.h"

#include <cstring>

#include "common/npy.h"

namespace medscribe::train {

StatusOr<torch::Tensor> ReadNpyFloat32(std::string_view b) {
  ASSIGN_OR_RETURN(const NpyFloat32Layout layout, ParseNpyFloat32(b));
  torch::Tensor t = torch::empty(layout.shape, torch::kFloat32);
  if (layout.count)
    std::memcpy(t.data_ptr<float>(), b.data() + layout.data_offset, layout.count * 4);
  return t;
}

}  // namespace medscribe::train
