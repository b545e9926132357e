#include "core/engine/impl.h"

namespace core {

const char* heatmap_method_name(HeatmapMethod m) {
  switch (m) {
    case HeatmapMethod::LayerAttention:
      return "layer";
    case HeatmapMethod::AllLayers:
      return "all-layers";
    case HeatmapMethod::Rollout:
      return "rollout";
    case HeatmapMethod::GradWeighted:
      return "grad-weighted";
  }
  return "?";
}

const char* precision_name(Precision p) {
  switch (p) {
    case Precision::Auto:
      return "auto";
    case Precision::Float32:
      return "float32";
    case Precision::BFloat16:
      return "bfloat16";
    case Precision::Float16:
      return "float16";
  }
  return "?";
}

bool precision_from_name(std::string_view s, Precision* out) {
  for (Precision p : {Precision::Auto, Precision::Float32, Precision::BFloat16, Precision::Float16})
    if (s == precision_name(p)) {
      *out = p;
      return true;
    }
  return false;
}

Engine::Engine() : d(std::make_unique<Impl>()) {}
Engine::~Engine() = default;

namespace {

// The weight files' headers are checked before anything is allocated: sizes in
// config.json that pass validation but describe a far larger model than the
// files hold (16384 wide, 256 layers: terabytes) are refused here.
void check_config_fits_weights(const Checkpoint& st, const ModelConfig& cfg) {
  const uint64_t stored = st.stored_values();
  const uint64_t need = cfg.min_parameters();
  if (need > stored)
    throw Error(ErrorCode::BadWeights, st.label() + ": holds " + std::to_string(stored) +
                                           " values, but config.json describes a model of at least " +
                                           std::to_string(need) +
                                           " parameters (config.json does not belong to these weights)");
}

void load_vocabulary(const fs::path& dir, const ModelConfig& cfg, Tokenizer& tok,
                     std::unique_ptr<TextTokenizer>& lm_tok) {
  if (cfg.family == ModelFamily::Blip2) {
    lm_tok = load_tokenizer(dir);
    if (lm_tok->vocab_size() > cfg.text.vocab_size)
      throw Error(ErrorCode::BadVocab, dir.u8string() + ": the tokenizer has " + std::to_string(lm_tok->vocab_size()) +
                                           " tokens, more than the language model's vocab_size " +
                                           std::to_string(cfg.text.vocab_size));
  } else {
    tok = Tokenizer::from_folder(dir);
    if (tok.vocab_size() > cfg.text.vocab_size)
      throw Error(ErrorCode::BadVocab, (dir / "vocab.txt").u8string() + ": " + std::to_string(tok.vocab_size()) +
                                           " tokens, more than the model's vocab_size " +
                                           std::to_string(cfg.text.vocab_size));
  }
}

torch::Device choose_device(Device requested) {
  if (requested == Device::Cuda && !compat::cuda_available())
    throw Error(ErrorCode::Device, "CUDA was requested but this build of libtorch has no usable CUDA device");
  if (requested != Device::Cpu && compat::cuda_available()) return torch::Device(torch::kCUDA, 0);
  return torch::Device(torch::kCPU);
}

torch::ScalarType choose_dtype(Precision requested, const torch::Device& device, DType stored_dtype) {
  torch::ScalarType dtype = torch::kFloat32;
  switch (requested) {
    case Precision::Auto:
      if (device.is_cuda()) dtype = stored_dtype == DType::BF16 ? torch::kBFloat16 : torch::kFloat16;
      break;
    case Precision::Float32:
      break;
    case Precision::BFloat16:
      dtype = torch::kBFloat16;
      break;
    case Precision::Float16:
      if (!device.is_cuda())
        throw Error(ErrorCode::Device,
                    "float16 runs only on a CUDA GPU (the CPU has no float16 arithmetic); "
                    "on the CPU choose bfloat16 or float32");
      dtype = torch::kFloat16;
      break;
  }
  return dtype;
}

// The weights must fit in the memory free now: with the precision left to auto a
// model too large for float32 on the CPU runs in bfloat16; one too large even
// then is refused before anything is allocated. Returns the dtype to load in.
torch::ScalarType fit_in_memory(const fs::path& dir, const Options& opt, const torch::Device& device,
                                torch::ScalarType dtype, uint64_t values) {
  const uint64_t free = opt.memory_budget > 0 ? opt.memory_budget : device.is_cuda() ? 0 : available_memory();
  auto gib = [](uint64_t b) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(b) / (1u << 30));
    return std::string(buf);
  };
  const uint64_t need = values * torch::elementSize(dtype);
  if (free > 0 && need > free) {
    const uint64_t half = values * 2;
    if (opt.dtype == Precision::Auto && dtype == torch::kFloat32 && half <= free) {
      dtype = torch::kBFloat16;
      if (opt.on_warning)
        opt.on_warning(Warning{Warning::Code::LowerPrecision, "float32 needs " + gib(need) + ", " + gib(free) +
                                                                  " free: loaded in bfloat16 (" + gib(half) + ")"});
    } else {
      throw Error(ErrorCode::Device,
                  dir.u8string() + ": the weights need " + gib(need) + " in " + scalar_name(dtype) +
                      (dtype == torch::kFloat32 ? " (" + gib(half) + " in bfloat16)" : std::string()) + ", but only " +
                      gib(free) + " of memory is free");
    }
  }
  return dtype;
}

