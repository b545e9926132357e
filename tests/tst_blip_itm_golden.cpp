// HuggingFace BlipForImageTextRetrieval checkpoints must match the reference
// outputs in ../shared/golden/blip_itm (README there: tensors, tolerances).
#include <QtTest>

#include <nlohmann/json.hpp>

#include "core/engine/engine.h"
#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/io/config.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"
#include "core/model/blip_itm/blip_itm.h"
#include "core/text/tokenizer.h"
#include "core/vision/image.h"
#include "testutil.h"

using namespace core;
using torch::Tensor;
namespace fs = std::filesystem;

namespace {

fs::path itm_dir() { return testutil::golden_dir() / "blip_itm"; }

// Largest deviation per tolerance class, reported at the end.
std::map<std::string, std::pair<int, double>>& deviations() {
  static std::map<std::string, std::pair<int, double>> d;
  return d;
}

double max_diff(const Tensor& a, const Tensor& b) {
  if (a.numel() == 0) return 0.0;
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// Compares `ours` with the reference tensor `ref` (labelled `name`) and records the deviation.
#define COMPARE_REF(ours, ref, name, tol, kind)                                                                     \
  do {                                                                                                              \
    const QString qn_ = QString::fromStdString(name);                                                               \
    const Tensor ref_ = (ref);                                                                                      \
    const Tensor got_ = (ours);                                                                                     \
    QVERIFY2(got_.sizes() == ref_.sizes(), qPrintable(QString("%1: shape %2 vs %3")                                 \
                                                          .arg(qn_, QString::fromStdString(c10::str(got_.sizes())), \
                                                               QString::fromStdString(c10::str(ref_.sizes())))));   \
    const double d_ = max_diff(got_, ref_);                                                                         \
    QVERIFY2(d_ <= (tol), qPrintable(QString("%1: max |diff| %2 > %3").arg(qn_).arg(d_).arg(tol)));                 \
    auto& dv_ = deviations()[kind];                                                                                 \
    dv_.first += 1;                                                                                                 \
    dv_.second = std::max(dv_.second, d_);                                                                          \
  } while (0)

#define COMPARE_TENSOR(ours, name, tol, kind) COMPARE_REF(ours, tensor_view(*golden, name), name, tol, kind)

std::vector<int64_t> order_desc(const Tensor& v) {
  auto idx = std::get<1>(v.to(torch::kFloat64).sort(0, /*descending=*/true));
  auto c = idx.contiguous();
  return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
}

Tensor ids_tensor(const std::vector<int64_t>& v) { return torch::tensor(v, torch::kLong).unsqueeze(0); }

}  // namespace

class TstBlipItmGolden : public QObject {
  Q_OBJECT
  std::unique_ptr<SafeTensors> golden;
  nlohmann::json meta;
  ModelConfig cfg;
  BlipItm model{nullptr};
  std::vector<Tensor> images;                    // V per image [1,17,40]
  std::vector<std::pair<Tensor, Tensor>> texts;  // ids, mask [1,T]

  static constexpr int kImages = 5, kTexts = 8, kMaxLength = 35;

 private Q_SLOTS:
  void initTestCase() {
    if (!fs::exists(itm_dir() / "manifest.json"))
      QSKIP(qPrintable(QString("golden data not found at %1 (set AUTOGLM_GOLDEN_DIR)")
                           .arg(QString::fromStdString(itm_dir().string()))));
    golden = std::make_unique<SafeTensors>(SafeTensors::open(itm_dir() / "itm_golden.safetensors"));
    meta = nlohmann::json::parse(testutil::read_file(itm_dir() / "itm_golden.json"));
    cfg = load_config(itm_dir() / "itm_model");
    model = BlipItm(cfg);
    model->load_weights(Checkpoint::from_folder(itm_dir() / "itm_model"));
    model->eval();
    for (auto& p : model->parameters()) p.set_requires_grad(false);
  }

