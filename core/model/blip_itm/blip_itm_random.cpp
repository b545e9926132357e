// Random-weight BlipForImageTextRetrieval folders in HuggingFace's layout.
#include <nlohmann/json.hpp>

#include <fstream>

#include "core/error.h"
#include "core/io/safetensors_torch.h"
#include "core/model/blip_itm/blip_itm.h"

namespace core {

namespace {

nlohmann::json hf_config(const ModelConfig& c) {
  const auto& v = c.vision;
  const auto& t = c.text;
  return {{"model_type", "blip"},
          {"architectures", {"BlipForImageTextRetrieval"}},
          {"image_text_hidden_size", c.align_dim},
          {"vision_config",
           {{"hidden_size", v.hidden},
            {"num_hidden_layers", v.layers},
            {"num_attention_heads", v.heads},
            {"intermediate_size", v.intermediate},
            {"image_size", v.image_size},
            {"patch_size", v.patch_size},
            {"layer_norm_eps", v.ln_eps},
            {"hidden_act", "gelu"}}},
          {"text_config",
           {{"vocab_size", t.vocab_size},
            {"hidden_size", t.hidden},
            {"num_hidden_layers", t.layers},
            {"num_attention_heads", t.heads},
            {"intermediate_size", t.intermediate},
            {"max_position_embeddings", t.max_positions},
            {"layer_norm_eps", t.ln_eps},
            {"encoder_hidden_size", v.hidden},
            {"is_decoder", true},
            {"hidden_act", "gelu"},
            {"pad_token_id", c.pad_id},
            {"sep_token_id", c.sep_id},
            {"bos_token_id", c.bos_id}}}};
}

void write_json(const std::filesystem::path& path, const nlohmann::json& j) {
  std::ofstream f(path, std::ios::trunc);
  f << j.dump(2) << "\n";
  if (!f) throw Error(ErrorCode::Io, path.u8string() + ": cannot write");
}

// bert-base-uncased's 30522 entries (the checkpoint's two extra ids, [DEC] and
// [ENC], are not in its vocab.txt): the special tokens at their ids, placeholders
// elsewhere, and a few words so that benchmark texts are not all [UNK].
void write_placeholder_vocab(const std::filesystem::path& path) {
  std::vector<std::string> vocab(30522);
  for (size_t i = 0; i < vocab.size(); ++i) vocab[i] = "[unused" + std::to_string(i) + "]";
  vocab[0] = "[PAD]";
  vocab[100] = "[UNK]";
  vocab[101] = "[CLS]";
  vocab[102] = "[SEP]";
  vocab[103] = "[MASK]";
  const char* words[] = {"a", "photo", "of", "the", "dog", "cat", "on", "beach", "red", "car", "two", "people"};
  for (size_t i = 0; i < sizeof(words) / sizeof(*words); ++i) vocab[2000 + i] = words[i];
  std::ofstream f(path, std::ios::trunc);
  for (const auto& t : vocab) f << t << "\n";
  if (!f) throw Error(ErrorCode::Io, path.u8string() + ": cannot write");
}

}  // namespace

ModelConfig blip_itm_base_config() {
  nlohmann::json j = {{"model_type", "blip"},
                      {"architectures", {"BlipForImageTextRetrieval"}},
                      {"image_text_hidden_size", 256},
                      {"vision_config",
                       {{"hidden_size", 768},
                        {"num_hidden_layers", 12},
                        {"num_attention_heads", 12},
                        {"intermediate_size", 3072},
                        {"image_size", 384},
                        {"patch_size", 16}}},
                      {"text_config",
                       {{"vocab_size", 30524},
                        {"hidden_size", 768},
                        {"num_hidden_layers", 12},
                        {"num_attention_heads", 12},
                        {"intermediate_size", 3072},
                        {"encoder_hidden_size", 768},
                        {"is_decoder", true}}}};
  auto c = parse_config(j, "blip-itm-base-coco sizes");
  c.validate();
  return c;
}

void write_random_blip_itm(const std::filesystem::path& dir, const ModelConfig& c, uint64_t seed) {
  c.validate();
  std::filesystem::create_directories(dir);
  write_json(dir / "config.json", hf_config(c));
  write_json(dir / "preprocessor_config.json", {{"image_processor_type", "BlipImageProcessor"},
                                                {"do_resize", true},
                                                {"resample", 3},
                                                {"size", {{"height", c.preprocess.size}, {"width", c.preprocess.size}}},
                                                {"rescale_factor", c.preprocess.rescale},
                                                {"image_mean", c.preprocess.mean},
                                                {"image_std", c.preprocess.std}});
  write_placeholder_vocab(dir / "vocab.txt");
  BlipItm m(c);
  m->init_weights(seed);
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m->named_parameters(true)) out.emplace_back(p.key(), p.value());
  save_tensors(dir / "model.safetensors", out);
}

}  // namespace core