// Moves a CUDA model to the GPU; the out-of-memory message when it does not fit, else "".
std::string move_to_gpu(Family& family, const torch::Device& device, torch::ScalarType dtype) {
  std::string why;
  try {
    family.to(device, dtype);
  } catch (const c10::Error& ex) {
    if (!compat::is_out_of_memory(ex)) throw;
    why = ex.what_without_backtrace();
  }
  return why;
}

// The parts of ModelInfo that the configuration, the model and the calibration decide.
void describe_model(ModelInfo& info, const ModelConfig& cfg, const Family& family, const Calibration& calib) {
  info.family = cfg.family;
  info.task = cfg.task;
  info.parameters = family.num_parameters();
  info.image_size = cfg.vision.image_size;
  info.patch_size = cfg.vision.patch_size;
  info.grid = cfg.vision.grid();
  info.keep_aspect = cfg.preprocess.keep_aspect;
  info.vision_layers = cfg.vision.layers;
  info.text_layers = cfg.task == ModelTask::Vqa ? cfg.text.layers : 0;
  info.decoder_layers = cfg.text.decoder_layers;
  info.hidden = cfg.text.hidden;
  info.vision_hidden = cfg.vision.hidden;
  info.fusion_layers = cfg.fusion_layers;
  info.queries = cfg.queries;
  info.learned_gates = cfg.gates;
  info.routing = cfg.routing;
  info.calibrated = calib.present;
  if (family.can(Capability::MatchText)) {
    info.align_dim = cfg.align_dim;
    info.align_temperature = family.align_temperature();
    info.matching_head = family.has_matching_head();
  }
  info.temperature = calib.temperature;
  info.length_exponent = calib.length_exponent;
  info.default_confidence = calib.default_method;
}

}  // namespace

