#pragma once
// Helpers shared by the Qt Test executables.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

#include "core/io/safetensors.h"

namespace testutil {

inline std::filesystem::path golden_dir() {
  if (const char* env = std::getenv("AUTOGLM_GOLDEN_DIR")) return env;
  return AUTOGLM_GOLDEN_DIR;
}

inline std::filesystem::path blip_dir() { return golden_dir() / "blip"; }

inline bool have_golden() { return std::filesystem::exists(blip_dir() / "manifest.json"); }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// ---- image bytes -----------------------------------------------------------

inline uint32_t crc32(const std::string& bytes) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return ~c;
}

inline std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

inline std::string png_chunk(const std::string& type, const std::string& data) {
  return be32(uint32_t(data.size())) + type + data + be32(crc32(type + data));
}

// A well-formed PNG (valid CRCs) whose header declares w x h RGB pixels, with a
// tiny IDAT: a decompression bomb that must be refused from its header.
inline std::string png_declaring(uint32_t w, uint32_t h) {
  const std::string ihdr = be32(w) + be32(h) + std::string("\x08\x02\x00\x00\x00", 5);
  const std::string idat("\x78\x9c\x63\x00\x00\x00\x01\x00\x01", 9);
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", idat) +
         png_chunk("IEND", "");
}

// Inserts an Exif APP1 segment (orientation tag only) right after the JPEG SOI.
inline std::string with_exif_orientation(const std::string& jpeg, int orientation, bool little_endian = false) {
  auto u16 = [&](uint16_t v) {
    return little_endian ? std::string{char(v), char(v >> 8)} : std::string{char(v >> 8), char(v)};
  };
  auto u32 = [&](uint32_t v) { return u16(little_endian ? v : v >> 16) + u16(little_endian ? v >> 16 : v); };
  std::string tiff = little_endian ? std::string("II") : std::string("MM");
  tiff += u16(42) + u32(8);  // header, IFD0 at offset 8
  tiff += u16(1);            // one entry
  tiff += u16(0x0112) + u16(3) + u32(1) + u16(uint16_t(orientation)) + u16(0);
  tiff += u32(0);  // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const uint16_t len = uint16_t(payload.size() + 2);
  const std::string app1 = std::string("\xFF\xE1", 2) + char(len >> 8) + char(len & 0xFF) + payload;
  return jpeg.substr(0, 2) + app1 + jpeg.substr(2);
}

// ---- broken model folders ----------------------------------------------------

