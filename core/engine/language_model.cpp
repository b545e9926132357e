// The engine's side of families whose language model decodes itself (BLIP-2):
// the prompt, lengths and checks, the answers with their token probabilities,
// and the inspection (Q-Former maps per answer token, image reliance).
#include "core/engine/impl.h"

namespace core {

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" \t\n\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\n\r") - b + 1);
}

}  // namespace

std::string Engine::Impl::lm_piece(int64_t id) const {
  if (id == cfg.eos_id) return "[SEP]";  // the end token, named as the UI and the heatmaps know it
  std::string t = trim(lm_tok->decode({id}, false));
  return t.empty() ? lm_tok->id_to_token(id) : t;
}

std::string Engine::Impl::lm_prompt(Task task, std::string_view question, const std::string& tmpl) const {
  const std::string what = task == Task::Ask ? "question" : "prompt";
  if (!is_valid_utf8(question)) throw Error(ErrorCode::BadQuestion, "the " + what + " is not valid UTF-8");
  if (question.size() > 16384)
    throw Error(ErrorCode::BadQuestion, "the " + what + " is too long (" + std::to_string(question.size()) + " bytes)");
  if (task != Task::Ask) return std::string(question);
  if (trim(std::string(question)).empty()) throw Error(ErrorCode::BadQuestion, "the question is empty");
  const std::string& t = tmpl.empty() ? cfg.prompt_template : tmpl;
  const auto at = t.find("{}");
  if (at == std::string::npos)
    throw Error(ErrorCode::BadArgument, "the prompt template has no {} where the question goes");
  return t.substr(0, at) + std::string(question) + t.substr(at + 2);
}

Result Engine::Impl::run_language_model(ImageId id, Task task, std::string_view question, const std::string& prompt,
                                        int beams, int max_new_tokens, int min_new_tokens, int top_alternatives,
                                        ConfidenceMethod confidence, const PartialHandler& on_partial,
                                        const CancelToken& cancel) {
  if (beams < 1 || beams > 16) throw Error(ErrorCode::BadArgument, "beams must be between 1 and 16");
  std::vector<int64_t> ids;
  if (!prompt.empty()) ids = lm_tok->encode(prompt, true);
  // The output starts with one placeholder token, which HuggingFace's lengths count.
  const auto [max_new, min_new] = lengths(max_new_tokens, min_new_tokens, 1);
  const int64_t need = cfg.queries + static_cast<int64_t>(ids.size()) + max_new;
  if (need > cfg.text.max_positions)
    throw Error(ErrorCode::BadQuestion, "the " + std::string(task == Task::Ask ? "question" : "prompt") +
                                            " is too long: " + std::to_string(ids.size()) +
                                            " tokens, this model reads at most " +
                                            std::to_string(cfg.text.max_positions - cfg.queries - max_new));
  const auto& image = entry(id);
  compat::InferenceGuard guard;
  return on_device([&] {
    Result r;
    r.task = task;
    r.image = id;
    r.question = std::string(question);
    r.prompt = prompt;
    r.timings.preprocess_ms = image.preprocess_ms;
    r.timings.vision_ms = image.vision_ms;
    r.timings.vision_cached = true;
    GenerationRequest req;
    req.prompt = ids;
    req.beams = beams;
    req.max_new = max_new;
    req.min_new = min_new;
    req.top_alternatives = std::max(top_alternatives, 1);
    req.should_stop = [&cancel] { return cancel.cancelled(); };
    std::vector<int64_t> so_far;
    if (on_partial && beams == 1)
      req.on_token = [&](int64_t t) {
        if (t == cfg.eos_id) return;
        so_far.push_back(t);
        on_partial(trim(lm_tok->decode(so_far, true)));
      };
    at::set_num_threads(text_threads);
    Generation g = family->generate(image.embeds, req);
    r.timings.fusion_ms = g.fusion_ms;
    r.timings.decode_ms = g.decode_ms;
    r.timings.step_ms = g.step_ms;

    std::vector<Answer> answers;
    for (const auto& c : g.candidates) {
      Answer a;
      double logp = 0;
      for (size_t t = 0; t < c.ids.size(); ++t) {
        const int64_t tid = c.ids[t];
        if (tid != cfg.eos_id) a.ids.push_back(tid);
        logp += c.logp[t];
        TokenInfo ti{lm_piece(tid), tid, std::exp(c.logp[t]), {}};
        for (const auto& [alt, p] : c.top[t]) ti.top.push_back({lm_piece(alt), p});
        a.tokens.push_back(std::move(ti));
      }
      a.text = trim(lm_tok->decode(a.ids, true));
      const double n = std::max<double>(1, static_cast<double>(a.ids.size()));
      // Beam search ranks by its own (length-penalised) score, as the reference returns them.
      a.raw_score = static_cast<float>(std::exp(beams > 1 ? c.score : logp / n));
      a.confidence = static_cast<float>(std::exp(logp / std::pow(n, calib.length_exponent)));
      auto same = std::find_if(answers.begin(), answers.end(), [&](const Answer& b) { return b.text == a.text; });
      if (same == answers.end()) answers.push_back(std::move(a));
    }

    auto& in = r.inspection;
    in.tokens_are_answer = true;
    in.image_reliance = true;
    in.learned_gates = false;
    in.has_class_token = true;
    in.grid_h = image.grid_h;
    in.grid_w = image.grid_w;
    in.fusion_layers = cfg.fusion_layers;
    if (!answers.empty())
      for (const auto& t : answers.front().tokens) in.question_tokens.push_back(t.text);
    in.special = special_rows(in.question_tokens);
    if (g.maps.defined()) {
      in.cross_attention = to_array(g.maps);
      in.gates = to_array(g.reliance);
      auto onehot = torch::zeros({g.maps.size(0)});
      onehot[g.maps.size(0) - 1] = 1.f;
      in.routing = to_array(onehot);
    }
    finish_answers(&r, std::move(answers), confidence);
    return r;
  });
}

Tensor Engine::Impl::lm_relevance(const Result& r, int answer) {
  const auto& a = r.answers[static_cast<size_t>(answer)];
  std::vector<int64_t> ids = a.ids;
  if (a.tokens.size() > a.ids.size()) ids.push_back(cfg.eos_id);  // the end token was chosen: it is explained too
  const auto& image = entry(r.image);
  std::vector<int64_t> prompt;
  if (!r.prompt.empty()) prompt = lm_tok->encode(r.prompt, true);
  auto rel = on_device([&] { return family->answer_relevance(image.embeds, prompt, ids); });  // [N]
  const int64_t T = std::max<int64_t>(1, static_cast<int64_t>(r.inspection.question_tokens.size()));
  return rel.unsqueeze(0).expand({T, rel.size(0)}).contiguous();
}

}  // namespace core
