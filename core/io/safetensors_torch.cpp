#include "core/io/safetensors_torch.h"

#include <cstring>

#include "core/error.h"
#include "core/io/mapped_file.h"

namespace core {

torch::ScalarType to_torch(DType t) {
  switch (t) {
    case DType::F64:
      return torch::kFloat64;
    case DType::F32:
      return torch::kFloat32;
    case DType::F16:
      return torch::kFloat16;
    case DType::BF16:
      return torch::kBFloat16;
    case DType::I64:
      return torch::kInt64;
    case DType::I32:
      return torch::kInt32;
    case DType::I16:
      return torch::kInt16;
    case DType::I8:
      return torch::kInt8;
    case DType::U8:
      return torch::kUInt8;
    case DType::BOOL:
      return torch::kBool;
  }
  return torch::kFloat32;
}

DType from_torch(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat64:
      return DType::F64;
    case torch::kFloat32:
      return DType::F32;
    case torch::kFloat16:
      return DType::F16;
    case torch::kBFloat16:
      return DType::BF16;
    case torch::kInt64:
      return DType::I64;
    case torch::kInt32:
      return DType::I32;
    case torch::kInt16:
      return DType::I16;
    case torch::kInt8:
      return DType::I8;
    case torch::kUInt8:
      return DType::U8;
    case torch::kBool:
      return DType::BOOL;
    default:
      break;
  }
  throw Error(ErrorCode::BadArgument, std::string("cannot store dtype ") + c10::toString(t) + " in safetensors");
}

torch::Tensor tensor_view(const SafeTensors& st, const std::string& name) {
  const auto& ti = st.info(name);
  auto keep = st.mapping();
  auto* ptr = const_cast<uint8_t*>(st.data(name));
  if (ti.numel() == 0) return torch::empty(ti.shape, torch::TensorOptions().dtype(to_torch(ti.dtype)));
  // from_blob needs element alignment; safetensors only guarantees it when
  // the header is padded, so copy the rare unaligned tensor.
  const size_t item = dtype_size(ti.dtype);
  if (reinterpret_cast<uintptr_t>(ptr) % item != 0) {
    auto t = torch::empty(ti.shape, torch::TensorOptions().dtype(to_torch(ti.dtype)));
    std::memcpy(t.data_ptr(), ptr, ti.end - ti.begin);
    return t;
  }
  return torch::from_blob(
      ptr, ti.shape, [keep](void*) mutable { keep.reset(); }, torch::TensorOptions().dtype(to_torch(ti.dtype)));
}

torch::Tensor tensor_as(const SafeTensors& st, const std::string& name, torch::ScalarType as) {
  auto v = tensor_view(st, name);
  return v.scalar_type() == as ? v : v.to(as);
}

torch::Tensor tensor_view(const Checkpoint& ck, const std::string& name) {
  const auto& t = ck.info(name);
  const auto opts = torch::TensorOptions().dtype(to_torch(t.dtype));
  if (t.numel() == 0) return torch::empty(t.shape, opts);
  const size_t item = dtype_size(t.dtype);
  auto* base = const_cast<uint8_t*>(t.storage);
  const int64_t storage_numel = static_cast<int64_t>(t.storage_bytes / item);
  // from_blob needs element alignment: copy the rare unaligned storage.
  if (reinterpret_cast<uintptr_t>(base) % item != 0) {
    auto s = torch::empty({storage_numel}, opts);
    std::memcpy(s.data_ptr(), base, static_cast<size_t>(storage_numel) * item);
    return s.as_strided(t.shape, t.stride, t.offset);
  }
  auto keep = ck.keep_alive();
  auto storage = torch::from_blob(
      base, {storage_numel}, [keep](void*) mutable { keep.reset(); }, opts);
  return storage.as_strided(t.shape, t.stride, t.offset);
}

void save_tensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                  const std::map<std::string, std::string>& metadata) {
  std::vector<torch::Tensor> keep;
  std::vector<TensorToWrite> rows;
  keep.reserve(tensors.size());
  for (const auto& [name, t] : tensors) {
    keep.push_back(t.detach().to(torch::kCPU).contiguous());
    const auto& c = keep.back();
    rows.push_back({name, from_torch(c.scalar_type()), c.sizes().vec(), c.data_ptr()});
  }
  write_safetensors(path, rows, metadata);
}

}  // namespace core
