#include "core/model/blip2/generate.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace core::blip2 {

namespace {

struct Settings {
  int beams, max_length, min_length, returns;
  double length_penalty, repetition_penalty;
  bool early_stopping;
  int64_t start, eos, pad;
};

Settings settings(const Blip2Config& c, const GenerateOptions& o) {
  const GenerationDefaults& g = c.generation;
  Settings s;
  s.beams = o.num_beams > 0 ? o.num_beams : g.num_beams;
  // The output starts with one placeholder token; max/min lengths count it.
  s.max_length = o.max_new_tokens > 0 ? o.max_new_tokens + 1 : (o.max_length > 0 ? o.max_length : g.max_length);
  s.min_length = std::max(o.min_length >= 0 ? o.min_length : g.min_length, o.min_new_tokens + 1);
  s.returns = o.num_return_sequences;
  s.length_penalty = std::isnan(o.length_penalty) ? g.length_penalty : o.length_penalty;
  s.repetition_penalty = std::isnan(o.repetition_penalty) ? g.repetition_penalty : o.repetition_penalty;
  s.early_stopping = o.early_stopping >= 0 ? o.early_stopping == 1 : g.early_stopping;
  s.start = c.lm == LmKind::Opt ? c.bos_id : c.decoder_start_id;
  s.eos = c.eos_id;
  s.pad = c.pad_id;
  if (s.returns < 1 || s.returns > s.beams)
    throw Error(ErrorCode::BadArgument, "num_return_sequences must be between 1 and num_beams");
  return s;
}

// HF's logits processors in their order: repetition penalty, then min length.
Tensor process(Tensor scores, const Tensor& seqs, const Settings& s) {
  if (s.repetition_penalty != 1.0) {
    auto picked = scores.gather(1, seqs);
    picked = torch::where(picked < 0, picked * s.repetition_penalty, picked / s.repetition_penalty);
    scores = scores.scatter(1, seqs, picked);
  }
  if (seqs.size(1) < s.min_length) {
    scores = scores.clone();
    scores.select(1, s.eos).fill_(-std::numeric_limits<double>::infinity());
  }
  return scores;
}

void check_stop(const GenerateOptions& o) {
  if (o.should_stop && o.should_stop()) throw Error(ErrorCode::Cancelled, "generation cancelled");
}

GenerateResult greedy(LmSession& session, const Settings& s, const GenerateOptions& o) {
  GenerateResult r;
  auto logits = session.first();
  auto seqs = torch::full({1, 1}, s.start, torch::dtype(torch::kLong).device(logits.device()));
  while (true) {
    auto scores = process(logits, seqs, s);
    auto next = scores.argmax(-1);
    r.scores.push_back(scores);
    r.logits.push_back(logits);
    seqs = torch::cat({seqs, next.view({1, 1})}, 1);
    const int64_t id = next.item<int64_t>();
    if (o.on_token) o.on_token(id);
    if (id == s.eos || seqs.size(1) >= s.max_length) break;
    check_stop(o);
    logits = session.next(next);
  }
  r.sequences = seqs.cpu();
  return r;
}

struct Hypothesis {
  double score;
  std::vector<int64_t> tokens, beam_index;
};

// BeamHypotheses of transformers 4.31.
struct Hypotheses {
  int beams;
  double length_penalty;
  bool early_stopping;
  std::vector<Hypothesis> kept;
  double worst = 1e9;

  void add(std::vector<int64_t> tokens, double sum_logprobs, std::vector<int64_t> beam_index) {
    const double score = sum_logprobs / std::pow(double(tokens.size()), length_penalty);
    if (int(kept.size()) < beams || score > worst) {
      kept.push_back({score, std::move(tokens), std::move(beam_index)});
      if (int(kept.size()) > beams) {
        std::vector<std::pair<double, size_t>> order;
        for (size_t i = 0; i < kept.size(); ++i) order.emplace_back(kept[i].score, i);
        std::sort(order.begin(), order.end());
        kept.erase(kept.begin() + long(order[0].second));
        worst = order[1].first;
      } else {
        worst = std::min(score, worst);
      }
    }
  }
  bool done(double best_sum_logprobs, int64_t cur_len) const {
    if (int(kept.size()) < beams) return false;
    if (early_stopping) return true;
    return worst >= best_sum_logprobs / std::pow(double(cur_len), length_penalty);
  }
};

std::vector<int64_t> row_of(const Tensor& seqs, int64_t r) {
  auto row = seqs[r].cpu().contiguous();
  return {row.data_ptr<int64_t>(), row.data_ptr<int64_t>() + row.numel()};
}

// The reference's finalize: best hypotheses first, EOS re-appended to the shorter ones, pad after.
void finalize(GenerateResult& r, Hypotheses& hyps, const Settings& s) {
  std::stable_sort(hyps.kept.begin(), hyps.kept.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; });
  std::vector<Hypothesis> best;
  for (int j = 0; j < s.returns; ++j) {
    best.push_back(hyps.kept.back());
    hyps.kept.pop_back();
  }
  size_t longest = 0, shortest = SIZE_MAX;
  for (const auto& h : best)
    longest = std::max(longest, h.tokens.size()), shortest = std::min(shortest, h.tokens.size());
  const int64_t width = std::min<int64_t>(int64_t(longest) + 1, s.max_length);
  r.sequences = torch::full({s.returns, width}, s.pad, torch::kLong);
  r.beam_indices = torch::full({s.returns, width}, -1, torch::kLong);
  r.sequences_scores = torch::empty({s.returns}, torch::kFloat32);
  for (int i = 0; i < s.returns; ++i) {
    const auto& h = best[i];
    for (size_t t = 0; t < h.tokens.size(); ++t) r.sequences[i][long(t)] = h.tokens[t];
    for (size_t t = 0; t < h.beam_index.size(); ++t) r.beam_indices[i][long(t)] = h.beam_index[t];
    if (int64_t(h.tokens.size()) < width) r.sequences[i][long(h.tokens.size())] = s.eos;
    r.sequences_scores[i] = float(h.score);
  }
}