std::unique_ptr<Engine> Engine::load(const fs::path& dir, const Options& opt, const Progress& progress) {
  auto t0 = Clock::now();
  auto report = [&](float f, LoadStage stage) {
    if (progress) progress(f, stage);
  };
  std::unique_ptr<Engine> e(new Engine());
  auto& d = *e->d;
  report(0.f, LoadStage::Config);
  d.cfg = load_config(dir);
  std::optional<Checkpoint> st(Checkpoint::from_folder(dir));
  check_config_fits_weights(*st, d.cfg);
  report(0.05f, LoadStage::Vocabulary);
  load_vocabulary(dir, d.cfg, d.tok, d.lm_tok);
  d.calib = read_calibration(dir);
  configure_compute_threads(opt.threads);
  d.device = choose_device(opt.device);
  const DType stored_dtype = st->stored_dtype();
  d.dtype = choose_dtype(opt.dtype, d.device, stored_dtype);
  d.dtype = fit_in_memory(dir, opt, d.device, d.dtype, st->stored_values());
  report(0.1f, LoadStage::Building);
  {
    // Built in the running dtype, so a bfloat16 model never holds float32 weights.
    std::optional<compat::DefaultDtypeGuard> in_dtype;
    if (!d.device.is_cuda() && d.dtype != torch::kFloat32) in_dtype.emplace(d.dtype);
    d.family = make_family(d.cfg);
  }
  report(0.2f, LoadStage::Weights);
  d.family->load_weights(*st);
  d.info.stored_dtype = dtype_name(stored_dtype);
  d.info.weights_format = st->format();
  d.info.weight_files = static_cast<int>(st->files());
  d.info.weight_bytes = st->stored_bytes();
  // load_weights copied every tensor: nothing maps the file any more, so it may
  // change or vanish under a running session (a truncated mapping would SIGBUS).
  st.reset();
  d.family->freeze();
  d.on_warning = opt.on_warning;
  if (!d.device.is_cuda() && d.dtype != torch::kFloat32) d.family->to(d.device, d.dtype);
  if (d.device.is_cuda()) {
    const std::string why = move_to_gpu(*d.family, d.device, d.dtype);
    if (!why.empty()) d.fall_back_to_cpu(why.substr(0, why.find('\n')));
  }
  d.cache_size = std::max<size_t>(1, opt.image_cache_size);
  report(0.9f, LoadStage::Threads);
  d.choose_threads(opt.threads);
  report(0.95f, LoadStage::Ready);

  auto& info = d.info;
  info.name = fs::absolute(dir).filename().u8string();
  if (info.name.empty()) info.name = fs::absolute(dir).parent_path().filename().u8string();
  describe_model(info, d.cfg, *d.family, d.calib);
  info.device = d.device.is_cuda() ? "cuda:0" : "cpu";
  info.dtype = scalar_name(d.dtype);
  info.running_bytes = static_cast<uint64_t>(d.family->num_parameters()) * torch::elementSize(d.dtype);
  info.threads = std::max(d.vision_threads, d.text_threads);
  info.vision_threads = d.vision_threads;
  info.text_threads = d.text_threads;
  info.vocab_size = d.lm_tok ? d.lm_tok->vocab_size() : d.tok.vocab_size();
  info.torch_version = compat::version_string();
  info.load_ms = ms_since(t0);
  report(1.f, LoadStage::Ready);
  return e;
}

std::vector<float> Engine::embed_image(ImageId id) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->require_alignment();
  const auto& entry = d->entry(id);
  return d->on_device([&] { return d->image_vector(entry); });
}

std::vector<float> Engine::embed_text(std::string_view text) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->require_alignment();
  return d->on_device([&] { return d->text_vector(text); });
}

std::vector<Match> Engine::match(ImageId id, const std::vector<std::string>& texts) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->require_alignment();
  if (texts.empty()) throw Error(ErrorCode::BadArgument, "no texts to match the image with");
  const auto& entry = d->entry(id);
  return d->on_device([&] {
    const auto image = d->image_vector(entry);
    std::vector<std::vector<float>> t;
    for (const auto& s : texts) t.push_back(d->text_vector(s));
    return d->scores(image, t);
  });
}

std::vector<Match> Engine::rank(std::string_view text, const std::vector<ImageId>& images) {
  std::lock_guard<std::mutex> lock(d->mu);
  d->require_alignment();
  return d->on_device([&] {
    const auto t = d->text_vector(text);
    std::vector<std::vector<float>> v;
    for (auto id : images) v.push_back(d->image_vector(d->entry(id)));
    return d->scores(t, v);
  });
}

std::vector<Match> Engine::rank(const std::vector<float>& text, const std::vector<std::vector<float>>& images) const {
  d->require_alignment();
  return d->scores(text, images);
}

