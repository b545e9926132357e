#pragma once
// Model configuration: one struct for the whole Open-AutoGLM family, read
// from either our own config.json schema ("model_type": "open-autoglm") or
// HuggingFace's BlipConfig ("model_type": "blip").
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/vision/image.h"

namespace core {

namespace blip2 {
struct Blip2Config;
}

struct VisionConfig {
  int image_size = 64;
  int patch_size = 8;
  int hidden = 64;
  int layers = 2;
  int heads = 2;
  int intermediate = 128;
  double ln_eps = 1e-5;
  std::string stem = "patch";  // "patch": one Conv2d; "conv": 3x3 convolutions, see stem_strides
  // Kernel of the conv stem's stride-3 convolutions: 3 tiles; 5 lets each token read one
  // feature pixel of its neighbours on every side (padded to keep the grid).
  int stem_tile_kernel = 3;
  int grid() const { return image_size / patch_size; }
  // The conv stem's strides: patch_size = 2^a 3^b as a stride-2 convolutions, then b stride-3
  // ones (12 px: 2, 2, 3). Empty when patch_size has another factor or is below 2.
  std::vector<int> stem_strides() const;
  // Output channels of each stem convolution: doubling up to hidden, at least 16.
  std::vector<int> stem_channels() const;
  // Kernel of each stem convolution: 3 for stride 2, stem_tile_kernel for stride 3.
  std::vector<int> stem_kernels() const;
  int tokens() const { return grid() * grid() + 1; }
};

struct TextConfig {  // shared by the question encoder and the decoder
  int vocab_size = 0;
  int hidden = 64;
  int layers = 2;  // encoder layers
  int decoder_layers = 2;
  int heads = 2;
  int intermediate = 128;
  int max_positions = 64;
  double ln_eps = 1e-12;
  bool pre_norm = false;  // false: post-LN (BERT/BLIP)
};

struct ModelConfig {
  ModelFamily family = ModelFamily::AutoGLM;
  ModelTask task = ModelTask::Vqa;  // Vqa: question encoder + decoder; Caption: decoder on the image;
                                    // Match: image-text matching (core/model/blip_itm), no decoder
  VisionConfig vision;
  TextConfig text;
  std::vector<int> fusion_layers;  // encoder layers with cross-attention to the image
  bool gates = true;               // learned feedback gates on the cross-attention
  bool routing = true;             // dynamic routing over the fusion layers
  double routing_tau = 1.0;
  int queries = 0;                     // learned query tokens appended to each question (read by the decoder)
  int align_dim = 0;                   // 0: no alignment heads; "itm": image_text_hidden_size
  bool tie_lm_head = true;             // LM head weight = decoder word embeddings
  bool decoder_masks_question = true;  // BLIP: false (padded question states are attended)
  PreprocessSpec preprocess;
  // token ids
  int64_t pad_id = 0, unk_id = 100, cls_id = 101, sep_id = 102, bos_id = 30522, eos_id = 102;
  std::string describe_question = "describe the image.";  // VQA models answer it as a caption
  std::vector<std::string> answer_list;                   // optional closed list (ranking mode)
  int match_max_tokens = 0;  // search and label texts are cut to this many tokens (0: max_positions)
  // Generation lengths when the caller leaves them to the model. HuggingFace counts
  // max_length/min_length over the whole sequence (start token and prompt included);
  // 0 there means the *_new_tokens value applies.
  int gen_max_length = 0, gen_max_new_tokens = 30;
  int gen_min_length = 0, gen_min_new_tokens = 1;
  // Family Blip2: the whole configuration (core/model/blip2/config.h); the fields
  // above then summarise it (sizes, token ids, lengths) for the engine and the UI.
  std::shared_ptr<const blip2::Blip2Config> blip2;
  // How a question is put to a language model that continues text (BLIP-2's model card).
  std::string prompt_template = "Question: {} Answer:";

  int fusion_index(int layer) const;  // position in fusion_layers or -1
  void validate() const;              // throws BadConfig naming the field
  // A lower bound of the parameter count (the large matrices and the word
  // embeddings), from the sizes alone: checked against the weight file before
  // the model is built, so sizes that pass validate() but lie about the weights
  // are refused without allocating them.
  uint64_t min_parameters() const;
};

// Reads dir/config.json (and dir/preprocessor_config.json for BLIP).
ModelConfig load_config(const std::filesystem::path& dir);
ModelConfig parse_config(const nlohmann::json& j, const std::string& label);
// Writes our own schema.
nlohmann::json config_to_json(const ModelConfig& c);
void save_config(const ModelConfig& c, const std::filesystem::path& dir);

}  // namespace core