  void config_reads_hf_schema() {
    QCOMPARE(cfg.family, ModelFamily::BlipItm);
    QCOMPARE(cfg.task, ModelTask::Match);
    QCOMPARE(cfg.align_dim, 24);
    QCOMPARE(cfg.vision.hidden, 40);
    QCOMPARE(cfg.vision.intermediate, 41);
    QCOMPARE(cfg.vision.tokens(), 17);
    QCOMPARE(cfg.text.hidden, 32);
    QCOMPARE(cfg.text.layers, 3);
    QCOMPARE(cfg.text.intermediate, 37);
    QCOMPARE(cfg.text.vocab_size, 30524);
    QCOMPARE(cfg.fusion_layers, (std::vector<int>{0, 1, 2}));
    QCOMPARE(cfg.preprocess.size, 32);
    QVERIFY(!cfg.gates && !cfg.routing);
    // The question-answering model refuses it with a message rather than missing tensors.
    VERIFY_THROWS_MSG(Model m(cfg), "image-text matching");
    auto j = nlohmann::json::parse(testutil::read_file(itm_dir() / "itm_model" / "config.json"));
    j["architectures"] = {"BlipForSomethingElse"};
    VERIFY_THROWS_MSG(parse_config(j, "x"), "BlipForImageTextRetrieval");
  }

  void broken_weights_are_named() {
    const auto ck = Checkpoint::from_folder(itm_dir() / "itm_model");
    std::vector<std::pair<std::string, Tensor>> all;
    for (const auto& n : ck.names()) all.emplace_back(n, tensor_view(ck, n).clone());
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    auto check = [&](std::vector<std::pair<std::string, Tensor>> tensors, const char* needle) {
      save_tensors(dir / "model.safetensors", tensors);
      BlipItm m(cfg);
      VERIFY_THROWS_MSG(m->load_weights(Checkpoint::open(dir / "model.safetensors")), needle);
    };
    auto missing = all;
    missing.erase(std::find_if(missing.begin(), missing.end(), [](auto& p) { return p.first == "itm_head.weight"; }));
    check(missing, "missing tensor 'itm_head.weight'");
    auto extra = all;
    extra.emplace_back("text_decoder.cls.predictions.bias", torch::zeros({4}));
    check(extra, "unexpected tensor 'text_decoder.cls.predictions.bias'");
    auto shaped = all;
    for (auto& [n, t] : shaped)
      if (n == "text_proj.weight") t = torch::zeros({24, 31});
    check(shaped, "tensor 'text_proj.weight' has shape [24, 31], expected [24, 32]");
    auto with_ids = all;  // .bin state dicts carry this buffer: ignored
    with_ids.emplace_back("text_encoder.embeddings.position_ids", torch::arange(512).unsqueeze(0).to(torch::kFloat32));
    save_tensors(dir / "model.safetensors", with_ids);
    BlipItm m(cfg);
    m->load_weights(Checkpoint::open(dir / "model.safetensors"));
  }

  void inputs_match_reference() {
    auto tok = Tokenizer::from_folder(itm_dir() / "itm_model");
    for (int t = 0; t < kTexts; ++t) {
      const auto& jt = meta["texts"][t];
      auto enc = tok.encode(jt["text"].get<std::string>(), true, kMaxLength);
      QCOMPARE(enc.ids, jt["input_ids"].get<std::vector<int64_t>>());
      const std::string p = "txt" + std::to_string(t) + ".";
      COMPARE_TENSOR(ids_tensor(enc.ids), p + "input_ids", 0.0, "token ids");
      COMPARE_TENSOR(ids_tensor(enc.mask), p + "attention_mask", 0.0, "token ids");
      texts.emplace_back(ids_tensor(enc.ids), ids_tensor(enc.mask));
    }
    for (int i = 0; i < kImages; ++i) {
      const auto img = decode_image_file(itm_dir() / meta["images"][i]["file"].get<std::string>());
      auto pv = preprocess(img, cfg.preprocess);
      const int s = cfg.preprocess.size;
      auto pixels = torch::from_blob(pv.data(), {1, 3, s, s}, torch::kFloat32).clone();
      COMPARE_TENSOR(pixels, "img" + std::to_string(i) + ".pixel_values", 1e-6, "pixel_values");
      torch::NoGradGuard ng;
      images.push_back(model->encode_image(pixels));
    }
  }

