// Engine::Impl: decoding (greedy and beam search, closed-list ranking), the answers
// and their confidence.
#include "core/engine/impl.h"

namespace core {

auto Engine::Impl::generate(const Tensor& memory, const Tensor& mem_mask, const std::vector<int64_t>& prefix, int beams,
                            int max_new, int min_new, int topk_alt, float temperature, const CancelToken& cancel,
                            Timings* tm) -> std::vector<Hyp> {
  beams = std::max(1, beams);
  std::vector<LayerCache> cache;
  auto t0 = Clock::now();
  auto logits = family->decode(ids_tensor(prefix), memory, mem_mask, &cache, 0);
  logits = logits.select(1, logits.size(1) - 1).to(torch::kFloat32);  // [A, V]
  int64_t past = static_cast<int64_t>(prefix.size());
  tm->step_ms.push_back(ms_since(t0));
  std::vector<Hyp> alive(1), finished;
  for (int step = 0; step < max_new; ++step) {
    if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
    auto ts = Clock::now();
    auto logp = torch::log_softmax(logits, -1);
    auto logp_cal = temperature == 1.f ? logp : torch::log_softmax(logits / temperature, -1);
    if (step < min_new) {
      // Barred after normalising (as HF's beam search does), so every probability stays the model's own.
      logp.select(1, cfg.eos_id).fill_(-std::numeric_limits<float>::infinity());
      logp_cal.select(1, cfg.eos_id).fill_(-std::numeric_limits<float>::infinity());
    }
    auto total = logp + torch::tensor(std::vector<double>([&] {
                                        std::vector<double> v;
                                        for (auto& h : alive) v.push_back(h.logp);
                                        return v;
                                      }()),
                                      torch::kFloat32)
                            .unsqueeze(1)
                            .to(logp.device());
    const int64_t V = logp.size(1);
    const int64_t want = std::min<int64_t>(2 * beams, total.numel());
    auto top = std::get<1>(total.flatten().topk(want)).to(torch::kCPU);
    auto alt = logp.exp().topk(std::min<int64_t>(std::max(topk_alt, 1), V), -1);
    auto alt_p = std::get<0>(alt).to(torch::kCPU), alt_i = std::get<1>(alt).to(torch::kCPU);
    auto lp_cpu = logp.to(torch::kCPU), lpc_cpu = logp_cal.to(torch::kCPU);
    std::vector<Hyp> next;
    std::vector<int64_t> src;
    for (int64_t k = 0; k < want; ++k) {
      const int64_t flat = top[k].item<int64_t>(), a = flat / V, id = flat % V;
      Hyp h = alive[static_cast<size_t>(a)];
      const float lp = lp_cpu[a][id].item<float>();
      h.ids.push_back(id);
      h.logp += lp;
      h.logp_cal += lpc_cpu[a][id].item<float>();
      TokenInfo ti{piece(id), id, std::exp(lp), {}};
      for (int64_t j = 0; j < std::min<int64_t>(topk_alt, alt_p.size(1)); ++j)
        ti.top.push_back({piece(alt_i[a][j].item<int64_t>()), alt_p[a][j].item<float>()});
      h.tokens.push_back(std::move(ti));
      if (id == cfg.eos_id) {
        // As in HF beam search: an ending only counts when it ranks within the top `beams`.
        h.ended = true;
        if (k < beams && static_cast<int>(finished.size()) < beams) finished.push_back(std::move(h));
      } else if (static_cast<int>(next.size()) < beams) {
        next.push_back(std::move(h));
        src.push_back(a);
      }
      if (static_cast<int>(finished.size()) >= beams) break;
    }
    tm->step_ms.push_back(ms_since(ts));
    if (static_cast<int>(finished.size()) >= beams || next.empty() || step + 1 == max_new) {
      if (static_cast<int>(finished.size()) < beams)
        for (auto& h : next)
          if (static_cast<int>(finished.size()) < beams) finished.push_back(std::move(h));
      break;
    }
    // Reorder the caches to the surviving hypotheses and feed their last token.
    auto index = torch::tensor(src, torch::kLong).to(device);
    for (auto& c : cache) {
      c.self_k = c.self_k.index_select(0, index);
      c.self_v = c.self_v.index_select(0, index);
      c.cross_k = c.cross_k.index_select(0, index);
      c.cross_v = c.cross_v.index_select(0, index);
    }
    std::vector<int64_t> last;
    for (auto& h : next) last.push_back(h.ids.back());
    alive = std::move(next);
    Tensor mm = mem_mask.defined() ? mem_mask.expand({static_cast<int64_t>(alive.size()), -1, -1, -1}) : mem_mask;
    auto step_ids = torch::tensor(last, torch::kLong).unsqueeze(1).to(device);
    ts = Clock::now();
    logits = family->decode(step_ids, memory, mm, &cache, past).select(1, 0).to(torch::kFloat32);
    tm->step_ms.back() += ms_since(ts);
    ++past;
  }
  std::stable_sort(finished.begin(), finished.end(),
                   [](const Hyp& a, const Hyp& b) { return a.norm_score() > b.norm_score(); });
  tm->decode_ms = ms_since(t0);
  return finished;
}

auto Engine::Impl::answer_text(const std::vector<int64_t>& ids) const -> std::string {
  std::vector<int64_t> body;
  for (auto id : ids)
    if (id != cfg.eos_id && id != cfg.bos_id) body.push_back(id);
  return tok.decode(body, true);
}

auto Engine::Impl::finish_answers(Result* r, std::vector<Answer> answers, ConfidenceMethod method) -> void {
  // seed heuristic: mean top-1 probability x length term x attention-spread penalty
  Array map;
  if (!r->inspection.cross_attention.data.empty()) {
    HeatmapRequest req;
    map = reduce_to_grid(token_relevance(r->inspection, req), r->inspection, -1);
  }
  const double spread = map.data.empty() ? 0.0 : heatmap_entropy(map);
  for (auto& a : answers) {
    double top1 = 0;
    for (const auto& t : a.tokens) top1 += t.top.empty() ? t.p : t.top.front().p;
    top1 = a.tokens.empty() ? 0 : top1 / static_cast<double>(a.tokens.size());
    const double length_term = 1.0 / (1.0 + 0.1 * std::max<double>(0, static_cast<double>(a.tokens.size()) - 2));
    a.heuristic = static_cast<float>(top1 * length_term * (1.0 - 0.5 * spread));
  }
  if (method == ConfidenceMethod::Auto)
    method = calib.default_method == "heuristic" ? ConfidenceMethod::Heuristic : ConfidenceMethod::Calibrated;
  if (method == ConfidenceMethod::Heuristic) {
    for (auto& a : answers) a.confidence = a.heuristic;
    std::stable_sort(answers.begin(), answers.end(),
                     [](const Answer& a, const Answer& b) { return a.confidence > b.confidence; });
  } else {
    // The model's own length-normalised score orders the candidates; the calibrated
    // confidence (which may weigh length differently) says how likely each is right.
    std::stable_sort(answers.begin(), answers.end(),
                     [](const Answer& a, const Answer& b) { return a.raw_score > b.raw_score; });
  }
  // Hide candidates below mean + 0.5 std of the candidates' scores (the best stays).
  if (answers.size() > 1) {
    double mean = 0, var = 0;
    for (const auto& a : answers) mean += a.confidence;
    mean /= static_cast<double>(answers.size());
    for (const auto& a : answers) var += (a.confidence - mean) * (a.confidence - mean);
    const double cut = mean + 0.5 * std::sqrt(var / static_cast<double>(answers.size()));
    std::vector<Answer> kept{answers.front()};
    for (size_t i = 1; i < answers.size(); ++i)
      if (answers[i].confidence >= cut) kept.push_back(answers[i]);
    answers = std::move(kept);
  }
  r->answers = std::move(answers);
  r->calibrated = calib.present;
}

auto Engine::Impl::to_answers(const std::vector<Hyp>& hyps) -> std::vector<Answer> {
  std::vector<Answer> out;
  for (const auto& h : hyps) {
    Answer a;
    for (auto id : h.ids)
      if (id != cfg.eos_id) a.ids.push_back(id);
    a.text = answer_text(a.ids);
    a.tokens = h.tokens;
    // Length-normalised over the answer's words; the end token's probability
    // counts but not its length, so a one-word answer keeps its true probability.
    const double n = std::max<double>(1, static_cast<double>(a.ids.size()));
    a.raw_score = static_cast<float>(std::exp(h.logp / n));
    a.confidence = static_cast<float>(std::exp(h.logp_cal / std::pow(n, calib.length_exponent)));
    // identical texts (e.g. differing only in special tokens) merge
    auto same = std::find_if(out.begin(), out.end(), [&](const Answer& b) { return b.text == a.text; });
    if (same == out.end()) out.push_back(std::move(a));
  }
  return out;
}

auto Engine::Impl::rank(const Tensor& memory, const Tensor& mem_mask, const std::vector<std::string>& list,
                        const std::vector<int64_t>& prefix, Timings* tm) -> std::vector<Answer> {
  auto t0 = Clock::now();
  std::vector<std::vector<int64_t>> seqs;
  size_t longest = 0;
  for (const auto& s : list) {
    auto enc = tok.encode(s, false);
    if (enc.ids.empty()) throw Error(ErrorCode::BadArgument, "empty candidate answer in the list");
    enc.ids.push_back(cfg.eos_id);
    longest = std::max(longest, enc.ids.size());
    seqs.push_back(enc.ids);
  }
  const int64_t R = static_cast<int64_t>(seqs.size()), P = static_cast<int64_t>(prefix.size()),
                Lmax = static_cast<int64_t>(longest);
  auto input = torch::full({R, P + Lmax - 1}, cfg.pad_id, torch::kLong);
  auto target = torch::full({R, Lmax}, -1, torch::kLong);
  for (int64_t r = 0; r < R; ++r) {
    for (int64_t j = 0; j < P; ++j) input[r][j] = prefix[static_cast<size_t>(j)];
    const auto& s = seqs[static_cast<size_t>(r)];
    for (size_t j = 0; j + 1 < s.size(); ++j) input[r][P + static_cast<int64_t>(j)] = s[j];
    for (size_t j = 0; j < s.size(); ++j) target[r][static_cast<int64_t>(j)] = s[j];
  }
  auto mem = memory.expand({R, -1, -1});
  Tensor mm = mem_mask.defined() ? mem_mask.expand({R, -1, -1, -1}) : mem_mask;
  auto logits = family->decode(input.to(device), mem, mm, nullptr, 0).to(torch::kFloat32).to(torch::kCPU);
  auto logp = torch::log_softmax(logits.slice(1, P - 1), -1);  // predictions for target positions
  auto valid = target.ge(0);
  auto gathered = logp.gather(2, target.clamp_min(0).unsqueeze(-1)).squeeze(-1) * valid;
  auto seq_logp = gathered.sum(1);  // [R]
  auto raw = torch::softmax(seq_logp, 0), cal = torch::softmax(seq_logp / calib.rank_temperature, 0);
  auto probs = logp.exp();
  std::vector<Answer> out;
  for (int64_t r = 0; r < R; ++r) {
    Answer a;
    a.text = list[static_cast<size_t>(r)];
    a.raw_score = raw[r].item<float>();
    a.confidence = cal[r].item<float>();
    const auto& s = seqs[static_cast<size_t>(r)];
    for (size_t j = 0; j < s.size(); ++j) {
      const auto id = s[j];
      if (id != cfg.eos_id) a.ids.push_back(id);
      auto row = probs[r][static_cast<int64_t>(j)];
      auto top = row.topk(5);
      TokenInfo ti{piece(id), id, row[id].item<float>(), {}};
      for (int64_t k = 0; k < 5; ++k)
        ti.top.push_back({piece(std::get<1>(top)[k].item<int64_t>()), std::get<0>(top)[k].item<float>()});
      a.tokens.push_back(std::move(ti));
    }
    out.push_back(std::move(a));
  }
  tm->decode_ms = ms_since(t0);
  return out;
}

}  // namespace core
