#include "core/hub/files.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/hub/cache.h"
#include "core/hub/client.h"

namespace fs = std::filesystem;

namespace core::hub {

namespace {

std::string getenv_str(const char* n) {
  const char* v = std::getenv(n);
  return v ? std::string(v) : std::string();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::string default_endpoint() {
  std::string e = getenv_str("HF_ENDPOINT");
  if (e.empty()) e = "https://huggingface.co";
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::string default_token() {
  for (const char* n : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"})
    if (auto t = getenv_str(n); !t.empty()) return t;
  std::ifstream f(hf_home() / "token");
  std::string t;
  std::getline(f, t);
  while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
  return t;
}

std::vector<RemoteFile> choose_files(const std::vector<RemoteFile>& all) {
  static const std::set<std::string> small = {"config.json",
                                              "generation_config.json",
                                              "preprocessor_config.json",
                                              "processor_config.json",
                                              "tokenizer.json",
                                              "tokenizer_config.json",
                                              "special_tokens_map.json",
                                              "added_tokens.json",
                                              "vocab.txt",
                                              "vocab.json",
                                              "merges.txt",
                                              "spiece.model",
                                              "sentencepiece.bpe.model",
                                              "tokenizer.model",
                                              "calibration.json"};
  auto has = [&](const std::string& p) {
    return std::any_of(all.begin(), all.end(), [&](const RemoteFile& f) { return f.path == p; });
  };
  std::vector<RemoteFile> out;
  for (const auto& f : all)
    if (f.path.find('/') == std::string::npos && small.count(f.path)) out.push_back(f);
  const bool st = std::any_of(all.begin(), all.end(), [](const RemoteFile& f) {
    return f.path.find('/') == std::string::npos && ends_with(f.path, ".safetensors");
  });
  const std::string single = st ? "model.safetensors" : "pytorch_model.bin";
  const std::string index = single + ".index.json";
  if (has(single)) {
    for (const auto& f : all)
      if (f.path == single) out.push_back(f);
  } else if (has(index)) {
    // The shards are named by the index, read once it is downloaded: mark them.
    for (const auto& f : all)
      if (f.path == index) out.push_back(f);
  } else {
    for (const auto& f : all)
      if (f.path.find('/') == std::string::npos && ends_with(f.path, st ? ".safetensors" : ".bin") &&
          f.path.rfind("training_args", 0) != 0)
        out.push_back(f);
  }
  return out;
}

std::vector<std::string> shards_named_by(const fs::path& index_file, const std::string& repo) {
  QFile f(QString::fromStdString(index_file.u8string()));
  if (!f.open(QIODevice::ReadOnly)) throw Error(ErrorCode::Io, repo + ": cannot read " + index_file.u8string());
  const auto doc = QJsonDocument::fromJson(f.readAll());
  const auto map = doc.object().value("weight_map").toObject();
  if (map.isEmpty())
    throw Error(ErrorCode::BadWeights, repo + ": " + index_file.filename().u8string() + " has no weight_map");
  std::set<std::string> names;
  for (auto it = map.begin(); it != map.end(); ++it) names.insert(it.value().toString().toStdString());
  return {names.begin(), names.end()};
}

}  // namespace core::hub