  void contrastive_embeddings() {
    QCOMPARE(int(images.size()), kImages);
    torch::NoGradGuard ng;
    std::vector<Tensor> ivec, tvec;
    for (int i = 0; i < kImages; ++i) {
      const std::string p = "img" + std::to_string(i) + ".";
      COMPARE_TENSOR(images[i], p + "vision.last_hidden_state", 1e-4, "vision last_hidden_state");
      COMPARE_TENSOR(model->vision_proj(images[i].select(1, 0)), p + "image_proj", 1e-5, "proj / feats");
      ivec.push_back(model->image_vector(images[i]));
      COMPARE_TENSOR(ivec.back(), p + "image_feat", 1e-5, "proj / feats");
    }
    for (int t = 0; t < kTexts; ++t) {
      const std::string p = "txt" + std::to_string(t) + ".";
      const auto& [ids, mask] = texts[t];
      auto h = model->text_encoder->forward(ids, mask, Tensor());
      COMPARE_TENSOR(h, p + "text_only.last_hidden_state", 1e-4, "text hidden states");
      COMPARE_TENSOR(model->text_proj(h.select(1, 0)), p + "text_proj", 1e-5, "proj / feats");
      tvec.push_back(model->text_vector(ids, mask));
      COMPARE_TENSOR(tvec.back(), p + "text_feat", 1e-5, "proj / feats");
    }
    auto iv = torch::cat(ivec), tv = torch::cat(tvec);
    COMPARE_TENSOR(iv, "itc.image_feats", 1e-5, "proj / feats");
    COMPARE_TENSOR(tv, "itc.text_feats", 1e-5, "proj / feats");
    auto sim = BlipItmImpl::similarity(iv, tv);
    COMPARE_TENSOR(sim, "itc.sim_matrix", 1e-5, "ITC similarities");
    COMPARE_TENSOR(sim, "itc.forward_sim_matrix", 1e-5, "ITC similarities");
    COMPARE_TENSOR(BlipItmImpl::label_distribution(sim), "itc.label_probs_convention", 1e-5, "ITC similarities");
    for (int i = 0; i < kImages; ++i)
      for (int t = 0; t < kTexts; ++t)
        COMPARE_TENSOR(sim.slice(0, i, i + 1).slice(1, t, t + 1),
                       "img" + std::to_string(i) + ".txt" + std::to_string(t) + ".itc_sim", 1e-5, "ITC similarities");
    // Search (images per text) and labels (texts per image) in the reference's order.
    for (int t = 0; t < kTexts; ++t)
      QCOMPARE(order_desc(sim.select(1, t)),
               meta["itc"]["search_rank_per_text"]["txt" + std::to_string(t)]["order_idx"].get<std::vector<int64_t>>());
    for (int i = 0; i < kImages; ++i)
      QCOMPARE(order_desc(sim.select(0, i)),
               meta["itc"]["label_rank_per_image"]["img" + std::to_string(i)]["order_idx"].get<std::vector<int64_t>>());
  }

  void matching_head_and_cross_attention() {
    QCOMPARE(int(images.size()), kImages);
    auto logits = torch::zeros({kImages, kTexts, 2});
    for (int i = 0; i < kImages; ++i) {
      for (int t = 0; t < kTexts; ++t) {
        const std::string p = "img" + std::to_string(i) + ".txt" + std::to_string(t) + ".";
        const auto& [ids, mask] = texts[t];
        torch::NoGradGuard ng;
        Record rec;
        rec.enabled = true;
        Tensor hidden;
        auto l = model->itm_logits(images[i], ids, mask, &rec, &hidden);
        logits[i][t] = l[0];
        COMPARE_TENSOR(l, p + "itm_logits", 1e-4, "ITM logits");
        COMPARE_TENSOR(torch::softmax(l, -1), p + "itm_probs", 1e-5, "ITM probs");
        COMPARE_REF(model->itm_probability(images[i], ids, mask), tensor_view(*golden, p + "itm_probs").select(1, 1),
                    p + "itm_probs[:, 1]", 1e-5, "ITM probs");
        COMPARE_TENSOR(hidden, p + "itm.last_hidden_state", 1e-4, "text hidden states");
        COMPARE_TENSOR(torch::cat(rec.cross_attn), p + "itm.cross_attentions", 1e-5, "cross-attention probs");
        auto enc = ids.clone();
        enc[0][0] = 30523;  // original BLIP's [ENC]; HF does not substitute it
        COMPARE_TENSOR(model->itm_logits(images[i], enc, mask), p + "itm_enc_variant.logits", 1e-4, "ITM logits");
      }
    }
    COMPARE_TENSOR(logits, "itm.logits_matrix", 1e-4, "ITM logits");
    auto match = torch::softmax(logits, -1).select(2, 1);
    COMPARE_TENSOR(match, "itm.match_prob_matrix", 1e-5, "ITM probs");
    for (int t = 0; t < kTexts; ++t)
      QCOMPARE(order_desc(match.select(1, t)),
               meta["itm"]["rerank_per_text"]["txt" + std::to_string(t)]["order_idx"].get<std::vector<int64_t>>());
    for (int i = 0; i < kImages; ++i)
      QCOMPARE(order_desc(match.select(0, i)),
               meta["itm"]["label_rank_per_image"]["img" + std::to_string(i)]["order_idx"].get<std::vector<int64_t>>());
  }