const ModelInfo& Engine::info() const { return d->info; }
int64_t Engine::vision_runs() const { return d->vision_runs.load(); }

bool Engine::cached(ImageId id) const {
  std::lock_guard<std::mutex> lock(d->mu);
  for (const auto& [k, v] : d->lru)
    if (k == id) return true;
  return false;
}

ImageId Engine::encode(const Image& rgb, const CancelToken& cancel) {
  if (rgb.empty() || rgb.rgb.size() != static_cast<size_t>(rgb.width) * static_cast<size_t>(rgb.height) * 3)
    throw Error(ErrorCode::BadImage, "empty or inconsistent image buffer");
  std::lock_guard<std::mutex> lock(d->mu);
  const ImageId id = hash_image(rgb);
  if (d->touch(id)) return id;
  if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
  compat::InferenceGuard guard;
  Impl::Entry e = d->on_device([&] {
    Impl::Entry e;
    auto t0 = Clock::now();
    PreprocessSpec::Size in;
    auto pixels = preprocess(rgb, d->cfg.preprocess, &in);
    auto x = torch::from_blob(pixels.data(), {1, 3, in.height, in.width}, torch::kFloat32).to(d->device, d->dtype);
    e.grid_h = in.height / d->cfg.vision.patch_size;
    e.grid_w = in.width / d->cfg.vision.patch_size;
    if (!d->device.is_cuda()) x = x.clone();
    e.preprocess_ms = ms_since(t0);
    t0 = Clock::now();
    at::set_num_threads(d->vision_threads);
    e.embeds = d->family->encode_image(x);
    if (d->device.is_cuda()) torch::cuda::synchronize();
    e.vision_ms = ms_since(t0);
    return e;
  });
  ++d->vision_runs;
  d->lru.emplace_front(id, std::move(e));
  while (d->lru.size() > d->cache_size) d->lru.pop_back();
  return id;
}

Result Engine::ask(ImageId id, std::string_view question, const AskOptions& opt, const CancelToken& cancel) {
  std::lock_guard<std::mutex> lock(d->mu);
  if (!d->family->can(Capability::Ask))
    throw Error(ErrorCode::BadArgument,
                "this model (" + d->info.name + ") " +
                    (d->family->can(Capability::Describe) ? "describes images" : "matches images with text") +
                    "; it does not answer questions");
  if (d->family->decodes_itself()) {
    if (!opt.answers.empty())
      throw Error(ErrorCode::BadArgument, "this model (" + d->info.name + ") cannot rank a closed list of answers");
    return d->run_language_model(id, Task::Ask, question, d->lm_prompt(Task::Ask, question, opt.prompt_template),
                                 opt.beams, opt.max_new_tokens, opt.min_new_tokens, opt.top_alternatives,
                                 opt.confidence, opt.on_partial, cancel);
  }
  if (opt.beams < 1 || opt.beams > 16) throw Error(ErrorCode::BadArgument, "beams must be between 1 and 16");
  int max_new = 0, min_new = 0;
  std::tie(max_new, min_new) = d->lengths(opt.max_new_tokens, opt.min_new_tokens, 1);
  const auto& entry = d->entry(id);
  compat::InferenceGuard guard;
  auto enc = d->encode_question(question);
  return d->on_device([&] {
    Result r;
    r.task = opt.answers.empty() ? Task::Ask : Task::Rank;
    r.image = id;
    r.question = std::string(question);
    r.timings.preprocess_ms = entry.preprocess_ms;
    r.timings.vision_ms = entry.vision_ms;
    r.timings.vision_cached = true;
    auto t0 = Clock::now();
    Record rec;
    rec.enabled = true;
    at::set_num_threads(d->text_threads);
    auto fused = d->encode_text(enc, entry.embeds, &rec, &entry);
    r.timings.fusion_ms = ms_since(t0);
    if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
    d->fill_inspection(&r, rec, entry, enc.tokens, false);
    auto mm = d->memory_mask(&enc);
    std::vector<Answer> answers;
    if (!opt.answers.empty()) {
      answers = d->rank(fused, mm, opt.answers, {d->cfg.bos_id}, &r.timings);
    } else {
      auto hyps = d->generate(fused, mm, {d->cfg.bos_id}, opt.beams, max_new, min_new, opt.top_alternatives,
                              d->calib.temperature, cancel, &r.timings);
      answers = d->to_answers(hyps);
    }
    d->finish_answers(&r, std::move(answers), opt.confidence);
    return r;
  });
}

