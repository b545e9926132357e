#pragma once
// The seam between the engine and a model family. A family is a folder under
// core/model/ (autoglm: our own models and BLIP VQA/captioning; the next ones
// add BLIP image-text matching and BLIP-2) that builds its modules from a
// ModelConfig, loads its checkpoint and runs the passes below. The engine keeps
// what every family shares: the folder checks, the image cache, decoding
// (greedy, beams, closed lists, lengths), confidence, heatmaps and the device.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "core/io/config.h"
#include "core/model/record.h"

namespace core {

class Checkpoint;

enum class Capability : unsigned {
  Ask = 1,          // answers questions about an image (a decoder on the fused question)
  Describe = 2,     // describes an image on its own (a decoder on the image)
  MatchText = 4,    // embeds images and texts in one space (search, zero-shot labels)
  RankAnswers = 8,  // scores a closed list of answers by their likelihood
};

// Families whose language model keeps its own decoding state (BLIP-2: OPT or
// T5 after the Q-Former) answer through generate() instead of fuse()/decode().
struct GenerationRequest {
  std::vector<int64_t> prompt;  // the language model's prompt ids (with the tokenizer's specials); empty: none
  int beams = 1, max_new = 20, min_new = 0, top_alternatives = 5;
  std::function<bool()> should_stop;      // polled before each token; true: Error(Cancelled)
  std::function<void(int64_t)> on_token;  // greedy: each token as it is chosen
};

struct Candidate {
  std::vector<int64_t> ids;  // new tokens, the end token included where the model chose it
  std::vector<float> logp;   // the model's log-probability of each token at its step (unprocessed logits)
  std::vector<std::vector<std::pair<int64_t, float>>> top;  // the likeliest tokens of each step, probabilities
  double score = 0;  // the family's own ranking score (beam search's length-penalised score)
};

struct Generation {
  std::vector<Candidate> candidates;  // best first
  // Inspection of the best candidate, a row per generated token:
  torch::Tensor maps;      // [L, H, T, N] each fusion layer's image map for each token
  torch::Tensor reliance;  // [layers of the language model, T]: its share of attention on the image
  double fusion_ms = 0, decode_ms = 0;
  std::vector<double> step_ms;
};

class Family {
 public:
  virtual ~Family() = default;
  virtual ModelFamily kind() const = 0;
  virtual unsigned capabilities() const = 0;
  bool can(Capability c) const { return (capabilities() & static_cast<unsigned>(c)) != 0; }

  virtual void load_weights(const Checkpoint& ck) = 0;  // throws BadWeights naming the tensor
  virtual void to(torch::Device device, torch::ScalarType dtype) = 0;
  virtual void freeze() = 0;  // inference only: eval mode, no gradients kept on the weights
  virtual int64_t num_parameters() const = 0;

  // pixels [1,3,H,W] -> the image's tokens [1,N,D] that the other passes read.
  virtual torch::Tensor encode_image(const torch::Tensor& pixels, Record* rec = nullptr) = 0;
  // Ask: the question over the image -> what the decoder cross-attends to. image_kv
  // caches the image's side of the fusion layers across questions about one image.
  virtual torch::Tensor fuse(const torch::Tensor& ids, const torch::Tensor& mask, const torch::Tensor& image,
                             Record* rec, std::vector<LayerCache>* image_kv) = 0;
  // The decoder's 0/1 mask over fuse()'s output for a question mask [B,T]; undefined
  // when the decoder reads every position.
  virtual torch::Tensor memory_mask(const torch::Tensor& mask01) const = 0;
  // ids [B,T] at positions past..; logits [B,T,V]. The memory is fuse()'s output
  // (Ask) or the image tokens (Describe).
  virtual torch::Tensor decode(const torch::Tensor& ids, const torch::Tensor& memory, const torch::Tensor& memory_mask,
                               std::vector<LayerCache>* cache, int64_t past, Record* rec = nullptr) = 0;

  // MatchText: unit vectors in the shared space and the learned temperature.
  virtual torch::Tensor image_vector(const torch::Tensor& image) = 0;
  virtual torch::Tensor text_vector(const torch::Tensor& ids, const torch::Tensor& mask) = 0;
  virtual float align_temperature() const = 0;

  // MatchText families with a matching head (BLIP ITM): P(the image and the text match)
  // per pair [B], and where the text matches: LAVIS's gradient-weighted cross-attention
  // per token [T,gh,gw] and over the words [gh,gw], with the probability [1].
  virtual bool has_matching_head() const { return false; }
  virtual torch::Tensor match_probability(const torch::Tensor& image, const torch::Tensor& ids,
                                          const torch::Tensor& mask);
  struct MatchMaps {
    torch::Tensor probability, per_token, whole;
  };
  virtual MatchMaps match_maps(const torch::Tensor& image, const torch::Tensor& ids, const torch::Tensor& mask);

  virtual bool decodes_itself() const { return false; }
  // image: encode_image's output. Throws Error(BadArgument) where decodes_itself() is false.
  virtual Generation generate(const torch::Tensor& image, const GenerationRequest& req);
  // The gradient-weighted map of an answer (ids with its end token) over the image
  // tokens [N]: d log p(answer) / d(fusion maps) x maps, positive part, summed.
  virtual torch::Tensor answer_relevance(const torch::Tensor& image, const std::vector<int64_t>& prompt,
                                         const std::vector<int64_t>& answer);
};

// The family a configuration describes (throws BadConfig for one this build lacks).
std::unique_ptr<Family> make_family(const ModelConfig& cfg);

}  // namespace core