  void gradcam_matches_lavis_rule() {
    QCOMPARE(int(images.size()), kImages);
    const int block = meta["gradcam"]["block_num"].get<int>();
    for (int i = 0; i < kImages; ++i) {
      for (int t = 0; t < kTexts; ++t) {
        const std::string p = "img" + std::to_string(i) + ".txt" + std::to_string(t) + ".";
        const auto& [ids, mask] = texts[t];
        std::vector<Tensor> grads, maps, avgs;
        for (int layer = 0; layer < cfg.text.layers; ++layer) {
          auto g = model->gradcam(images[i], ids, mask, layer);
          COMPARE_TENSOR(g.logits, p + "itm_logits", 1e-4, "ITM logits");
          grads.push_back(g.gradient);
          maps.push_back(g.maps);
          avgs.push_back(g.text_avg);
        }
        COMPARE_TENSOR(torch::cat(grads), p + "gradcam.attn_grad", 1e-4, "attention gradients");
        COMPARE_TENSOR(torch::cat(maps), p + "gradcam.all_layers.map", 1e-5, "Grad-CAM maps");
        COMPARE_TENSOR(torch::cat(avgs), p + "gradcam.all_layers.text_avg", 1e-5, "Grad-CAM maps");
        COMPARE_TENSOR(maps[block][0], p + "gradcam.map", 1e-5, "Grad-CAM maps");
        COMPARE_TENSOR(avgs[block][0], p + "gradcam.text_avg", 1e-5, "Grad-CAM maps");
        auto m = maps[block][0];
        auto lavis = torch::cat({m.slice(0, 0, 1), avgs[block], m.slice(0, 1)});
        COMPARE_TENSOR(lavis, p + "gradcam.lavis", 1e-5, "Grad-CAM maps");
      }
    }
  }

  void padded_batch() {
    torch::NoGradGuard ng;
    auto tok = Tokenizer::from_folder(itm_dir() / "itm_model");
    std::vector<std::string> strs;
    for (const auto& t : meta["batch"]["texts"]) strs.push_back(t.get<std::string>());
    auto encs = tok.encode_batch(strs, kMaxLength);
    std::vector<Tensor> id_rows, mask_rows;
    for (const auto& e : encs) {
      id_rows.push_back(ids_tensor(e.ids));
      mask_rows.push_back(ids_tensor(e.mask));
    }
    auto ids = torch::cat(id_rows), mask = torch::cat(mask_rows);
    COMPARE_TENSOR(ids, "batch.input_ids", 0.0, "token ids");
    COMPARE_TENSOR(mask, "batch.attention_mask", 0.0, "token ids");
    auto image = model->encode_image(tensor_view(*golden, "batch.pixel_values"));
    QCOMPARE(image.size(0), int64_t(4));
    Record rec;
    rec.enabled = true;
    Tensor hidden;
    auto logits = model->itm_logits(image, ids, mask, &rec, &hidden);
    COMPARE_TENSOR(logits, "batch.itm_logits", 1e-4, "ITM logits");
    COMPARE_TENSOR(torch::softmax(logits, -1), "batch.itm_probs", 1e-5, "ITM probs");
    COMPARE_TENSOR(hidden, "batch.itm.last_hidden_state", 1e-4, "text hidden states");
    COMPARE_TENSOR(torch::stack(rec.cross_attn), "batch.itm.cross_attentions", 1e-5, "cross-attention probs");
    // One image's embeds paired with four texts: repeated, same logits.
    COMPARE_TENSOR(model->itm_logits(image.slice(0, 0, 1), ids, mask), "batch.itm_logits", 1e-4, "ITM logits");
    COMPARE_TENSOR(model->text_encoder->forward(ids, mask, Tensor()), "batch.text_only.last_hidden_state", 1e-4,
                   "text hidden states");
    auto tv = model->text_vector(ids, mask);
    COMPARE_TENSOR(tv, "batch.text_feat", 1e-5, "proj / feats");
    COMPARE_TENSOR(BlipItmImpl::similarity(model->image_vector(image), tv), "batch.itc_sim", 1e-5, "ITC similarities");
    std::vector<Tensor> grads;
    ItmGradCam at_block;
    for (int layer = 0; layer < cfg.text.layers; ++layer) {
      auto g = model->gradcam(image, ids, mask, layer);
      grads.push_back(g.gradient);
      if (layer == meta["gradcam"]["block_num"].get<int>()) at_block = g;
    }
    COMPARE_TENSOR(torch::stack(grads), "batch.gradcam.attn_grad", 1e-4, "attention gradients");
    COMPARE_TENSOR(at_block.maps, "batch.gradcam.map", 1e-5, "Grad-CAM maps");
    auto lavis =
        torch::cat({at_block.maps.slice(1, 0, 1), at_block.text_avg.unsqueeze(1), at_block.maps.slice(1, 1)}, 1);
    COMPARE_TENSOR(lavis, "batch.gradcam.lavis", 1e-5, "Grad-CAM maps");
  }