// A tensor of a safetensors file as raw bytes (no libtorch needed).
struct RawTensor {
  std::string name;
  core::DType dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

inline std::vector<RawTensor> read_tensors(const std::filesystem::path& file) {
  const auto st = core::SafeTensors::open(file);
  std::vector<RawTensor> out;
  for (const auto& n : st.names()) {
    const auto& ti = st.info(n);
    out.push_back({n, ti.dtype, ti.shape, std::string(reinterpret_cast<const char*>(st.data(n)), ti.end - ti.begin)});
  }
  return out;
}

inline void write_tensors(const std::filesystem::path& file, const std::vector<RawTensor>& ts) {
  std::vector<core::TensorToWrite> rows;
  for (const auto& t : ts) rows.push_back({t.name, t.dtype, t.shape, t.bytes.data()});
  core::write_safetensors(file, rows);
}

// Writes a safetensors file from a header object and the data section as given,
// without checking that they agree (for headers that lie).
inline void write_raw_safetensors(const std::filesystem::path& file, const std::string& header,
                                  const std::string& data) {
  std::string h = header;
  while ((8 + h.size()) % 8) h.push_back(' ');
  std::string len(8, '\0');
  for (int i = 0; i < 8; ++i) len[size_t(i)] = char(uint64_t(h.size()) >> (8 * i));
  write_file(file, len + h + data);
}

// The malformations break_model_folder() makes, each with a substring of the
// message Engine::load must give (and the error code's name).
struct BrokenModel {
  const char* kind;
  const char* message;
  const char* code;  // core::error_code_name
};
// Rows made from the golden checkpoints (skipped where ../shared/golden is absent).
// What the golden hostile payloads would create, were they ever run.
inline const char* kGoldenPickleMarker = "/tmp/PWNED_AUTOGLM_PICKLE";
inline bool needs_golden(const std::string& kind) {
  return kind.rfind("hostile-", 0) == 0 || kind.rfind("index-", 0) == 0;
}
inline const std::vector<BrokenModel>& broken_models() {
  static const std::vector<BrokenModel> rows = {
      {"missing-folder", "not a model folder", "io"},
      {"file-not-folder", "not a model folder", "io"},
      {"empty-folder", "no config.json", "bad_config"},
      {"no-config", "no config.json", "bad_config"},
      {"bad-json", "not valid JSON", "bad_config"},
      {"negative-size", "out of range", "bad_config"},
      {"huge-sizes", "describes a model of at least", "bad_weights"},
      {"unknown-type", "unknown model_type", "bad_config"},
      {"no-weights", "no weights in the model folder", "bad_weights"},
      {"pickle-only", "legacy (pre-1.6, non-zip) PyTorch format", "pickle_refused"},
      // The published-checkpoint hostile set (golden/pickle/hostile): what each refusal must name.
      {"hostile-os_system", "GLOBAL posix.system", "pickle_refused"},
      {"hostile-os_module_system", "GLOBAL os.system", "pickle_refused"},
      {"hostile-builtins_eval", "GLOBAL builtins.eval", "pickle_refused"},
      {"hostile-torch_namespace_gadget", "GLOBAL torch._utils._import_dotted_name", "pickle_refused"},
      {"hostile-subprocess_newobj", "GLOBAL subprocess.Popen", "pickle_refused"},
      {"hostile-build_object", "GLOBAL argparse.Namespace", "pickle_refused"},
      {"hostile-persid_not_storage", "BINPERSID", "pickle_refused"},
      {"hostile-whole_module", "GLOBAL torch.nn.modules.linear.Linear", "pickle_refused"},
      {"hostile-stride_lies", "'vision_model.embeddings.position_embedding'", "pickle_refused"},
      {"hostile-wrong_byteorder", "big-endian", "bad_weights"},
      {"hostile-compressed_entry", "compressed zip entry archive/data.pkl (method 8, deflate)", "bad_weights"},
      {"hostile-zip_size_lies", "archive/data/0 extends past the end of the file", "bad_weights"},
      {"hostile-truncated", "truncated or corrupt zip", "bad_weights"},
      {"hostile-legacy_format", "legacy (pre-1.6, non-zip) PyTorch format", "pickle_refused"},
      {"hostile-legacy_tar", "legacy tar checkpoint", "pickle_refused"},
      {"index-missing-shard", "is missing", "bad_weights"},
      {"index-unlisted-tensor", "does not list", "bad_weights"},
      {"index-outside-folder", "not a plain file name", "bad_weights"},
      {"truncated-header", "larger than the file", "bad_safetensors"},
      {"truncated-data", "out of bounds", "bad_safetensors"},
      {"lying-offsets", "out of bounds", "bad_safetensors"},
      {"lying-shape", "does not match shape x item size", "bad_safetensors"},
      {"many-tensors", "more than 65536 tensors", "bad_safetensors"},
      {"missing-tensor", "missing tensor 'text_decoder.cls.predictions.bias'", "bad_weights"},
      {"extra-tensor", "unexpected tensor 'surprise.weight'", "bad_weights"},
      {"wrong-shape", "'vision_model.post_layernorm.weight' has shape [3]", "bad_weights"},
      {"nan-weights", "contains NaN or infinity", "bad_weights"},
      {"no-vocab", "vocab.txt", "bad_vocab"},
      {"empty-vocab", "the vocabulary is empty", "bad_vocab"},
      {"bad-calibration", "calibration.json: not valid", "bad_config"},
      {"huge-calibration", "too large for a calibration file", "bad_config"},
  };
  return rows;
}

// Makes `dir` a copy of the good model folder `good` with one malformation
// (see broken_models()). "pickle-only" leaves only a pytorch_model.bin whose
// unpickling would run `touch marker`: it must never be opened.
inline void break_model_folder(const std::filesystem::path& good, const std::filesystem::path& dir,
                               const std::string& kind, const std::filesystem::path& marker = "/tmp/pwned") {
  namespace fs = std::filesystem;
  using nlohmann::json;
  if (kind == "missing-folder") return;
  if (needs_golden(kind) && !std::filesystem::exists(golden_dir() / "pickle")) return;
  if (kind.rfind("hostile-", 0) == 0) {  // a golden BLIP folder whose only weights are the hostile file
    fs::copy(golden_dir() / "pickle" / "hostile" / kind.substr(8), dir, fs::copy_options::recursive);
    return;
  }
  if (kind.rfind("index-", 0) == 0) {  // the two-shard captioning model with a lying index
    fs::copy(golden_dir() / "pickle" / "caption_st_sharded", dir, fs::copy_options::recursive);
    const fs::path index = dir / "model.safetensors.index.json";
    auto j = json::parse(read_file(index));
    auto& map = j["weight_map"];
    const std::string first = map.begin().key();
    if (kind == "index-missing-shard") map[first] = "model-00003-of-00002.safetensors";
    if (kind == "index-unlisted-tensor") map.erase(first);
    if (kind == "index-outside-folder") map[first] = "../../etc/passwd";
    write_file(index, j.dump());
    return;
  }
  if (kind == "file-not-folder") {
    write_file(dir, "not a folder");
    return;
  }
  fs::create_directories(dir);
  if (kind == "empty-folder") return;
  for (const auto& e : fs::directory_iterator(good))
    if (e.is_regular_file()) fs::copy_file(e.path(), dir / e.path().filename(), fs::copy_options::overwrite_existing);
  const fs::path weights = dir / "model.safetensors";
  auto rewrite_config = [&](const std::function<void(json&)>& f) {
    auto j = json::parse(read_file(dir / "config.json"));
    f(j);
    write_file(dir / "config.json", j.dump());
  };
  auto rewrite_tensors = [&](const std::function<void(std::vector<RawTensor>&)>& f) {
    auto ts = read_tensors(good / "model.safetensors");
    f(ts);
    write_tensors(weights, ts);
  };
  auto find = [](std::vector<RawTensor>& ts, const std::string& name) -> RawTensor& {
    for (auto& t : ts)
      if (t.name == name) return t;
    throw std::runtime_error("no tensor " + name);
  };
  // The header and data section of the good file, for headers that lie.
  auto header_and_data = [&](json* header, std::string* data) {
    const std::string bytes = read_file(good / "model.safetensors");
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[size_t(i)]);
    *header = json::parse(bytes.substr(8, n));
    *data = bytes.substr(8 + n);
  };
  if (kind == "no-config") fs::remove(dir / "config.json");
  if (kind == "bad-json") write_file(dir / "config.json", "{\"model_type\": ");
  if (kind == "negative-size") rewrite_config([](json& j) { j["vision"]["hidden_size"] = -4; });
  if (kind == "huge-sizes")  // in range for validation, terabytes of weights
    rewrite_config([](json& j) {
      j["text"]["hidden_size"] = 16384;
      j["text"]["intermediate_size"] = 65536;
      j["text"]["num_decoder_layers"] = 256;
    });
  if (kind == "unknown-type") rewrite_config([](json& j) { j["model_type"] = "gpt9"; });
  if (kind == "no-weights") fs::remove(weights);
  if (kind == "pickle-only") {
    fs::remove(weights);
    // Protocol 2: GLOBAL os.system, the command as its argument, REDUCE.
    write_file(dir / "pytorch_model.bin",
               std::string("\x80\x02") + "cos\nsystem\n(S'touch " + marker.u8string() + "'\ntR.");
  }
  if (kind == "truncated-header") write_file(weights, read_file(weights).substr(0, 64));
  if (kind == "truncated-data") {
    const std::string bytes = read_file(weights);
    write_file(weights, bytes.substr(0, bytes.size() / 2));
  }
  if (kind == "lying-offsets" || kind == "lying-shape") {
    json header;
    std::string data;
    header_and_data(&header, &data);
    std::string last;
    uint64_t end = 0;
    for (auto it = header.begin(); it != header.end(); ++it)
      if (it.key() != "__metadata__" && it.value()["data_offsets"][1].get<uint64_t>() >= end) {
        end = it.value()["data_offsets"][1].get<uint64_t>();
        last = it.key();
      }
    if (kind == "lying-offsets")
      header[last]["data_offsets"][1] = end + 4096;  // past the end of the file
    else
      header[last]["shape"] = json::array({3});  // 12 bytes, not what the offsets hold
    write_raw_safetensors(weights, header.dump(), data);
  }
  if (kind == "many-tensors") {  // 200,000 empty tensors: a 10 MB header
    std::string h = "{";
    for (int i = 0; i < 200000; ++i)
      h += (i ? ",\"t" : "\"t") + std::to_string(i) + "\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
    h += "}";
    write_raw_safetensors(weights, h, "");
  }
  if (kind == "missing-tensor")
    rewrite_tensors([](std::vector<RawTensor>& ts) {
      ts.erase(std::remove_if(ts.begin(), ts.end(),
                              [](const RawTensor& t) { return t.name == "text_decoder.cls.predictions.bias"; }),
               ts.end());
    });
  if (kind == "extra-tensor")
    rewrite_tensors([](std::vector<RawTensor>& ts) {
      ts.push_back({"surprise.weight", core::DType::F32, {2}, std::string(8, '\0')});
    });
  if (kind == "wrong-shape")
    rewrite_tensors([&](std::vector<RawTensor>& ts) {
      auto& t = find(ts, "vision_model.post_layernorm.weight");
      t.shape = {3};
      t.bytes = std::string(12, '\0');
    });
  if (kind == "nan-weights")
    rewrite_tensors([&](std::vector<RawTensor>& ts) {
      auto& t = find(ts, "vision_model.post_layernorm.weight");
      const float nan = std::numeric_limits<float>::quiet_NaN();
      std::memcpy(t.bytes.data(), &nan, sizeof nan);
    });
  if (kind == "no-vocab") fs::remove(dir / "vocab.txt");
  if (kind == "empty-vocab") write_file(dir / "vocab.txt", "");
  if (kind == "bad-calibration") write_file(dir / "calibration.json", "{\"temperature\": ");
  if (kind == "huge-calibration") write_file(dir / "calibration.json", std::string(8 << 20, '['));
}

}  // namespace testutil

