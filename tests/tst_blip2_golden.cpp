// BLIP-2 (OPT and Flan-T5 language models) against the HuggingFace 4.31
// reference outputs in ../shared/golden/blip2 (README there: tensors,
// tolerances, generation rules).
#include <QtTest>

#include <nlohmann/json.hpp>

#include <map>

#include "core/engine/engine.h"
#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"
#include "core/model/blip2/blip2.h"
#include "core/model/blip2/generate.h"
#include "core/vision/image.h"
#include "testutil.h"

using namespace core;
using namespace core::blip2;
namespace fs = std::filesystem;

namespace {

// The README's tolerances.
constexpr double kHidden = 1e-4, kProbs = 1e-5, kLogits = 1e-4, kBeamScore = 1e-4, kPixels = 1e-6;

fs::path blip2_dir() { return testutil::golden_dir() / "blip2"; }

nlohmann::json read_json(const fs::path& p) { return nlohmann::json::parse(testutil::read_file(p)); }

// The reference tensors of one model, with the largest deviation seen per kind.
struct Golden {
  SafeTensors st;
  nlohmann::json meta;
  std::map<std::string, std::pair<double, int>> worst;  // kind -> (max |diff|, tensors compared)

  bool has(const std::string& name) const { return st.contains(name); }
  torch::Tensor get(const std::string& name) const { return tensor_view(st, name); }

  // Empty when `ours` matches the reference within tol, else what differs.
  std::string compare(const torch::Tensor& ours, const std::string& name, double tol, const std::string& kind) {
    if (!has(name)) return "golden tensor '" + name + "' not found";
    const auto ref = get(name);
    if (ours.sizes() != ref.sizes())
      return name + ": shape " + c10::str(ours.sizes()) + " vs reference " + c10::str(ref.sizes());
    const double d = (ours.detach().to(torch::kFloat64).cpu() - ref.to(torch::kFloat64)).abs().max().item<double>();
    auto& w = worst[kind];
    w.first = std::max(w.first, d);
    ++w.second;
    if (!(d <= tol)) return name + ": max |diff| " + std::to_string(d) + " > " + std::to_string(tol);
    return {};
  }
  std::string same_ids(const torch::Tensor& ours, const std::string& name, const std::string& kind) {
    if (!has(name)) return "golden tensor '" + name + "' not found";
    const auto ref = get(name).to(torch::kLong);
    ++worst[kind].second;
    if (ours.sizes() != ref.sizes() || !torch::equal(ours.cpu(), ref))
      return name + ": ids " + c10::str(ours) + " vs reference " + c10::str(ref);
    return {};
  }
  void report(const char* model) const {
    for (const auto& [kind, w] : worst)
      qInfo("%s %-28s %4d compared, max |diff| %.3g", model, kind.c_str(), w.second, w.first);
  }
};

#define GOLDEN_OK(expr)                   \
  do {                                    \
    const std::string err_ = (expr);      \
    QVERIFY2(err_.empty(), err_.c_str()); \
  } while (0)

std::string prefix_image(const std::string& run) { return run.substr(0, run.find('.')); }

torch::Tensor ids_tensor(const nlohmann::json& ids) {
  return torch::tensor(ids.get<std::vector<int64_t>>(), torch::kLong).unsqueeze(0);
}

}  // namespace

class TstBlip2Golden : public QObject {
  Q_OBJECT
  std::map<std::string, std::unique_ptr<Golden>> goldens;
  std::map<std::string, Blip2Model> models;

  bool have() const { return fs::exists(blip2_dir() / "manifest.json"); }

  Golden& golden(const std::string& kind) {
    auto& g = goldens[kind];
    if (!g) {
      g = std::make_unique<Golden>(Golden{SafeTensors::open(blip2_dir() / (kind + "_golden.safetensors")),
                                          read_json(blip2_dir() / (kind + "_golden.json")),
                                          {}});
    }
    return *g;
  }
  Blip2Model& model(const std::string& kind) {
    auto it = models.find(kind);
    if (it == models.end()) it = models.emplace(kind, load_model(blip2_dir() / (kind + "_model"))).first;
    return it->second;
  }

