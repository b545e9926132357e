#include "core/model/factory.h"
#include "core/model/blip_itm/blip_itm.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <set>

#include "core/error.h"
#include "core/model/autoglm/model.h"

namespace core {

ModelConfig small_config(int vocab_size) {
  ModelConfig c;
  c.family = ModelFamily::AutoGLM;
  c.task = ModelTask::Vqa;
  c.vision = VisionConfig{};  // 64 px, 8 px patches, 64 wide, 2 layers
  c.text.vocab_size = vocab_size;
  c.text.hidden = 64;
  c.text.layers = 2;
  c.text.decoder_layers = 2;
  c.text.heads = 2;
  c.text.intermediate = 128;
  c.text.max_positions = 64;
  c.fusion_layers = {0, 1};
  c.gates = true;
  c.routing = true;
  c.align_dim = 32;
  c.preprocess.size = c.vision.image_size;
  c.pad_id = 0;
  c.unk_id = 1;
  c.cls_id = 2;
  c.sep_id = 3;
  c.bos_id = 5;
  c.eos_id = 3;
  return c;
}

std::vector<std::string> make_vocab(const std::vector<std::string>& words) {
  std::vector<std::string> v{"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[DEC]"};
  std::set<std::string> seen(v.begin(), v.end());
  for (const auto& w : words)
    if (seen.insert(w).second) v.push_back(w);
  return v;
}

void write_random_model(const std::filesystem::path& dir, ModelConfig cfg, const std::vector<std::string>& vocab,
                        uint64_t seed) {
  std::filesystem::create_directories(dir);
  if (cfg.text.vocab_size < static_cast<int>(vocab.size())) cfg.text.vocab_size = static_cast<int>(vocab.size());
  cfg.validate();
  save_config(cfg, dir);
  {
    std::ofstream f(dir / "vocab.txt", std::ios::trunc);
    for (const auto& t : vocab) f << t << "\n";
    if (!f) throw Error(ErrorCode::Io, (dir / "vocab.txt").u8string() + ": cannot write");
  }
  Model m(cfg);
  m->init_weights(seed);
  m->save_weights(dir / "model.safetensors");
}

void write_random_blip(const std::filesystem::path& dir, const std::string& task, uint64_t seed) {
  std::filesystem::create_directories(dir);
  nlohmann::json j = {{"model_type", "blip"},
                      {"architectures", {task == "vqa" ? "BlipForQuestionAnswering" : "BlipForConditionalGeneration"}}};
  {
    std::ofstream f(dir / "config.json", std::ios::trunc);
    f << j.dump(2);
  }
  auto cfg = load_config(dir);
  std::vector<std::string> vocab(30522);
  for (size_t i = 0; i < vocab.size(); ++i) vocab[i] = "[unused" + std::to_string(i) + "]";
  vocab[0] = "[PAD]";
  vocab[100] = "[UNK]";
  vocab[101] = "[CLS]";
  vocab[102] = "[SEP]";
  vocab[103] = "[MASK]";
  const char* words[] = {"what", "is", "in", "the", "picture", "?", "a", "of", "color", "how", "many"};
  for (size_t i = 0; i < sizeof(words) / sizeof(*words); ++i) vocab[2000 + i] = words[i];
  {
    std::ofstream f(dir / "vocab.txt", std::ios::trunc);
    for (const auto& t : vocab) f << t << "\n";
  }
  Model m(cfg);
  m->init_weights(seed);
  m->save_weights(dir / "model.safetensors");
}

void write_random_blip_itm_base(const std::filesystem::path& dir, uint64_t seed) {
  write_random_blip_itm(dir, blip_itm_base_config(), seed);
}

}  // namespace core