#define SKIP_ROW_WITHOUT_GOLDEN(kind)                                                                \
  do {                                                                                               \
    if (testutil::needs_golden(kind) && !std::filesystem::exists(testutil::golden_dir() / "pickle")) \
      QSKIP("golden/pickle not found (set AUTOGLM_GOLDEN_DIR)");                                     \
  } while (0)

#define REQUIRE_GOLDEN()                                                                    \
  do {                                                                                      \
    if (!testutil::have_golden())                                                           \
      QSKIP(qPrintable(QString("golden data not found at %1 (set AUTOGLM_GOLDEN_DIR)")      \
                           .arg(QString::fromStdString(testutil::golden_dir().string())))); \
  } while (0)

// Asserts that `expr` throws core::Error whose message contains `needle`.
#define VERIFY_THROWS_MSG(expr, needle)                                                                             \
  do {                                                                                                              \
    bool thrown_ = false;                                                                                           \
    try {                                                                                                           \
      expr;                                                                                                         \
    } catch (const core::Error& e_) {                                                                               \
      thrown_ = true;                                                                                               \
      const std::string msg_ = e_.what();                                                                           \
      if (msg_.find(needle) == std::string::npos)                                                                   \
        QFAIL(qPrintable(                                                                                           \
            QString("message '%1' lacks '%2'").arg(QString::fromStdString(msg_), QString::fromStdString(needle)))); \
    }                                                                                                               \
    if (!thrown_) QFAIL("expected core::Error containing: " + QByteArray(std::string(needle).c_str()));             \
  } while (0)
