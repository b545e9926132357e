#include "core/model/blip2/family.h"

#include <chrono>

#include "core/error.h"
#include "core/model/blip2/generate.h"

namespace core {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

[[noreturn]] void no_decoder() {
  throw Error(ErrorCode::Internal, "BLIP-2 decodes through its own language model (Family::generate)");
}

// [steps, Q]: for each recorded step, the language model's attention from the
// token being predicted to each image query, mean over layers and heads.
torch::Tensor query_weights(const std::vector<blip2::Record>& steps, blip2::LmKind lm, int64_t queries, int64_t row) {
  std::vector<torch::Tensor> out;
  for (const auto& s : steps) {
    const auto& layers = lm == blip2::LmKind::Opt ? s.self_attn : s.cross_attn;
    torch::Tensor acc;
    for (const auto& a : layers) {  // [B,H,T,Tk]
      auto w = a[row].select(1, -1).narrow(-1, 0, queries).to(torch::kFloat32).mean(0);
      acc = acc.defined() ? acc + w : w;
    }
    out.push_back(acc / static_cast<double>(layers.size()));
  }
  return torch::stack(out);
}

std::vector<std::pair<int64_t, float>> top_of(const torch::Tensor& logp_row, int k) {
  std::vector<std::pair<int64_t, float>> out;
  if (k <= 0) return out;
  auto top = logp_row.topk(std::min<int64_t>(k, logp_row.size(0)));
  auto v = std::get<0>(top).exp().cpu(), i = std::get<1>(top).cpu();
  for (int64_t j = 0; j < v.size(0); ++j) out.emplace_back(i[j].item<int64_t>(), v[j].item<float>());
  return out;
}

}  // namespace

void Blip2Family::freeze() {
  for (auto& p : model->parameters()) p.set_requires_grad(false);
  model->eval();
}

torch::Tensor Blip2Family::encode_image(const torch::Tensor& pixels, Record*) { return model->vision_model(pixels); }

torch::Tensor Blip2Family::fuse(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&, Record*,
                                std::vector<LayerCache>*) {
  no_decoder();
}

torch::Tensor Blip2Family::decode(const torch::Tensor&, const torch::Tensor&, const torch::Tensor&,
                                  std::vector<LayerCache>*, int64_t, Record*) {
  no_decoder();
}

torch::Tensor Blip2Family::image_vector(const torch::Tensor&) {
  throw Error(ErrorCode::BadArgument, "BLIP-2 has no alignment heads");
}
torch::Tensor Blip2Family::text_vector(const torch::Tensor&, const torch::Tensor&) {
  throw Error(ErrorCode::BadArgument, "BLIP-2 has no alignment heads");
}

torch::Tensor Blip2Family::queries(const torch::Tensor& image, blip2::Record* rec) {
  auto q = model->query_tokens.expand({image.size(0), model->query_tokens.size(1), model->query_tokens.size(2)});
  return model->language_projection(model->qformer(q, image, rec));
}

torch::Tensor Blip2Family::prompt_tensor(const std::vector<int64_t>& prompt) const {
  if (prompt.empty()) return {};
  return torch::tensor(prompt, torch::kLong).unsqueeze(0);
}