Result Engine::describe(ImageId id, const DescribeOptions& opt, const CancelToken& cancel) {
  // A model that only answers questions describes by answering its describe question.
  if (!d->family->can(Capability::Describe) && d->family->can(Capability::Ask)) {
    AskOptions ao;
    ao.beams = opt.beams;
    ao.max_new_tokens = opt.max_new_tokens;
    ao.min_new_tokens = opt.min_new_tokens;
    ao.top_alternatives = opt.top_alternatives;
    ao.confidence = opt.confidence;
    auto r = ask(id, opt.prompt.empty() ? d->cfg.describe_question : opt.prompt, ao, cancel);
    r.task = Task::Describe;
    return r;
  }
  std::lock_guard<std::mutex> lock(d->mu);
  if (!d->family->can(Capability::Describe))
    throw Error(ErrorCode::BadArgument,
                "this model (" + d->info.name + ") matches images with text; it does not describe them");
  if (d->family->decodes_itself())
    return d->run_language_model(id, Task::Describe, opt.prompt, d->lm_prompt(Task::Describe, opt.prompt, {}),
                                 opt.beams, opt.max_new_tokens, opt.min_new_tokens, opt.top_alternatives,
                                 opt.confidence, opt.on_partial, cancel);
  if (opt.beams < 1 || opt.beams > 16) throw Error(ErrorCode::BadArgument, "beams must be between 1 and 16");
  const auto& entry = d->entry(id);
  compat::InferenceGuard guard;
  std::vector<int64_t> prefix{d->cfg.bos_id};
  if (!opt.prompt.empty()) {
    if (!is_valid_utf8(opt.prompt)) throw Error(ErrorCode::BadQuestion, "the prompt is not valid UTF-8 text");
    auto enc = d->tok.encode(opt.prompt, false);
    prefix.insert(prefix.end(), enc.ids.begin(), enc.ids.end());
  }
  int max_new = 0, min_new = 0;
  std::tie(max_new, min_new) = d->lengths(opt.max_new_tokens, opt.min_new_tokens, prefix.size());
  if (static_cast<int>(prefix.size()) + max_new > d->cfg.text.max_positions)
    throw Error(ErrorCode::BadQuestion, "the prompt is too long for this model");
  return d->on_device([&] {
    Result r;
    r.task = Task::Describe;
    r.image = id;
    r.question = opt.prompt;
    r.timings.preprocess_ms = entry.preprocess_ms;
    r.timings.vision_ms = entry.vision_ms;
    r.timings.vision_cached = true;
    at::set_num_threads(d->text_threads);
    auto hyps = d->generate(entry.embeds, {}, prefix, opt.beams, max_new, min_new, opt.top_alternatives,
                            d->calib.temperature, cancel, &r.timings);
    auto answers = d->to_answers(hyps);
    // Prompted captions include the prompt, as the reference returns them.
    if (!opt.prompt.empty())
      for (auto& a : answers)
        a.text = d->answer_text([&] {
          std::vector<int64_t> all(prefix.begin() + 1, prefix.end());
          all.insert(all.end(), a.ids.begin(), a.ids.end());
          return all;
        }());
    // Inspection: one teacher-forced pass over the best caption, recording the
    // decoder's cross-attention per generated token.
    if (!answers.empty()) {
      std::vector<int64_t> seq = prefix;
      seq.insert(seq.end(), answers.front().ids.begin(), answers.front().ids.end());
      Record rec;
      rec.enabled = true;
      auto t0 = Clock::now();
      d->family->decode(d->ids_tensor(seq), entry.embeds, {}, nullptr, 0, &rec);
      r.timings.fusion_ms = ms_since(t0);
      std::vector<std::string> toks;
      for (auto tid : seq) toks.push_back(tid == d->cfg.bos_id ? "[DEC]" : d->piece(tid));
      d->fill_inspection(&r, rec, entry, toks, true);
    }
    d->finish_answers(&r, std::move(answers), opt.confidence);
    return r;
  });
}