 private Q_SLOTS:
  void initTestCase() {
    if (!have())
      QSKIP(qPrintable("BLIP-2 goldens not found at " + QString::fromStdString(blip2_dir().string()) +
                       " (set AUTOGLM_GOLDEN_DIR)"));
    torch::manual_seed(0);
  }
  void cleanupTestCase() {
    for (const auto& [kind, g] : goldens) g->report(kind.c_str());
  }

  void config_from_file_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("opt") << "opt";
    QTest::newRow("t5") << "t5";
  }
  void config_from_file() {
    QFETCH(QString, kind);
    const auto j = read_json(blip2_dir() / (kind.toStdString() + "_model") / "config.json");
    const auto c = load_config(blip2_dir() / (kind.toStdString() + "_model"));
    QCOMPARE(c.queries, j["num_query_tokens"].get<int>());
    QCOMPARE(c.vision.hidden, j["vision_config"]["hidden_size"].get<int>());
    QCOMPARE(c.vision.intermediate, j["vision_config"]["intermediate_size"].get<int>());
    QCOMPARE(c.vision.patch_size, j["vision_config"]["patch_size"].get<int>());
    QCOMPARE(c.vision.ln_eps, j["vision_config"]["layer_norm_eps"].get<double>());
    QCOMPARE(c.qformer.layers, j["qformer_config"]["num_hidden_layers"].get<int>());
    QCOMPARE(c.qformer.cross_every, j["qformer_config"]["cross_attention_frequency"].get<int>());
    QCOMPARE(c.qformer.encoder_hidden, c.vision.hidden);
    QCOMPARE(c.eos_id, j["text_config"]["eos_token_id"].get<int64_t>());
    QCOMPARE(c.bos_id, j["text_config"]["bos_token_id"].get<int64_t>());
    QCOMPARE(c.vocab(), j["text_config"]["vocab_size"].get<int>());
    QCOMPARE(c.lm == LmKind::Opt, kind == "opt");
    if (c.lm == LmKind::T5) {
      QCOMPARE(c.decoder_start_id, j["text_config"]["decoder_start_token_id"].get<int64_t>());
      QCOMPARE(std::string(act_name(c.t5.act)), j["text_config"]["dense_act_fn"].get<std::string>());
      QCOMPARE(c.t5.tied, j["text_config"]["tie_word_embeddings"].get<bool>());
    }
  }

  void config_refuses_unsupported() {
    auto j = read_json(blip2_dir() / "opt_model" / "config.json");
    auto k = j;
    k["text_config"]["word_embed_proj_dim"] = 16;
    VERIFY_THROWS_MSG(parse_config(k, "cfg"), "text_config.word_embed_proj_dim");
    k = j;
    k["text_config"]["model_type"] = "gpt2";
    VERIFY_THROWS_MSG(parse_config(k, "cfg"), "text_config.model_type");
    k = j;
    k["vision_config"]["hidden_act"] = "swish";
    VERIFY_THROWS_MSG(parse_config(k, "cfg"), "vision_config.hidden_act");
    auto t = read_json(blip2_dir() / "t5_model" / "config.json");
    t["text_config"].erase("decoder_start_token_id");
    VERIFY_THROWS_MSG(parse_config(t, "cfg"), "text_config.decoder_start_token_id");
  }

  void weights_are_checked() {
    const fs::path src = blip2_dir() / "t5_model";
    const auto ck = Checkpoint::from_folder(src);
    std::vector<std::pair<std::string, torch::Tensor>> all;
    for (const auto& n : ck.names()) all.emplace_back(n, tensor_view(ck, n));
    const auto c = load_config(src);
    QTemporaryDir tmp;
    const fs::path file = fs::path(tmp.path().toStdString()) / "model.safetensors";
    auto expect = [&](std::vector<std::pair<std::string, torch::Tensor>> tensors, const std::string& needle) {
      save_tensors(file, tensors);
      Blip2Model m(c);
      VERIFY_THROWS_MSG(m->load_weights(Checkpoint::open(file)), needle);
    };
    const std::string victim = "qformer.encoder.layer.0.crossattention.attention.key.weight";
    auto missing = all;
    missing.erase(std::remove_if(missing.begin(), missing.end(), [&](auto& p) { return p.first == victim; }),
                  missing.end());
    expect(missing, "missing tensor '" + victim + "'");
    auto extra = all;
    extra.emplace_back("qformer.encoder.layer.1.crossattention.attention.key.weight", torch::zeros({2, 2}));
    expect(extra, "unexpected tensor 'qformer.encoder.layer.1.crossattention");
    auto shaped = all;
    for (auto& p : shaped)
      if (p.first == victim) p.second = torch::zeros({3, 3});
    expect(shaped, "tensor '" + victim + "' has shape");
  }

  void pixels_from_png_data() {
    QTest::addColumn<QString>("kind");
    QTest::newRow("opt") << "opt";
    QTest::newRow("t5") << "t5";
  }
  void pixels_from_png() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    const auto c = load_config(blip2_dir() / (kind.toStdString() + "_model"));
    std::map<std::string, std::string> image_of;
    for (const auto& run : g.meta["runs"]) image_of[prefix_image(run["prefix"])] = run["image"];
    QVERIFY(!image_of.empty());
    for (const auto& [img, name] : image_of) {
      const auto rgb = decode_image_file(blip2_dir() / "images" / (name + ".png"));
      PreprocessSpec::Size size;
      auto values = preprocess(rgb, c.preprocess, &size);
      auto pixels = torch::from_blob(values.data(), {1, 3, size.height, size.width}, torch::kFloat32).clone();
      GOLDEN_OK(g.compare(pixels, img + ".pixel_values", kPixels, "pixel_values (PNG)"));
    }
  }

  void image_path_data() { pixels_from_png_data(); }
  void image_path() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    auto& m = model(kind.toStdString());
    c10::InferenceMode guard;
    GOLDEN_OK(g.compare(m->query_tokens, "query_tokens", 0.0, "query_tokens"));
    for (const std::string img : {"img0", "img1"}) {
      if (!g.has(img + ".pixel_values")) continue;
      ImageRecord rec;
      for (Record* r : {&rec.vision, &rec.qformer}) r->attentions = r->hidden_states = true;
      auto pixels = g.get(img + ".pixel_values");
      auto projected = m->encode_image(pixels, &rec);
      for (size_t k = 0; k < rec.vision.hidden.size(); ++k)
        GOLDEN_OK(g.compare(rec.vision.hidden[k], img + ".vision.hidden_states." + std::to_string(k), kHidden,
                            "vision hidden"));
      for (size_t k = 0; k < rec.vision.self_attn.size(); ++k)
        GOLDEN_OK(g.compare(rec.vision.self_attn[k], img + ".vision.attentions." + std::to_string(k), kProbs,
                            "vision attentions"));
      GOLDEN_OK(g.compare(m->vision_model(pixels), img + ".vision.last_hidden_state", kHidden, "vision hidden"));
      for (size_t k = 0; k < rec.qformer.hidden.size(); ++k)
        GOLDEN_OK(g.compare(rec.qformer.hidden[k], img + ".qformer.hidden_states." + std::to_string(k), kHidden,
                            "qformer hidden"));
      GOLDEN_OK(g.compare(rec.qformer.hidden.back(), img + ".qformer.last_hidden_state", kHidden, "qformer hidden"));
      for (size_t k = 0; k < rec.qformer.self_attn.size(); ++k)
        GOLDEN_OK(g.compare(rec.qformer.self_attn[k], img + ".qformer.self_attentions." + std::to_string(k), kProbs,
                            "qformer self-attn"));
      const auto& layers = g.meta["qformer_cross_attention_layers"];
      QCOMPARE(rec.qformer.cross_attn.size(), layers.size());
      for (size_t k = 0; k < layers.size(); ++k)
        GOLDEN_OK(g.compare(rec.qformer.cross_attn[k], img + ".qformer.cross_attentions." + layers[k].dump(), kProbs,
                            "qformer cross-attn"));
      const auto stacked = stack_cross_attentions(rec.qformer);
      QCOMPARE(stacked.dim(), int64_t(4));
      QCOMPARE(stacked.size(0), int64_t(layers.size()));
      GOLDEN_OK(g.compare(projected, img + ".language_projection", kHidden, "language_projection"));
    }
  }

  void language_model_data() { pixels_from_png_data(); }
  void language_model() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    auto& m = model(kind.toStdString());
    c10::InferenceMode guard;
    int runs = 0;
    for (const auto& run : g.meta["runs"]) {
      const std::string p = run["prefix"].get<std::string>() + ".";
      auto queries = m->encode_image(g.get(prefix_image(run["prefix"]) + ".pixel_values"));
      auto ids = g.get(p + "input_ids").to(torch::kLong);
      auto [embeds, mask] = m->lm_inputs(queries, ids, torch::ones_like(ids));
      GOLDEN_OK(g.compare(embeds, p + "lm.inputs_embeds", kHidden, "lm inputs_embeds"));
      GOLDEN_OK(g.same_ids(mask, p + "lm.attention_mask", "lm attention_mask"));
      auto session = start_session(*m, embeds, mask, 1, true, true);
      auto logits = session->first();
      GOLDEN_OK(g.compare(logits, p + "step0.logits", kLogits, "step0 logits"));
      if (m->opt) {
        const Record& r = session->steps[0];
        for (size_t k = 0; k < r.hidden.size(); ++k)
          GOLDEN_OK(g.compare(r.hidden[k], p + "lm.hidden_states." + std::to_string(k), kHidden, "OPT hidden"));
        for (size_t k = 0; k < r.self_attn.size(); ++k)
          GOLDEN_OK(g.compare(r.self_attn[k], p + "lm.attentions." + std::to_string(k), kProbs, "OPT attentions"));
      } else {
        const Record& e = session->encoder;
        for (size_t k = 0; k < e.hidden.size(); ++k)
          GOLDEN_OK(
              g.compare(e.hidden[k], p + "encoder.hidden_states." + std::to_string(k), kHidden, "T5 encoder hidden"));
        GOLDEN_OK(g.compare(e.hidden.back(), p + "encoder.last_hidden_state", kHidden, "T5 encoder hidden"));
        for (size_t k = 0; k < e.self_attn.size(); ++k)
          GOLDEN_OK(g.compare(e.self_attn[k], p + "encoder.attentions." + std::to_string(k), kProbs,
                              "T5 encoder attentions"));
        const Record& d = session->steps[0];
        for (size_t k = 0; k < d.self_attn.size(); ++k) {
          GOLDEN_OK(g.compare(d.self_attn[k], p + "decoder.step0.self_attentions." + std::to_string(k), kProbs,
                              "T5 decoder attentions"));
          GOLDEN_OK(g.compare(d.cross_attn[k], p + "decoder.step0.cross_attentions." + std::to_string(k), kProbs,
                              "T5 decoder attentions"));
        }
        GOLDEN_OK(g.compare(d.hidden.back(), p + "decoder.step0.last_hidden_state", kHidden, "T5 decoder hidden"));
      }
      ++runs;
    }
    QVERIFY(runs > 0);
  }

  void teacher_forced_data() { pixels_from_png_data(); }
  void teacher_forced() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    auto& m = model(kind.toStdString());
    c10::InferenceMode guard;
    int runs = 0;
    for (const auto& run : g.meta["runs"]) {
      const std::string p = run["prefix"].get<std::string>() + ".";
      if (!g.has(p + "teacher_forced.logits")) continue;
      auto queries = m->encode_image(g.get(prefix_image(run["prefix"]) + ".pixel_values"));
      auto ids = g.get(p + "input_ids").to(torch::kLong);
      auto [embeds, mask] = m->lm_inputs(queries, ids, torch::ones_like(ids));
      Record rec;
      rec.attentions = true;
      torch::Tensor logits;
      if (m->opt) {
        auto appended = g.get(p + "teacher_forced.appended_ids").to(torch::kLong);
        auto all = torch::cat({embeds, m->embed_tokens(appended)}, 1);
        auto h = m->opt->forward(all, torch::ones({1, all.size(1)}, torch::kLong), nullptr, &rec);
        logits = m->opt->logits(h.narrow(1, embeds.size(1) - 1, appended.size(1) + 1));
        for (size_t k = 0; k < rec.self_attn.size(); ++k)
          GOLDEN_OK(g.compare(rec.self_attn[k], p + "teacher_forced.attentions." + std::to_string(k), kProbs,
                              "teacher-forced attentions"));
      } else {
        auto dec_ids = g.get(p + "teacher_forced.decoder_input_ids").to(torch::kLong);
        auto enc = m->t5->encoder->forward(embeds, mask, torch::Tensor(), torch::Tensor(), nullptr);
        auto h = m->t5->decoder->forward(m->embed_tokens(dec_ids), torch::ones_like(dec_ids), enc, mask, nullptr, &rec);
        logits = m->t5->logits(h);
        for (size_t k = 0; k < rec.self_attn.size(); ++k) {
          GOLDEN_OK(g.compare(rec.self_attn[k], p + "teacher_forced.decoder.self_attentions." + std::to_string(k),
                              kProbs, "teacher-forced attentions"));
          GOLDEN_OK(g.compare(rec.cross_attn[k], p + "teacher_forced.decoder.cross_attentions." + std::to_string(k),
                              kProbs, "teacher-forced attentions"));
        }
      }
      GOLDEN_OK(g.compare(logits, p + "teacher_forced.logits", kLogits, "teacher-forced logits"));
      // The KV-cached greedy steps give the same logits per step.
      GenerateOptions o;
      o.max_new_tokens = 10;
      auto r = generate(*m, queries, ids, torch::ones_like(ids), o);
      QCOMPARE(int64_t(r.scores.size()), logits.size(1));
      auto cached = torch::stack(r.scores, 1);
      GOLDEN_OK(g.compare(cached, p + "teacher_forced.logits", kLogits, "cached per-step logits"));
      ++runs;
    }
    QVERIFY(runs > 0);
  }

  void greedy_ids_data() { pixels_from_png_data(); }
  void greedy_ids() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    auto& m = model(kind.toStdString());
    c10::InferenceMode guard;
    for (const auto& run : g.meta["runs"]) {
      const std::string p = run["prefix"].get<std::string>() + ".";
      auto queries = m->encode_image(g.get(prefix_image(run["prefix"]) + ".pixel_values"));
      // "noprompt" is generate() without input_ids: the model builds [[bos_token_id]] itself.
      const bool prompt = run["prefix"].get<std::string>().find("noprompt") == std::string::npos;
      auto ids = prompt ? g.get(p + "input_ids").to(torch::kLong) : torch::Tensor();
      auto mask = prompt ? torch::ones_like(ids) : torch::Tensor();
      GenerateOptions ten;
      ten.max_new_tokens = 10;
      ten.record_attentions = true;
      auto r = generate(*m, queries, ids, mask, ten);
      GOLDEN_OK(g.same_ids(r.sequences, p + "generate.greedy.max_new_tokens_10.sequences", "greedy ids"));
      auto share = image_attention_share(r.lm_steps, m->cfg.lm, m->cfg.queries);
      QCOMPARE(share.size(0), r.sequences.size(1) - 1);
      QVERIFY((share >= 0).all().item<bool>() && (share <= 1.0001).all().item<bool>());
      auto d = generate(*m, queries, ids, mask, {});
      GOLDEN_OK(g.same_ids(d.sequences, p + "generate.greedy.default.sequences", "greedy ids"));
    }
  }

  void beam_search_data() { pixels_from_png_data(); }
  void beam_search() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    auto& m = model(kind.toStdString());
    c10::InferenceMode guard;
    int runs = 0;
    for (const auto& run : g.meta["beam_runs"]) {
      const std::string p = run["prefix"].get<std::string>() + ".generate.beam3.max_new_tokens_8.";
      auto queries = m->encode_image(g.get(prefix_image(run["prefix"]) + ".pixel_values"));
      const bool prompt = run["prefix"].get<std::string>().find("noprompt") == std::string::npos;
      auto ids = prompt ? g.get(run["prefix"].get<std::string>() + ".input_ids").to(torch::kLong) : torch::Tensor();
      auto mask = prompt ? torch::ones_like(ids) : torch::Tensor();
      GenerateOptions o;
      o.num_beams = run["num_beams"];
      o.max_new_tokens = run["max_new_tokens"];
      o.num_return_sequences = run["num_return_sequences"];
      auto r = generate(*m, queries, ids, mask, o);
      GOLDEN_OK(g.same_ids(r.sequences, p + "sequences", "beam ids"));
      GOLDEN_OK(g.compare(r.sequences_scores, p + "sequences_scores", kBeamScore, "beam sequences_scores"));
      GOLDEN_OK(g.same_ids(r.beam_indices, p + "beam_indices", "beam indices"));
      o.num_return_sequences = 1;
      auto one = generate(*m, queries, ids, mask, o);
      GOLDEN_OK(g.same_ids(one.sequences, p + "num_return_sequences_1.sequences", "beam ids"));
      ++runs;
    }
    QVERIFY(runs > 0);
  }

  // The same runs through the engine, as the app and the CLI ask: the question in
  // the model card's prompt, the image from its PNG file.
  void engine_answers_data() { pixels_from_png_data(); }
  void engine_answers() {
    QFETCH(QString, kind);
    auto& g = golden(kind.toStdString());
    auto engine = core::Engine::load(blip2_dir() / (kind.toStdString() + "_model"));
    QCOMPARE(engine->info().family, core::ModelFamily::Blip2);
    auto ids_of = [](const torch::Tensor& seq) {  // the new tokens, without the placeholder, end and padding
      std::vector<int64_t> out;
      for (int64_t t = 1; t < seq.size(-1); ++t) out.push_back(seq.view({-1})[t].item<int64_t>());
      return out;
    };
    const int64_t eos = g.meta["token_ids"]["eos"].get<int64_t>();
    auto strip = [&](std::vector<int64_t> v, int64_t pad) {
      while (!v.empty() && (v.back() == pad || v.back() == eos)) v.pop_back();
      return v;
    };
    std::map<std::string, std::string> images;  // "img0" -> its file's name (beam runs name only the prefix)
    for (const auto& run : g.meta["runs"]) images[prefix_image(run["prefix"])] = run["image"].get<std::string>();
    auto run_one = [&](const nlohmann::json& run, int beams, int max_new) {
      const std::string image = images.at(prefix_image(run["prefix"]));
      auto id = engine->encode(core::decode_image_file(blip2_dir() / "images" / (image + ".png")));
      const bool prompt = !run["prompt"].is_null();
      if (!prompt) {
        core::DescribeOptions o;
        o.beams = beams;
        o.max_new_tokens = max_new;
        return engine->describe(id, o);
      }
      const std::string text = run["prompt"].get<std::string>();
      const std::string head = "Question: ", tail = " Answer:";
      core::AskOptions o;
      o.beams = beams;
      o.max_new_tokens = max_new;
      const auto r = engine->ask(id, text.substr(head.size(), text.size() - head.size() - tail.size()), o);
      return r;
    };
    int compared = 0;
    for (const auto& run : g.meta["runs"]) {
      const std::string p = run["prefix"].get<std::string>() + ".";
      for (int max_new : {10, 0}) {
        auto r = run_one(run, 1, max_new);
        QVERIFY(!r.answers.empty());
        const auto ref = ids_of(
            g.get(p + (max_new ? "generate.greedy.max_new_tokens_10.sequences" : "generate.greedy.default.sequences")));
        QCOMPARE(r.answers.front().ids, strip(ref, -1));
        QCOMPARE(r.answers.front().tokens.size(), ref.size());  // one per new token, the end token included
        ++compared;
        if (!run["prompt"].is_null())
          QCOMPARE(QString::fromStdString(r.prompt), QString::fromStdString(run["prompt"].get<std::string>()));
        // Inspection: the Q-Former's maps for each answer token, the language model's image share.
        const auto& in = r.inspection;
        QVERIFY(in.image_reliance && in.tokens_are_answer);
        QCOMPARE(in.cross_attention.shape.size(), size_t(4));
        QCOMPARE(in.cross_attention.shape[2], int64_t(ref.size()));
        QCOMPARE(in.gates.shape[1], int64_t(ref.size()));
        for (float v : in.gates.data) QVERIFY(v >= 0.f && v <= 1.0001f);
        for (auto method :
             {core::HeatmapMethod::AllLayers, core::HeatmapMethod::LayerAttention, core::HeatmapMethod::GradWeighted}) {
          core::HeatmapRequest hr;
          hr.method = method;
          auto map = engine->heatmap(r, hr);
          QCOMPARE(map.shape[0] * map.shape[1], int64_t(in.grid_h * in.grid_w));
          double sum = 0;
          for (float v : map.data) sum += v;
          QVERIFY2(std::abs(sum - 1.0) < 1e-4, core::heatmap_method_name(method));
        }
      }
    }
    for (const auto& run : g.meta["beam_runs"]) {
      const std::string p = run["prefix"].get<std::string>() + ".generate.beam3.max_new_tokens_8.";
      auto r = run_one(run, run["num_beams"].get<int>(), run["max_new_tokens"].get<int>());
      const int64_t pad = g.meta["token_ids"]["pad"].get<int64_t>();
      QCOMPARE(r.answers.front().ids, strip(ids_of(g.get(p + "num_return_sequences_1.sequences")), pad));
      ++compared;
    }
    qInfo("%s: %d engine answers identical to the reference", qPrintable(kind), compared);
  }

  // Greedy answers stream: each partial text is a prefix of the final one; Cancel stops within a token.
  void engine_streams_and_cancels() {
    auto engine = core::Engine::load(blip2_dir() / "opt_model");
    auto id = engine->encode(core::decode_image_file(blip2_dir() / "images" / "grad_640x480.png"));
    core::AskOptions o;
    o.beams = 1;
    o.max_new_tokens = 10;
    std::vector<std::string> parts;
    o.on_partial = [&](const std::string& t) { parts.push_back(t); };
    auto r = engine->ask(id, "how many dogs are there?", o);
    QCOMPARE(parts.size(), r.answers.front().ids.size());
    QCOMPARE(QString::fromStdString(parts.back()), QString::fromStdString(r.answers.front().text));
    core::CancelToken cancel;
    int seen = 0;
    o.on_partial = [&](const std::string&) {
      ++seen;
      cancel.cancel();
    };
    try {
      engine->ask(id, "how many dogs are there?", o, cancel);
      QFAIL("a cancelled answer finished");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), core::ErrorCode::Cancelled);
    }
    QCOMPARE(seen, 1);
    // The engine is still usable, and bad questions get messages.
    QVERIFY(!engine->ask(id, "what is in the image?", {}).answers.empty());
    for (const char* bad : {"", "   ", "\xff\xfe"}) {
      try {
        engine->ask(id, bad, {});
        QFAIL("a bad question was answered");
      } catch (const core::Error& e) {
        QCOMPARE(e.code(), core::ErrorCode::BadQuestion);
      }
    }
    core::AskOptions ranked;
    ranked.answers = {"yes", "no"};
    QVERIFY_EXCEPTION_THROWN(engine->ask(id, "is it red?", ranked), core::Error);
  }

  // A model too large for float32 in the memory free loads in bfloat16 and says so;
  // one too large even then is refused with the sizes, before anything is built.
  void engine_fits_memory() {
    const auto dir = blip2_dir() / "opt_model";
    const uint64_t f32 = core::Engine::load(dir)->info().running_bytes;
    core::Options o;
    o.memory_budget = f32 * 3 / 4;
    std::vector<core::Warning> warnings;
    o.on_warning = [&](const core::Warning& w) { warnings.push_back(w); };
    auto e = core::Engine::load(dir, o);
    QCOMPARE(QString::fromStdString(e->info().dtype), QString("bfloat16"));
    QCOMPARE(e->info().running_bytes, f32 / 2);
    QCOMPARE(warnings.size(), size_t(1));
    QCOMPARE(warnings[0].code, core::Warning::Code::LowerPrecision);
    auto id = e->encode(core::decode_image_file(blip2_dir() / "images" / "grad_37x53.png"));
    QVERIFY(!e->ask(id, "what is in the image?", {}).answers.empty());
    o.memory_budget = f32 / 3;
    try {
      core::Engine::load(dir, o);
      QFAIL("a model larger than the memory budget loaded");
    } catch (const core::Error& err) {
      QCOMPARE(err.code(), core::ErrorCode::Device);
      QVERIFY2(QString(err.what()).contains("only"), err.what());
    }
    o.memory_budget = f32 * 3 / 4;
    o.dtype = core::Precision::Float32;  // asked for float32: no silent change
    QVERIFY_EXCEPTION_THROWN(core::Engine::load(dir, o), core::Error);
  }

  void opt_2_7b_sizes() {
    const auto c = opt_2_7b_config();
    QCOMPARE(c.lm_hidden(), 2560);
    QCOMPARE(c.queries, 32);
    QCOMPARE(c.vision.tokens(), 257);
    QCOMPARE(c.qformer.encoder_hidden, c.vision.hidden);
  }
};

QTEST_APPLESS_MAIN(TstBlip2Golden)
#include "tst_blip2_golden.moc"
