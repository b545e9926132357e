#include "core/io/checkpoint.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/io/mapped_file.h"
#include "core/io/torch_zip.h"

namespace fs = std::filesystem;

namespace core {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool is_torch_file(const std::string& name) {
  return ends_with(name, ".bin") || ends_with(name, ".pt") || ends_with(name, ".pth") || ends_with(name, ".ckpt");
}

}  // namespace

int64_t StoredTensor::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

bool StoredTensor::contiguous() const {
  int64_t expect = 1;
  for (size_t d = shape.size(); d-- > 0;) {
    if (shape[d] != 1 && stride[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

const StoredTensor& Checkpoint::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw Error(ErrorCode::BadWeights, label_ + ": no tensor '" + name + "'");
  return it->second;
}

std::vector<std::string> Checkpoint::names() const {
  std::vector<std::string> out;
  out.reserve(tensors_.size());
  for (const auto& kv : tensors_) out.push_back(kv.first);
  return out;
}

uint64_t Checkpoint::stored_values() const {
  uint64_t n = 0;
  for (const auto& kv : tensors_) n += static_cast<uint64_t>(kv.second.numel());
  return n;
}

uint64_t Checkpoint::stored_bytes() const {
  uint64_t n = 0;
  for (const auto& kv : tensors_) n += static_cast<uint64_t>(kv.second.numel()) * dtype_size(kv.second.dtype);
  return n;
}

DType Checkpoint::stored_dtype() const {
  std::map<DType, uint64_t> by;
  for (const auto& kv : tensors_) {
    const DType t = kv.second.dtype;
    if (t == DType::F32 || t == DType::F16 || t == DType::BF16 || t == DType::F64)
      by[t] += static_cast<uint64_t>(kv.second.numel());
  }
  DType best = DType::F32;
  uint64_t most = 0;
  for (const auto& [t, n] : by)
    if (n > most) best = t, most = n;
  return best;
}

void Checkpoint::add_file(const fs::path& file, const std::vector<std::string>* expected) {
  const std::string label = file.u8string();
  std::vector<std::pair<std::string, StoredTensor>> found;
  std::shared_ptr<const MappedFile> map;
  if (ends_with(file.filename().u8string(), ".safetensors")) {
    auto st = SafeTensors::open(file);
    map = st.mapping();
    for (const auto& name : st.names()) {
      const auto& ti = st.info(name);
      StoredTensor t;
      t.dtype = ti.dtype;
      t.shape = ti.shape;
      t.stride.assign(ti.shape.size(), 1);
      for (size_t d = ti.shape.size(); d-- > 1;) t.stride[d - 1] = t.stride[d] * ti.shape[d];
      t.storage = st.data(name);
      t.storage_bytes = ti.end - ti.begin;
      found.emplace_back(name, std::move(t));
    }
  } else {
    map = std::make_shared<const MappedFile>(file);
    for (auto& pt : read_torch_zip(map->data(), map->size(), label)) {
      StoredTensor t;
      t.dtype = pt.dtype;
      t.shape = std::move(pt.shape);
      t.stride = std::move(pt.stride);
      t.offset = pt.offset;
      t.storage = pt.storage;
      t.storage_bytes = pt.storage_bytes;
      found.emplace_back(std::move(pt.name), std::move(t));
    }
  }
  std::set<std::string> listed;
  if (expected) listed.insert(expected->begin(), expected->end());
  std::vector<std::string> unlisted;
  for (auto& [name, t] : found) {
    if (expected && !listed.count(name)) {
      unlisted.push_back(name);
      continue;
    }
    t.file = label;
    if (!tensors_.emplace(name, std::move(t)).second)
      throw Error(ErrorCode::BadWeights, label_ + ": tensor '" + name + "' is stored twice (again in " + label + ")");
  }
  if (!unlisted.empty())
    throw Error(ErrorCode::BadWeights, label + ": holds " + std::to_string(unlisted.size()) +
                                           " tensor(s) that the index " + label_ + " does not list, e.g. '" +
                                           unlisted.front() + "'");
  maps_.push_back(std::move(map));
}

Checkpoint Checkpoint::open(const fs::path& file) {
  Checkpoint c;
  c.label_ = file.u8string();
  const std::string fname = file.filename().u8string();
  std::error_code ec;
  if (!fs::is_regular_file(file, ec)) throw Error(ErrorCode::Io, c.label_ + ": no such file");
  if (ends_with(fname, ".index.json")) {
    c.format_ = fname.find("safetensors") != std::string::npos ? "safetensors" : "pytorch";
    if (fs::file_size(file, ec) > (64u << 20))
      throw Error(ErrorCode::BadWeights, c.label_ + ": index file larger than 64 MB");
    std::ifstream in(file, std::ios::binary);
    nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
      throw Error(ErrorCode::BadWeights, c.label_ + ": not a shard index (a JSON object with a \"weight_map\")");
    std::map<std::string, std::vector<std::string>> by_shard;
    for (const auto& [name, shard] : j["weight_map"].items()) {
      if (!shard.is_string())
        throw Error(ErrorCode::BadWeights, c.label_ + ": shard of '" + name + "' is not a file name");
      const std::string s = shard.get<std::string>();
      if (s.empty() || s.find('/') != std::string::npos || s.find('\\') != std::string::npos || s == "." || s == "..")
        throw Error(ErrorCode::BadWeights,
                    c.label_ + ": shard '" + s + "' of '" + name + "' is not a plain file name in the model folder");
      by_shard[s].push_back(name);
    }
    if (by_shard.empty()) throw Error(ErrorCode::BadWeights, c.label_ + ": the index lists no tensors");
    for (const auto& [shard, names] : by_shard) {
      const fs::path p = file.parent_path() / fs::u8path(shard);
      if (!fs::is_regular_file(p, ec))
        throw Error(ErrorCode::BadWeights,
                    c.label_ + ": shard " + shard + " is missing (it holds '" + names.front() + "')");
    }
    for (const auto& [shard, names] : by_shard) c.add_file(file.parent_path() / fs::u8path(shard), &names);
    for (const auto& [shard, names] : by_shard)
      for (const auto& name : names)
        if (!c.contains(name))
          throw Error(ErrorCode::BadWeights, c.label_ + ": tensor '" + name + "' is not in its shard " + shard);
  } else {
    c.format_ = ends_with(fname, ".safetensors") ? "safetensors" : "pytorch";
    c.add_file(file, nullptr);
  }
  c.keep_ = std::make_shared<std::vector<std::shared_ptr<const MappedFile>>>(c.maps_);
  return c;
}

Checkpoint Checkpoint::from_folder(const fs::path& dir) {
  std::error_code ec;
  for (const char* name :
       {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (fs::is_regular_file(dir / name, ec)) return open(dir / name);
  }
  std::vector<fs::path> st, pt;
  std::string other;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().u8string();
    if (!e.is_regular_file(ec)) continue;
    if (ends_with(n, ".safetensors"))
      st.push_back(e.path());
    else if (is_torch_file(n))
      pt.push_back(e.path());
    else if (ends_with(n, ".h5") || ends_with(n, ".msgpack") || ends_with(n, ".onnx") || ends_with(n, ".gguf"))
      other = n;
  }
  if (st.size() == 1) return open(st.front());
  if (st.empty() && pt.size() == 1) return open(pt.front());
  if (st.size() + pt.size() > 1)
    throw Error(ErrorCode::BadWeights, dir.u8string() + ": several weight files (" +
                                           (st.empty() ? pt : st).front().filename().u8string() +
                                           ", ...) and no model.safetensors.index.json or pytorch_model.bin.index.json "
                                           "saying which tensor is where");
  if (!other.empty())
    throw Error(ErrorCode::BadWeights,
                dir.u8string() + ": only " + other +
                    " found; this app reads PyTorch weights (model.safetensors or pytorch_model.bin)");
  throw Error(ErrorCode::BadWeights,
              dir.u8string() + ": no weights in the model folder (model.safetensors or pytorch_model.bin)");
}

}  // namespace core