  void mixed_batch() {
    torch::NoGradGuard ng;
    auto image = model->encode_image(tensor_view(*golden, "batch_mixed.pixel_values"));
    auto ids = tensor_view(*golden, "batch_mixed.input_ids"), mask = tensor_view(*golden, "batch_mixed.attention_mask");
    auto tok = Tokenizer::from_folder(itm_dir() / "itm_model");
    std::vector<std::string> strs;
    for (const auto& t : meta["batch_mixed"]["texts"])
      strs.push_back(meta["texts"][t.get<int>()]["text"].get<std::string>());
    auto encs = tok.encode_batch(strs, kMaxLength);
    for (size_t r = 0; r < encs.size(); ++r)
      QVERIFY(torch::equal(ids_tensor(encs[r].ids), ids.slice(0, r, r + 1).to(torch::kLong)));
    COMPARE_TENSOR(model->itm_logits(image, ids, mask), "batch_mixed.itm_logits", 1e-4, "ITM logits");
    COMPARE_TENSOR(BlipItmImpl::similarity(model->image_vector(image), model->text_vector(ids, mask)),
                   "batch_mixed.itc_sim", 1e-5, "ITC similarities");
  }

  // The engine runs under InferenceMode; the heatmap must still get its gradients.
  void gradcam_under_inference_mode() {
    c10::InferenceMode guard;
    const auto img = decode_image_file(itm_dir() / meta["images"][0]["file"].get<std::string>());
    auto pv = preprocess(img, cfg.preprocess);
    const int s = cfg.preprocess.size;
    auto embeds = model->encode_image(torch::from_blob(pv.data(), {1, 3, s, s}, torch::kFloat32).clone());
    const int block = meta["gradcam"]["block_num"].get<int>();
    auto g = model->gradcam(embeds, texts.at(0).first, texts.at(0).second, block);
    COMPARE_TENSOR(g.maps[0], "img0.txt0.gradcam.map", 1e-5, "Grad-CAM maps");
    COMPARE_TENSOR(g.text_avg[0], "img0.txt0.gradcam.text_avg", 1e-5, "Grad-CAM maps");
  }

  // A random folder written for the benchmark loads through the normal path.
  void random_folder_loads() {
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    write_random_blip_itm(dir, cfg, 3);
    auto c = load_config(dir);
    QCOMPARE(c.task, ModelTask::Match);
    QCOMPARE(c.align_dim, cfg.align_dim);
    QCOMPARE(c.vision.hidden, cfg.vision.hidden);
    QCOMPARE(c.text.layers, cfg.text.layers);
    QCOMPARE(c.preprocess.size, cfg.preprocess.size);
    BlipItm m(c);
    m->load_weights(Checkpoint::from_folder(dir));
    auto tok = Tokenizer::from_folder(dir);
    auto enc = tok.encode("a photo of the dog");
    QCOMPARE(enc.ids.front(), int64_t(101));
    torch::NoGradGuard ng;
    auto v = m->text_vector(ids_tensor(enc.ids), ids_tensor(enc.mask));
    QVERIFY(std::abs(v.norm().item<double>() - 1.0) < 1e-5);
  }

