#pragma once
// A model's weights as published: one safetensors file, one PyTorch `.bin`
// (read by the weights-only machine of torch_zip.h), or shards of either with
// their index. Every file is memory-mapped and checked; tensors are views
// (dtype, shape, strides) over the mapped bytes. The torch bridge is
// core/io/safetensors_torch.h.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/io/safetensors.h"

namespace core {

class MappedFile;

struct StoredTensor {
  DType dtype = DType::F32;
  std::vector<int64_t> shape, stride;  // stride in elements
  int64_t offset = 0;                  // elements from the start of the storage
  const uint8_t* storage = nullptr;
  uint64_t storage_bytes = 0;
  std::string file;  // the file that holds it, for messages
  int64_t numel() const;
  bool contiguous() const;
};

class Checkpoint {
 public:
  // The weights of a model folder. Order of preference: model.safetensors,
  // model.safetensors.index.json, pytorch_model.bin, pytorch_model.bin.index.json,
  // then a lone *.safetensors / *.bin / *.pt / *.pth. Throws core::Error naming
  // the folder when there is none.
  static Checkpoint from_folder(const std::filesystem::path& dir);
  // One file: .safetensors, a PyTorch zip (.bin/.pt/.pth), or an index .json.
  static Checkpoint open(const std::filesystem::path& file);

  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const StoredTensor& info(const std::string& name) const;  // throws if absent
  std::vector<std::string> names() const;                   // sorted
  size_t size() const { return tensors_.size(); }
  const std::string& label() const { return label_; }    // the file or index, for messages
  const std::string& format() const { return format_; }  // "safetensors" or "pytorch"
  size_t files() const { return maps_.size(); }
  uint64_t stored_values() const;  // numel summed over the tensors (a tied alias counts again)
  uint64_t stored_bytes() const;
  DType stored_dtype() const;  // the floating-point type most of the values have
  // Keeps every mapping alive for views handed out elsewhere.
  std::shared_ptr<const void> keep_alive() const { return keep_; }

 private:
  void add_file(const std::filesystem::path& file, const std::vector<std::string>* expected);
  std::string label_, format_;
  std::vector<std::shared_ptr<const MappedFile>> maps_;
  std::shared_ptr<const void> keep_;
  std::map<std::string, StoredTensor> tensors_;
};

}  // namespace core