Array Engine::heatmap(const Result& r, const HeatmapRequest& req, const CancelToken& cancel) {
  const auto& in = r.inspection;
  if (in.cross_attention.data.empty()) throw Error(ErrorCode::BadArgument, "the result has no attention maps");
  if (req.method != HeatmapMethod::GradWeighted) return d->reduce_to_grid(d->token_relevance(in, req), in, req.token);

  std::lock_guard<std::mutex> lock(d->mu);
  if (r.answers.empty()) throw Error(ErrorCode::BadArgument, "the result has no answer to explain");
  if (req.answer < 0 || req.answer >= static_cast<int>(r.answers.size()))
    throw Error(ErrorCode::BadArgument, "answer " + std::to_string(req.answer) + " does not exist");
  if (cancel.cancelled()) throw Error(ErrorCode::Cancelled, "cancelled");
  if (d->family->decodes_itself()) return d->reduce_to_grid(d->lm_relevance(r, req.answer), in, req.token);
  const auto& entry = d->entry(r.image);
  // Gradient of the answer's log-probability with respect to the cross-attention
  // maps: the image features are made a leaf so every map joins the graph.
  Tensor rel = d->on_device([&] {
    torch::AutoGradMode grad(true);
    auto image = entry.embeds.clone().detach().set_requires_grad(true);
    const auto& ans = r.answers[static_cast<size_t>(req.answer)];
    Record rec;
    rec.enabled = true;
    Tensor memory, mm;
    std::vector<int64_t> seq{d->cfg.bos_id};
    int64_t first_target = 0;
    const bool asked = d->family->can(Capability::Ask);
    if (asked) {
      auto enc = d->encode_question(r.question);
      memory = d->encode_text(enc, image, &rec);
      mm = d->memory_mask(&enc);
    } else {
      memory = image;
      if (!r.question.empty()) {
        auto enc = d->tok.encode(r.question, false);
        seq.insert(seq.end(), enc.ids.begin(), enc.ids.end());
      }
    }
    first_target = static_cast<int64_t>(seq.size());
    seq.insert(seq.end(), ans.ids.begin(), ans.ids.end());
    std::vector<int64_t> targets(seq.begin() + 1, seq.end());
    targets.push_back(d->cfg.eos_id);
    Record dec_rec;
    dec_rec.enabled = !asked;
    auto logits = d->family->decode(d->ids_tensor(seq), memory, mm, nullptr, 0, &dec_rec);
    auto logp = torch::log_softmax(logits[0].to(torch::kFloat32), -1);
    auto tgt = torch::tensor(targets, torch::kLong).to(d->device);
    auto picked = logp.gather(1, tgt.unsqueeze(1)).squeeze(1).slice(0, first_target - 1);
    auto& maps = asked ? rec.cross_attn : dec_rec.cross_attn;
    for (auto& m : maps) m.retain_grad();
    picked.sum().backward();
    Tensor rel;
    for (auto& m : maps) {
      auto g = (m.grad() * m.detach()).clamp_min(0).sum(1)[0].to(torch::kFloat32).to(torch::kCPU);  // [T,N]
      rel = rel.defined() ? rel + g : g;
    }
    return rel.slice(0, 0, static_cast<int64_t>(in.question_tokens.size()));  // learned queries dropped
  });
  return d->reduce_to_grid(rel, in, req.token);
}

}  // namespace core