  void gradcam_refuses_a_layer_without_cross_attention() {
    VERIFY_THROWS_MSG(model->gradcam(images.at(0), texts.at(0).first, texts.at(0).second, 3), "layer 3");
  }

  void random_base_config() {
    auto c = blip_itm_base_config();
    QCOMPARE(c.task, ModelTask::Match);
    QCOMPARE(c.align_dim, 256);
    QCOMPARE(c.vision.tokens(), 577);
    BlipItm m(c);
    // ViT-B/16 at 384 (86.1M) + BERT-base with cross-attention (137.3M) + heads (0.4M)
    QVERIFY2(m->num_parameters() > 223'000'000 && m->num_parameters() < 224'500'000,
             qPrintable(QString::number(m->num_parameters())));
  }

  // Through the engine, as `autoglm match` and the app ask: both scores of every
  // pair, and where the text matches (LAVIS's maps, positive part summing to 1).
  void engine_match_text() {
    auto engine = core::Engine::load(itm_dir() / "itm_model");
    QVERIFY(engine->info().matching_head);
    std::vector<core::ImageId> ids;
    for (const auto& im : meta["images"])
      ids.push_back(engine->encode(decode_image_file(itm_dir() / im["file"].get<std::string>())));
    auto unit = [](torch::Tensor m) {
      m = m.to(torch::kFloat32).clamp_min(0);
      const double sum = m.sum().item<double>();
      return sum > 0 ? m / sum : m;
    };
    double worst_p = 0, worst_map = 0;
    int n = 0;
    for (const auto& pair : meta["pairs"]) {
      const auto& text = meta["texts"][pair["text"].get<size_t>()];
      const std::string prefix = pair["prefix"].get<std::string>();
      auto m = engine->match_text(ids[pair["image"].get<size_t>()], text["text"].get<std::string>());
      worst_p = std::max(worst_p, std::abs(m.probability - pair["itm_match_prob"].get<double>()));
      QVERIFY(std::abs(m.similarity - pair["itc_sim"].get<double>()) < 1e-4);
      QCOMPARE(m.tokens.size(), text["input_ids"].size());
      const std::string avg = prefix + ".gradcam.text_avg", per = prefix + ".gradcam.map";
      if (!golden->contains(avg)) continue;
      auto ref = unit(tensor_view(*golden, avg));
      auto ours =
          torch::from_blob(m.heatmap.data.data(), {int64_t(m.heatmap.data.size())}, torch::kFloat32).view(ref.sizes());
      worst_map = std::max(worst_map, (ours - ref).abs().max().item<double>());
      auto maps = tensor_view(*golden, per);
      for (int64_t t = 0; t < maps.size(0); ++t) {
        auto r = unit(maps[t]);
        auto o = torch::from_blob(m.token_maps[size_t(t)].data.data(), {r.numel()}, torch::kFloat32).view(r.sizes());
        worst_map = std::max(worst_map, (o - r).abs().max().item<double>());
      }
      ++n;
    }
    qInfo("%d pairs through the engine: max |P(match) diff| %.2g, max map diff %.2g", n, worst_p, worst_map);
    QVERIFY(n > 0);
    QVERIFY2(worst_p < 1e-5, qPrintable(QString::number(worst_p)));
    QVERIFY2(worst_map < 1e-5, qPrintable(QString::number(worst_map)));
    // Re-ranking: the matching probability of every image for a text, in the reference's order.
    for (const auto& [key, r] : meta["itm"]["rerank_per_text"].items()) {
      const auto& text = meta["texts"][std::stoul(key.substr(3))]["text"].get<std::string>();
      auto p = engine->match_probabilities(text, ids);
      std::vector<int> order(p.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = int(i);
      std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
      QCOMPARE(order, r["order_idx"].get<std::vector<int>>());
    }
  }

  void cleanupTestCase() {
    for (const auto& [kind, dv] : deviations())
      qInfo("%-28s %4d checks, max |diff| %.3g", kind.c_str(), dv.first, dv.second);
  }
};

QTEST_APPLESS_MAIN(TstBlipItmGolden)
#include "tst_blip_itm_golden.moc"
