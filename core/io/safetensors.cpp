#include "core/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>

#include "core/error.h"
#include "core/io/mapped_file.h"

namespace core {

namespace {

struct DTypeRow {
  DType t;
  const char* name;
  size_t size;
};
constexpr DTypeRow kDTypes[] = {
    {DType::F64, "F64", 8}, {DType::F32, "F32", 4},   {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::I64, "I64", 8}, {DType::I32, "I32", 4},   {DType::I16, "I16", 2}, {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},   {DType::BOOL, "BOOL", 1},
};

[[noreturn]] void fail(const std::string& label, const std::string& what) {
  throw Error(ErrorCode::BadSafetensors, label + ": " + what);
}

// One pass over the header text before any JSON is built. The format nests
// three levels deep (header, tensor entry, shape or offsets), its innermost
// lists are short and a model has at most some thousands of tensors; anything
// else is refused here, so a hostile header can neither build a DOM dozens of
// times its size (100 MB of '[' took 3.9 GB) nor keep the parser busy. (The
// previous guard, a callback of nlohmann's parser, rescanned the whole header
// object at the end of every entry: 1.7 million empty tensors in a 95 MB header
// still ran after ten minutes.) Malformed JSON is left to the parser.
void check_header_shape(const char* s, size_t n, const std::string& label) {
  constexpr int kMaxDepth = 3;
  constexpr size_t kMaxInner = 64;         // entries of one shape (rank) or data_offsets
  constexpr size_t kMaxTensors = 1 << 16;  // entries of the header object
  constexpr size_t kMaxValues = 1 << 21;   // every key and value of the header
  int depth = 0;
  bool in_string = false, escaped = false;
  size_t inner = 0, tensors = 0, values = 0;
  for (size_t i = 0; i < n; ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    switch (c) {
      case '"':
        in_string = true;
        break;
      case '{':
      case '[':
        if (++depth > kMaxDepth) fail(label, "header is nested deeper than a safetensors header");
        if (depth == kMaxDepth) inner = 1;
        ++values;
        break;
      case '}':
      case ']':
        --depth;
        break;
      case ',':
        if (depth == kMaxDepth && ++inner > kMaxInner)
          fail(label, "header has a shape or offset list longer than " + std::to_string(kMaxInner) + " entries");
        ++values;
        break;
      case ':':
        if (depth == 1 && ++tensors > kMaxTensors)
          fail(label, "header lists more than " + std::to_string(kMaxTensors) + " tensors");
        ++values;
        break;
      default:
        break;
    }
    if (values > kMaxValues)
      fail(label, "header has more than " + std::to_string(kMaxValues) + " entries, far more than a model's");
  }
}

}  // namespace

const char* dtype_name(DType t) {
  for (const auto& r : kDTypes)
    if (r.t == t) return r.name;
  return "?";
}
size_t dtype_size(DType t) {
  for (const auto& r : kDTypes)
    if (r.t == t) return r.size;
  return 0;
}
bool dtype_from_name(const std::string& s, DType* out) {
  for (const auto& r : kDTypes)
    if (s == r.name) {
      *out = r.t;
      return true;
    }
  return false;
}

int64_t TensorInfo::numel() const {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

SafeTensors SafeTensors::open(const std::filesystem::path& path) {
  auto map = std::make_shared<const MappedFile>(path);
  SafeTensors st = parse(map->data(), map->size(), path.u8string());
  st.map_ = std::move(map);
  return st;
}

SafeTensors SafeTensors::parse(const uint8_t* data, size_t size, const std::string& label) {
  SafeTensors st;
  st.label_ = label;
  if (size < 8) fail(label, "file too short for a safetensors header (" + std::to_string(size) + " bytes)");
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | data[i];
  if (n > kMaxHeaderBytes) fail(label, "header length " + std::to_string(n) + " exceeds the 100 MiB limit");
  if (n > size - 8)
    fail(label, "header length " + std::to_string(n) + " is larger than the file (" + std::to_string(size) +
                    " bytes): truncated or not a safetensors file");
  if (n < 2) fail(label, "header too short to be JSON");
  const char* hbeg = reinterpret_cast<const char*>(data + 8);
  check_header_shape(hbeg, static_cast<size_t>(n), label);
  nlohmann::json header;
  try {
    header = nlohmann::json::parse(hbeg, hbeg + n);
  } catch (const nlohmann::json::exception& e) {
    fail(label, std::string("header is not valid JSON (") + e.what() + ")");
  }
  if (!header.is_object()) fail(label, "header is not a JSON object");

  const size_t data_len = size - 8 - static_cast<size_t>(n);
  std::vector<std::pair<std::string, TensorInfo>> entries;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const auto& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail(label, "__metadata__ is not an object");
      for (auto m = v.begin(); m != v.end(); ++m) {
        if (!m.value().is_string()) fail(label, "__metadata__ value '" + m.key() + "' is not a string");
        st.metadata_[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    if (!v.is_object()) fail(label, "entry for tensor '" + name + "' is not an object");
    TensorInfo ti{};
    auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string()) fail(label, "tensor '" + name + "' has no dtype");
    if (!dtype_from_name(dt->get<std::string>(), &ti.dtype))
      fail(label, "tensor '" + name + "' has unknown dtype '" + dt->get<std::string>() + "'");
    auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array()) fail(label, "tensor '" + name + "' has no shape array");
    constexpr uint64_t kLimit = uint64_t{1} << 60;
    uint64_t numel = 1;
    for (const auto& d : *sh) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0)
        fail(label, "tensor '" + name + "' has a shape entry that is not a non-negative integer");
      ti.shape.push_back(d.get<int64_t>());
      const auto dim = static_cast<uint64_t>(ti.shape.back());
      if (dim != 0 && numel > kLimit / dim) fail(label, "tensor '" + name + "' has an absurd shape");
      numel *= dim;
    }
    auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
      fail(label, "tensor '" + name + "' has no valid data_offsets [begin, end]");
    const uint64_t b = (*off)[0].get<uint64_t>(), e = (*off)[1].get<uint64_t>();
    if (b > e) fail(label, "tensor '" + name + "' has data_offsets with begin > end");
    if (e > data_len)
      fail(label, "tensor '" + name + "' data_offsets [" + std::to_string(b) + ", " + std::to_string(e) +
                      "] out of bounds (data section is " + std::to_string(data_len) + " bytes)");
    const uint64_t want = numel * dtype_size(ti.dtype);
    if (want != e - b)
      fail(label, "tensor '" + name + "' byte length " + std::to_string(e - b) + " does not match shape x item size (" +
                      std::to_string(want) + ")");
    ti.begin = static_cast<size_t>(b);
    ti.end = static_cast<size_t>(e);
    entries.emplace_back(name, std::move(ti));
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    return a.second.begin < b.second.begin || (a.second.begin == b.second.begin && a.second.end < b.second.end);
  });
  size_t expected = 0;
  for (const auto& [name, ti] : entries) {
    if (ti.begin < expected) fail(label, "tensor '" + name + "' overlaps the previous tensor's data");
    if (ti.begin > expected)
      fail(label, "gap in the data section before tensor '" + name + "' (unsorted or padded offsets)");
    expected = ti.end;
  }
  if (expected != data_len)
    fail(label, "data section has " + std::to_string(data_len - expected) + " bytes not covered by any tensor");
  st.data_section_ = data + 8 + n;
  for (auto& [name, ti] : entries) {
    st.order_.push_back(name);
    st.index_.emplace(name, std::move(ti));
  }
  return st;
}