GenerateResult beam_search(LmSession& session, const Settings& s, const GenerateOptions& o) {
  GenerateResult r;
  const int64_t k = s.beams;
  Hypotheses hyps{s.beams, s.length_penalty, s.early_stopping, {}, 1e9};
  auto logits = session.first();
  const auto dev = logits.device();
  const int64_t vocab = logits.size(1);
  auto seqs = torch::full({k, 1}, s.start, torch::dtype(torch::kLong).device(dev));
  auto beam_scores = torch::full({k}, -1e9, logits.options());
  beam_scores[0] = 0.0;
  std::vector<std::vector<int64_t>> history(k);
  bool done = false;
  while (true) {
    auto scores = process(torch::log_softmax(logits, -1), seqs, s);
    r.scores.push_back(scores);
    auto total = (scores + beam_scores.unsqueeze(1)).view({1, k * vocab});
    auto top = total.topk(2 * k, 1, true, true);
    auto values = std::get<0>(top)[0].to(torch::kFloat64).cpu(), flat = std::get<1>(top)[0].cpu();
    std::vector<double> new_scores;
    std::vector<int64_t> new_tokens, new_rows;
    const int64_t cur_len = seqs.size(1) + 1;
    for (int64_t rank = 0; rank < 2 * k && int64_t(new_rows.size()) < k; ++rank) {
      const int64_t token = flat[rank].item<int64_t>() % vocab, row = flat[rank].item<int64_t>() / vocab;
      const double score = values[rank].item<double>();
      if (token == s.eos) {
        if (rank >= k) continue;
        auto idx = history[row];
        idx.push_back(row);
        hyps.add(row_of(seqs, row), score, idx);
      } else {
        new_scores.push_back(score);
        new_tokens.push_back(token);
        new_rows.push_back(row);
      }
    }
    done = done || hyps.done(values[0].item<double>(), cur_len);
    auto rows = torch::tensor(new_rows, torch::kLong).to(dev);
    auto tokens = torch::tensor(new_tokens, torch::kLong).to(dev);
    beam_scores = torch::tensor(new_scores, torch::kFloat64).to(logits.options());
    seqs = torch::cat({seqs.index_select(0, rows), tokens.unsqueeze(1)}, 1);
    std::vector<std::vector<int64_t>> next_history;
    for (int64_t row : new_rows) {
      next_history.push_back(history[row]);
      next_history.back().push_back(row);
    }
    history = std::move(next_history);
    session.reorder(rows);
    if (done || seqs.size(1) >= s.max_length) break;
    check_stop(o);
    logits = session.next(tokens);
  }
  if (!done) {
    auto final_scores = beam_scores.to(torch::kFloat64).cpu();
    for (int64_t b = 0; b < k; ++b) hyps.add(row_of(seqs, b), final_scores[b].item<double>(), history[b]);
  }
  finalize(r, hyps, s);
  return r;
}

}  // namespace

GenerateResult generate(Blip2ModelImpl& model, const Tensor& queries, const Tensor& prompt_ids,
                        const Tensor& prompt_mask, const GenerateOptions& opts) {
  const Settings s = settings(model.cfg, opts);
  if (queries.size(0) != 1) throw Error(ErrorCode::BadArgument, "generate: one image at a time");
  auto [embeds, mask] = model.lm_inputs(queries, prompt_ids, prompt_mask);
  auto session = start_session(model, embeds, mask, s.beams, opts.record_attentions);
  check_stop(opts);
  GenerateResult r = s.beams == 1 ? greedy(*session, s, opts) : beam_search(*session, s, opts);
  r.lm_steps = std::move(session->steps);
  r.encoder = std::move(session->encoder);
  return r;
}

}  // namespace core::blip2