Generation Blip2Family::generate(const torch::Tensor& image, const GenerationRequest& req) {
  Generation g;
  const auto& cfg = model->cfg;
  const int64_t Q = cfg.queries;
  auto t0 = Clock::now();
  blip2::Record qrec;
  qrec.attentions = true;
  auto q = queries(image, &qrec);
  auto cross = blip2::stack_cross_attentions(qrec).to(torch::kFloat32);  // [Lc,H,Q,N]
  g.fusion_ms = ms_since(t0);

  t0 = Clock::now();
  blip2::GenerateOptions o;
  o.num_beams = req.beams;
  o.max_new_tokens = req.max_new;
  o.min_new_tokens = req.min_new;
  o.min_length = 0;
  o.num_return_sequences = req.beams;
  o.record_attentions = req.beams == 1;
  o.should_stop = req.should_stop;
  auto last = Clock::now();
  o.on_token = [&](int64_t id) {
    g.step_ms.push_back(ms_since(last));
    last = Clock::now();
    if (req.on_token) req.on_token(id);
  };
  auto prompt = prompt_tensor(req.prompt);
  auto r = blip2::generate(*model, q, prompt, prompt.defined() ? torch::ones_like(prompt) : torch::Tensor(), o);

  // Each candidate's new tokens: the row after its placeholder, up to and with the end token.
  const int64_t R = r.sequences.size(0);
  std::vector<std::vector<int64_t>> rows(static_cast<size_t>(R));
  for (int64_t i = 0; i < R; ++i) {
    auto row = r.sequences[i];
    for (int64_t t = 1; t < row.size(0); ++t) {
      const int64_t id = row[t].item<int64_t>();
      rows[static_cast<size_t>(i)].push_back(id);
      if (id == cfg.eos_id) break;
    }
  }
  std::vector<blip2::Record> steps;
  std::vector<torch::Tensor> logits;  // per step [R,V]
  if (req.beams == 1) {
    steps = std::move(r.lm_steps);
    logits = std::move(r.logits);
  } else {
    // The reference's beam scores are length-penalised; the tokens' own probabilities
    // and the inspection come from one teacher-forced pass over the candidates.
    auto [embeds, mask] = model->lm_inputs(q, prompt, prompt.defined() ? torch::ones_like(prompt) : torch::Tensor());
    auto session = blip2::start_session(*model, embeds, mask, R, true);
    size_t longest = 0;
    for (const auto& row : rows) longest = std::max(longest, row.size());
    logits.push_back(session->first());
    for (size_t t = 0; t + 1 < longest; ++t) {
      std::vector<int64_t> feed;
      for (const auto& row : rows) feed.push_back(t < row.size() ? row[t] : cfg.pad_id);
      logits.push_back(session->next(torch::tensor(feed, torch::kLong)));
    }
    steps = std::move(session->steps);
  }
  for (int64_t i = 0; i < R; ++i) {
    Candidate c;
    c.ids = rows[static_cast<size_t>(i)];
    double sum = 0;
    for (size_t t = 0; t < c.ids.size(); ++t) {
      auto lp = torch::log_softmax(logits[t][req.beams == 1 ? 0 : i].to(torch::kFloat32), -1);
      c.logp.push_back(lp[c.ids[t]].item<float>());
      c.top.push_back(top_of(lp, req.top_alternatives));
      sum += c.logp.back();
    }
    c.score = r.sequences_scores.defined() ? r.sequences_scores[i].item<double>() : sum;
    g.candidates.push_back(std::move(c));
  }
  g.decode_ms = ms_since(t0);

  // The best candidate's rows: the Q-Former's maps weighted by how much each
  // answer token attended to each query, and the language model's image share.
  const size_t T = g.candidates.empty() ? 0 : g.candidates.front().ids.size();
  if (T > 0 && !steps.empty()) {
    steps.resize(std::min(steps.size(), T));
    auto w = query_weights(steps, cfg.lm, Q, 0);  // [T,Q]
    g.maps = torch::einsum("tq,lhqn->lhtn", {w, cross});
    g.reliance = blip2::image_attention_share(steps, cfg.lm, Q, 0).transpose(0, 1).contiguous();  // [Llm,T]
  }
  return g;
}

torch::Tensor Blip2Family::answer_relevance(const torch::Tensor& image, const std::vector<int64_t>& prompt,
                                            const std::vector<int64_t>& answer) {
  if (answer.empty()) throw Error(ErrorCode::BadArgument, "the answer has no tokens to explain");
  torch::AutoGradMode grad(true);
  // The image's tokens become a leaf that needs a gradient, so every map joins the graph.
  auto leaf = image.detach().clone().set_requires_grad(true);
  blip2::Record qrec;
  qrec.attentions = true;
  auto q = queries(leaf, &qrec);
  for (auto& m : qrec.cross_attn) m.retain_grad();
  auto p = prompt_tensor(prompt);
  auto [embeds, mask] = model->lm_inputs(q, p, p.defined() ? torch::ones_like(p) : torch::Tensor());
  auto session = blip2::start_session(*model, embeds, mask, 1);
  auto logits = session->first();
  torch::Tensor total;
  for (size_t t = 0; t < answer.size(); ++t) {
    auto lp = torch::log_softmax(logits[0].to(torch::kFloat32), -1)[answer[t]];
    total = total.defined() ? total + lp : lp;
    if (t + 1 < answer.size()) logits = session->next(torch::tensor({answer[t]}, torch::kLong));
  }
  total.backward();
  torch::Tensor rel;
  for (auto& m : qrec.cross_attn) {                                                            // [1,H,Q,N]
    auto r = (m.grad() * m.detach()).clamp_min(0).sum(1)[0].sum(0).to(torch::kFloat32).cpu();  // [N]
    rel = rel.defined() ? rel + r : r;
  }
  return rel;
}

}  // namespace core