const TensorInfo& SafeTensors::info(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(ErrorCode::BadWeights, label_ + ": no tensor named '" + name + "'");
  return it->second;
}

const uint8_t* SafeTensors::data(const std::string& name) const { return data_section_ + info(name).begin; }

std::vector<std::string> SafeTensors::names() const { return order_; }

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorToWrite*> sorted;
  for (const auto& t : tensors) sorted.push_back(&t);
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto* t : sorted) {
    if (t->name == "__metadata__") throw Error(ErrorCode::BadArgument, "tensor name '__metadata__' is reserved");
    int64_t numel = 1;
    for (auto d : t->shape) numel *= d;
    const size_t bytes = static_cast<size_t>(numel) * dtype_size(t->dtype);
    header[t->name] = {
        {"dtype", dtype_name(t->dtype)}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  while ((8 + h.size()) % 8) h.push_back(' ');
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw Error(ErrorCode::Io, tmp.u8string() + ": cannot write");
    uint8_t len[8];
    uint64_t n = h.size();
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(n >> (8 * i));
    f.write(reinterpret_cast<const char*>(len), 8);
    f.write(h.data(), static_cast<std::streamsize>(h.size()));
    for (const auto* t : sorted) {
      int64_t numel = 1;
      for (auto d : t->shape) numel *= d;
      f.write(static_cast<const char*>(t->data), static_cast<std::streamsize>(numel * dtype_size(t->dtype)));
    }
    if (!f) throw Error(ErrorCode::Io, tmp.u8string() + ": write failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw Error(ErrorCode::Io, path.u8string() + ": cannot replace (" + ec.message() + ")");
}

}  // namespace core
