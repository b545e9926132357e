// The language model's decoding states behind LmSession: OPT (decoder-only,
// the inputs' embeddings at the first step) and T5 (encoder once, then the decoder).
#include "core/model/blip2/generate.h"

namespace core::blip2 {

namespace {

Tensor repeat_rows(const Tensor& x, int64_t rows) {
  std::vector<int64_t> shape = x.sizes().vec();
  shape[0] = rows;
  return x.size(0) == rows ? x : x.expand(shape).contiguous();
}

Record make_record(bool attentions, bool hidden) {
  Record r;
  r.attentions = attentions;
  r.hidden_states = hidden;
  return r;
}

class OptSession : public LmSession {
 public:
  OptSession(Blip2ModelImpl& m, const Tensor& embeds, const Tensor& mask, int64_t rows, bool attn, bool hidden)
      : opt_(m.opt), embeds_(repeat_rows(embeds, rows)), mask_(repeat_rows(mask, rows)), attn_(attn), hidden_(hidden) {}

  Tensor first() override { return run(embeds_); }

  Tensor next(const Tensor& ids) override {
    mask_ = torch::cat({mask_, torch::ones({mask_.size(0), 1}, mask_.options())}, 1);
    return run(opt_->embed(ids.view({-1, 1}).to(mask_.device())));
  }

  void reorder(const Tensor& rows) override {
    reorder_cache(cache_, rows);
    mask_ = mask_.index_select(0, rows);
  }

 private:
  Tensor run(const Tensor& embeds) {
    Record rec = make_record(attn_, hidden_);
    const bool keep = attn_ || hidden_;
    auto h = opt_->forward(embeds, mask_, &cache_, keep ? &rec : nullptr);
    if (keep) steps.push_back(std::move(rec));
    return opt_->logits(h.select(1, -1));
  }

  Opt opt_;
  Tensor embeds_, mask_;
  Cache cache_;
  bool attn_, hidden_;
};

class T5Session : public LmSession {
 public:
  T5Session(Blip2ModelImpl& m, const Tensor& embeds, const Tensor& mask, int64_t rows, bool attn, bool hidden)
      : t5_(m.t5), start_(m.cfg.decoder_start_id), rows_(rows), attn_(attn), hidden_(hidden) {
    encoder = make_record(attn, hidden);
    auto enc = t5_->encoder(embeds, mask, Tensor(), Tensor(), nullptr, (attn || hidden) ? &encoder : nullptr);
    memory_ = repeat_rows(enc, rows);
    memory_mask_ = repeat_rows(mask, rows);
  }

  Tensor first() override {
    auto ids = torch::full({rows_, 1}, start_, torch::dtype(torch::kLong).device(memory_.device()));
    return run(ids);
  }

  Tensor next(const Tensor& ids) override { return run(ids.view({-1, 1}).to(memory_.device())); }

  void reorder(const Tensor& rows) override { reorder_cache(cache_, rows); }

 private:
  Tensor run(const Tensor& ids) {
    past_ += ids.size(1);
    auto mask = torch::ones({ids.size(0), past_}, torch::dtype(torch::kLong).device(ids.device()));
    Record rec = make_record(attn_, hidden_);
    const bool keep = attn_ || hidden_;
    auto h = t5_->decoder(t5_->embed(ids), mask, memory_, memory_mask_, &cache_, keep ? &rec : nullptr);
    if (keep) steps.push_back(std::move(rec));
    return t5_->logits(h.select(1, -1));
  }

  T5 t5_;
  int64_t start_, rows_, past_ = 0;
  Tensor memory_, memory_mask_;
  Cache cache_;
  bool attn_, hidden_;
};

}  // namespace

std::unique_ptr<LmSession> start_session(Blip2ModelImpl& model, const Tensor& embeds, const Tensor& mask, int64_t rows,
                                         bool record_attentions, bool record_hidden) {
  if (model.opt) return std::make_unique<OptSession>(model, embeds, mask, rows, record_attentions, record_hidden);
  return std::make_unique<T5Session>(model, embeds, mask, rows, record_attentions, record_hidden);
}

Tensor image_attention_share(const std::vector<Record>& steps, LmKind lm, int64_t queries, int64_t row) {
  std::vector<Tensor> out;
  for (const auto& s : steps) {
    const auto& layers = lm == LmKind::Opt ? s.self_attn : s.cross_attn;
    std::vector<Tensor> per_layer;
    for (const auto& a : layers)  // [B,H,T,Tk]: the last query row is the token being predicted
      per_layer.push_back(a[row].select(1, -1).narrow(-1, 0, queries).sum(-1).mean());
    if (!per_layer.empty()) out.push_back(torch::stack(per_layer));
  }
  return out.empty() ? Tensor() : torch::stack(out).to(torch::kFloat32);
}

}  // namespace core::blip2
