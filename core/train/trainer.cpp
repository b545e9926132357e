#include "core/train/trainer.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <thread>

#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/engine/factory.h"
#include "core/error.h"
#include "core/io/config.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"
#include "core/model/autoglm/model.h"
#include "core/text/tokenizer.h"
#include "core/torch_compat.h"
#include "core/train/distributed.h"
#include "core/train/shapes.h"
#include "core/vision/image.h"

namespace core::train {

namespace fs = std::filesystem;
using torch::Tensor;
using Clock = std::chrono::steady_clock;

double label_smoothing_floor(int64_t vocab, double eps) {
  // The entropy of the smoothed target: (1 - eps + eps/V) on the answer, eps/V elsewhere.
  const double v = static_cast<double>(vocab), hit = 1 - eps + eps / v, miss = eps / v;
  return -hit * std::log(hit) - (v - 1) * (miss > 0 ? miss * std::log(miss) : 0.0);
}

namespace {

constexpr double kLabelSmoothing = 0.05;  // on every answer token

// Training scenes vary in size (the preprocessing resizes), but stay small to render fast.
shapes::GenOptions train_gen(int max_side) {
  shapes::GenOptions g;
  g.vary_size = true;
  g.min_side = 64;
  g.max_side = max_side;
  return g;
}

// The look of other renderers and cameras: JPEG artefacts, blur, sensor noise,
// exposure. Colours move less than the spec's jitter so the colour words hold.
void augment(cv::Mat& rgb, shapes::Rng& rng) {
  if (rng.chance(0.25)) {
    const double sigma = rng.uniform(0.3, 1.0);
    cv::GaussianBlur(rgb, rgb, cv::Size(0, 0), sigma);
  }
  if (rng.chance(0.3)) {
    cv::Mat noise(rgb.size(), CV_16SC3);
    cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(rng.uniform(2, 8)));
    cv::Mat wide;
    rgb.convertTo(wide, CV_16SC3);
    wide += noise;
    wide.convertTo(rgb, CV_8UC3);
  }
  if (rng.chance(0.2)) rgb.convertTo(rgb, -1, rng.uniform(0.92, 1.08), rng.uniform(-8, 8));
  if (rng.chance(0.35)) {
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> buf;
    cv::imencode(".jpg", bgr, buf, {cv::IMWRITE_JPEG_QUALITY, rng.range(20, 90)});
    cv::cvtColor(cv::imdecode(buf, cv::IMREAD_COLOR), rgb, cv::COLOR_BGR2RGB);
  }
}

// A text for the contrastive loss and what it says: the spec's caption, or (for
// zero-shot labels such as "a red circle") the same list without size words.
struct AlignText {
  std::string text;
  bool sizes = true;
  std::vector<std::string> key;  // sorted object descriptions
};

std::vector<std::string> scene_key(const shapes::Scene& sc, bool sizes) {
  std::vector<std::string> k;
  for (const auto& o : sc.objects) k.push_back(sizes ? o.size + " " + o.color + " " + o.shape : o.color + " " + o.shape);
  std::sort(k.begin(), k.end());
  return k;
}

AlignText align_text(const shapes::Scene& sc, shapes::Rng& rng) {
  AlignText t;
  t.sizes = !rng.chance(sc.objects.size() == 1 ? 0.5 : 0.25);
  t.key = scene_key(sc, t.sizes);
  if (t.sizes) {
    t.text = shapes::caption(sc);
    return t;
  }
  std::vector<const shapes::Object*> objs;
  for (const auto& o : sc.objects) objs.push_back(&o);
  std::sort(objs.begin(), objs.end(), [](auto* a, auto* b) { return a->cx < b->cx; });
  for (size_t i = 0; i < objs.size(); ++i) {
    if (i > 0) t.text += i + 1 == objs.size() ? " and " : ", ";
    t.text += "a " + objs[i]->color + " " + objs[i]->shape;
  }
  return t;
}

struct Batch {
  Tensor pixels, q_ids, q_mask, dec_in, dec_tgt;
  Tensor cap_ids, cap_mask;
  // Per sample: hashes of the scene's objects (with and without sizes) and of its
  // alignment text's, and whether that text names sizes. [B,4] int64: the
  // contrastive targets of a batch spread over ranks are built from them.
  Tensor keys;
  Tensor ground;                    // [B,N] share of the referred object's mask in each cell (rows sum to 1; 0: none)
  Tensor dense;                     // [B,N,5] per vision token: colour, shape, size, column, row (see patch_labels; -100 unsure)
  Tensor refer;                     // [B,5] the same labels of the object the question refers to (-100: none)
  std::vector<int> type;            // index into shapes::question_types()
  std::vector<int> objects;         // objects in each question's scene (1..5)
};

Tensor pad_rows(const std::vector<std::vector<int64_t>>& rows, int64_t pad, Tensor* mask) {
  size_t width = 0;
  for (const auto& r : rows) width = std::max(width, r.size());
  auto ids = torch::full({static_cast<int64_t>(rows.size()), static_cast<int64_t>(width)}, pad, torch::kLong);
  if (mask) *mask = torch::zeros_like(ids);
  for (size_t i = 0; i < rows.size(); ++i) {
    auto n = static_cast<int64_t>(rows[i].size());
    ids[static_cast<int64_t>(i)].slice(0, 0, n).copy_(torch::tensor(rows[i], torch::kLong));
    if (mask) (*mask)[static_cast<int64_t>(i)].slice(0, 0, n).fill_(1);
  }
  return ids;
}

int type_index(const std::string& type) {
  const auto& t = shapes::question_types();
  return static_cast<int>(std::find(t.begin(), t.end(), type) - t.begin());
}

struct BatchParts {
  bool align = false, dense = false, ground = false, refer = false;  // which targets to build
  int per_image = 1;            // questions about each image
  double relation_share = 0;    // grounding target's share on a relation's answer object
  double compare_share = 0;     // ... and on a comparison's second object
  int canvas_max = 192;         // the rendered canvas's longest side, pixels
  // Odds of 1..5 objects in an image's scene by the type of its first question
  // (indexed as question_types()); empty: the spec's uniform draw.
  std::vector<std::array<double, 5>> object_odds;
};

// Image g of the batch and its per_image questions are
// make_samples_of_types(mix_seed(seed, first + g), types[g * per_image ...]):
// the questions of an image follow each other, and per-image tensors (pixels,
// dense, alignment texts) have n / per_image rows, per-question ones n.
Batch make_batch(const ModelConfig& cfg, const Tokenizer& tok, uint64_t seed, int64_t first,
                 const std::vector<std::string>& types, const BatchParts& parts) {
  const int per_image = parts.per_image;
  const int n = static_cast<int>(types.size());
  const int images = n / per_image;
  std::vector<float> pix;
  std::vector<std::vector<int64_t>> qs, dec_in, dec_tgt, caps;
  std::vector<AlignText> texts;
  std::vector<shapes::Scene> scenes;
  Batch b;
  auto gen = train_gen(parts.canvas_max);
  // The images of a batch share one patch grid. With keep_aspect that is the grid of a
  // canvas drawn as the generator draws them, and each canvas is drawn until it has it.
  PreprocessSpec::Size in{cfg.preprocess.size, cfg.preprocess.size};
  if (cfg.preprocess.keep_aspect) {
    shapes::Rng rng(shapes::mix_seed(seed, static_cast<uint64_t>(first)) ^ 0x5851F42D4C957F2Dull);
    const auto c = shapes::canvas_size(rng, gen);
    in = cfg.preprocess.input_size(c.width, c.height);
    gen.accept_canvas = [spec = cfg.preprocess, in](int w, int h) {
      const auto s = spec.input_size(w, h);
      return s.width == in.width && s.height == in.height;
    };
  }
  const int rows = in.height / cfg.vision.patch_size, cols = in.width / cfg.vision.patch_size;
  if (parts.dense) b.dense = torch::empty({images, rows * cols, 5}, torch::kLong);
  if (parts.ground) b.ground = torch::zeros({n, rows * cols}, torch::kFloat32);
  if (parts.refer) b.refer = torch::full({n, 5}, -100, torch::kLong);
  for (int g = 0; g < images; ++g) {
    const uint64_t sseed = shapes::mix_seed(seed, static_cast<uint64_t>(first + g));
    const std::vector<std::string> group(types.begin() + g * per_image, types.begin() + (g + 1) * per_image);
    auto image_gen = gen;
    if (!parts.object_odds.empty()) image_gen.object_odds = parts.object_odds.at(static_cast<size_t>(type_index(group[0])));
    auto samples = shapes::make_samples_of_types(sseed, group, image_gen);
    const shapes::Scene& scene = samples[0].scene;
    shapes::Rng rng(sseed ^ 0x9E3779B97F4A7C15ull);
    cv::Mat rgb = scene.rgb.clone();
    augment(rgb, rng);
    PreprocessSpec::Size got;
    auto p = preprocess(image_from_mat(rgb), cfg.preprocess, &got);
    if (got.width != in.width || got.height != in.height)
      throw Error(ErrorCode::Internal, "make_batch: an image of the batch has another input size");
    pix.insert(pix.end(), p.begin(), p.end());
    std::vector<cv::Mat> covers;  // each object's share of each cell, for both targets
    if (parts.dense || parts.ground)
      for (const auto& o : scene.objects) covers.push_back(shapes::cell_coverage(o.mask, rows, cols));
    for (int k = 0; k < per_image; ++k) {
      const auto& s = samples[static_cast<size_t>(k)];
      const int i = g * per_image + k;
      qs.push_back(tok.encode(s.question).ids);
      auto a = tok.encode(s.answer, false).ids;
      std::vector<int64_t> in{cfg.bos_id};
      in.insert(in.end(), a.begin(), a.end());
      a.push_back(cfg.eos_id);
      dec_in.push_back(in);
      dec_tgt.push_back(a);
      b.type.push_back(type_index(s.type));
      b.objects.push_back(static_cast<int>(scene.objects.size()));
      if (parts.ground) {
        const auto target = shapes::grounding_target(
            s, covers, s.type == "relation" ? parts.relation_share : s.type == "compare" ? parts.compare_share : 0);
        if (!target.empty()) std::memcpy(b.ground[i].data_ptr<float>(), target.data(), sizeof(float) * target.size());
      }
      if (parts.refer && s.referred >= 0) {
        const auto l = shapes::object_label(scene, s.referred);
        auto* t = b.refer[i].data_ptr<int64_t>();
        for (int v : {l.color, l.shape, l.size, l.column, l.row}) *t++ = v;
      }
    }
    if (parts.dense) {
      auto* t = b.dense[g].data_ptr<int64_t>();
      for (const auto& l : shapes::patch_labels(scene, covers, rows, cols))
        for (int v : {l.color, l.shape, l.size, l.column, l.row}) *t++ = v < 0 ? -100 : v;
    }
    if (parts.align) {
      texts.push_back(align_text(scene, rng));
      caps.push_back(tok.encode(texts.back().text).ids);
      scenes.push_back(scene);
    }
  }
  b.pixels = torch::from_blob(pix.data(), {images, 3, in.height, in.width}, torch::kFloat32).clone();
  b.q_ids = pad_rows(qs, cfg.pad_id, &b.q_mask);
  b.dec_in = pad_rows(dec_in, cfg.pad_id, nullptr);
  b.dec_tgt = pad_rows(dec_tgt, -100, nullptr);
  if (parts.align) {
    b.cap_ids = pad_rows(caps, cfg.pad_id, &b.cap_mask);
    b.keys = torch::zeros({images, 4}, torch::kLong);
    auto hash = [](const std::vector<std::string>& k) {
      uint64_t h = 1469598103934665603ull;  // FNV-1a over the joined descriptions
      for (const auto& s : k) {
        for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
        h = (h ^ 0xFF) * 1099511628211ull;
      }
      return static_cast<int64_t>(h >> 1);
    };
    for (int i = 0; i < images; ++i) {
      const auto& sc = scenes[static_cast<size_t>(i)];
      const auto& t = texts[static_cast<size_t>(i)];
      b.keys[i][0] = hash(scene_key(sc, true));
      b.keys[i][1] = hash(scene_key(sc, false));
      b.keys[i][2] = hash(t.key);
      b.keys[i][3] = t.sizes ? 1 : 0;
    }
  }
  return b;
}

// Which (image i, text j) pairs are true: text j names exactly image i's objects.
Tensor match_matrix(const Tensor& keys) {
  auto img_sizes = keys.select(1, 0).unsqueeze(1), img_plain = keys.select(1, 1).unsqueeze(1);
  auto txt = keys.select(1, 2).unsqueeze(0), with_sizes = keys.select(1, 3).unsqueeze(0) == 1;
  return torch::where(with_sizes, img_sizes == txt, img_plain == txt).to(torch::kFloat32);
}

struct Losses {
  Tensor total;       // this rank's share: its summed answer loss / all ranks' tokens, plus the contrastive loss
  Tensor per_sample;  // answer loss of each local sample (for the curriculum)
  Tensor per_sample_wrong;  // 1 where a local sample's answer has a token whose argmax is not the target's
  double lm_part = 0, itc = 0, dense = 0, ground = 0, refer = 0;
  int ground_n = 0;  // samples of this rank with a referred object
};

// Answer loss (decoder cross-entropy, mean over the global batch's tokens) plus,
// when the batch has alignment texts, the image-text contrastive loss with the
// learned temperature over the global batch; pairs whose text also describes
// the other image (same objects) count as positives. With data parallelism the
// gradients summed over ranks are exactly those of one process on the whole batch.
struct Aux {
  torch::nn::Linear* dense = nullptr;
  torch::nn::Linear* refer = nullptr;
  double dense_weight = 0, ground_weight = 0, refer_weight = 0, dense_object_share = 0;
  int64_t cls_id = 101, sep_id = 102;
};

// The per-patch head's outputs: colour, shape, size, column third, row third, each with a background class.
std::vector<int64_t> dense_classes() {
  return {static_cast<int64_t>(shapes::color_names().size()) + 1, static_cast<int64_t>(shapes::shape_names().size()) + 1,
          static_cast<int64_t>(shapes::size_names().size()) + 1, 4, 4};
}

// Mean over the groups of dense_classes() of each group's cross-entropy over its
// labelled items (labels [..., groups], -100: none); 0, with gradients, when none is.
// With object_share > 0, items on an object (a colour label, not background) and
// background items are averaged apart and weighed object_share : 1 - object_share,
// so that the few cells of a small object are not outvoted by the background.
Tensor grouped_cross_entropy(const Tensor& logits, const Tensor& labels, double object_share = 0) {
  namespace F = torch::nn::functional;
  Tensor on_object, on_background;
  if (object_share > 0) {
    const auto background = static_cast<int64_t>(shapes::color_names().size());
    auto first = labels.select(-1, 0).reshape({-1});
    on_object = ((first >= 0) & (first < background)).to(logits.dtype());
    on_background = (first == background).to(logits.dtype());
  }
  Tensor sum;
  int64_t from = 0, col = 0;
  for (int64_t n : dense_classes()) {
    auto y = labels.select(-1, col).reshape({-1});
    auto valid = (y >= 0).to(logits.dtype());
    auto ce = F::cross_entropy(logits.slice(-1, from, from + n).reshape({-1, n}), y.clamp_min(0),
                               F::CrossEntropyFuncOptions().reduction(torch::kNone));
    auto mean_over = [&](const Tensor& w) { return (ce * w).sum() / w.sum().clamp_min(1); };
    auto part = object_share > 0 ? object_share * mean_over(valid * on_object) + (1 - object_share) * mean_over(valid * on_background)
                                 : mean_over(valid);
    sum = sum.defined() ? sum + part : part;
    from += n, ++col;
  }
  return sum / static_cast<double>(col);
}

Losses loss_of(Model& m, const Batch& b, DataParallel* dp, const Aux& aux = {}) {
  namespace F = torch::nn::functional;
  Losses out;
  auto image = m->vision_model->forward(b.pixels);
  // One vision pass and one cross-attention key/value projection per image, read
  // by each of its questions (the gradients of the copies add up in the image's).
  const int64_t per_image = b.q_ids.size(0) / b.pixels.size(0);  // questions about each image, consecutive rows
  auto image_kv = m->text_encoder->image_kv(image, per_image);
  Record rec;
  const bool ground = aux.ground_weight > 0 && b.ground.defined();
  rec.enabled = ground;
  auto fused = m->text_encoder->forward(b.q_ids, b.q_mask, image, ground ? &rec : nullptr, nullptr, &image_kv);
  // Most answers are a word or two, a caption up to 25 tokens: short and long answers
  // are decoded apart, each to its own length, rather than all to the longest
  // (the decoder's forward took 9 ms a step instead of 3 for 8 images' questions).
  auto lengths = (b.dec_tgt != -100).sum(1);
  auto tokens = lengths.to(torch::kFloat32);
  std::vector<Tensor> groups;
  {
    auto is_long = lengths > 3;
    const int64_t n_long = is_long.sum().item<int64_t>(), rows = lengths.size(0);
    if (n_long == 0 || n_long == rows)
      groups.push_back(torch::arange(rows));
    else
      groups = {torch::nonzero(~is_long).squeeze(1), torch::nonzero(is_long).squeeze(1)};
  }
  Tensor ce_total, row_ce = torch::zeros({lengths.size(0)}), row_wrong = torch::zeros({lengths.size(0)});
  for (const auto& rows : groups) {
    const int64_t width = lengths.index_select(0, rows).max().item<int64_t>();
    auto in = b.dec_in.index_select(0, rows).slice(1, 0, width), tgt = b.dec_tgt.index_select(0, rows).slice(1, 0, width);
    auto logits = m->text_decoder->forward(in, fused.index_select(0, rows),
                                           additive_mask(m->text_encoder->memory_mask(b.q_mask.index_select(0, rows))),
                                           nullptr, 0);
    auto ce = F::cross_entropy(logits.reshape({-1, logits.size(-1)}), tgt.reshape({-1}),
                               F::CrossEntropyFuncOptions().ignore_index(-100).label_smoothing(kLabelSmoothing).reduction(torch::kNone))
                  .reshape(tgt.sizes());
    row_ce.index_copy_(0, rows, ce.sum(1).detach());
    row_wrong.index_copy_(0, rows, ((logits.detach().argmax(-1) != tgt) & (tgt != -100)).any(1).to(torch::kFloat32));
    ce_total = ce_total.defined() ? ce_total + ce.sum() : ce.sum();
  }
  out.per_sample = row_ce / tokens;
  out.per_sample_wrong = row_wrong;
  std::vector<Tensor> total_tokens{tokens.sum().reshape({1})};
  if (dp) dp->sum(total_tokens);
  out.total = ce_total / total_tokens[0].squeeze();
  out.lm_part = out.total.item<double>();
  if (ground && !rec.cross_attn.empty()) {
    // The engine's all-layers heatmap (mean over fusion layers, heads and the question's
    // words; the image's class token dropped, renormalised), against the referred cells.
    Tensor acc;
    for (const auto& a : rec.cross_attn) {
      auto words_only = a.slice(2, 0, b.q_ids.size(1)).mean(1);  // [B,T,N], learned queries dropped
      acc = acc.defined() ? acc + words_only : words_only;
    }
    auto words = (b.q_mask > 0) & (b.q_ids != aux.cls_id) & (b.q_ids != aux.sep_id);
    auto w = words.to(torch::kFloat32).unsqueeze(-1);
    auto map = ((acc * w).sum(1) / w.sum(1).clamp_min(1)).slice(1, 1);  // [B,N-1]
    map = map / map.sum(1, true).clamp_min(1e-12);
    auto has = (b.ground.sum(1) > 0).to(torch::kFloat32);
    auto g = -(b.ground * torch::log(map + 1e-6)).sum(1);
    auto gl = (g * has).sum() / has.sum().clamp_min(1);
    out.ground = gl.item<double>();
    out.ground_n = static_cast<int>(has.sum().item<double>());
    out.total = out.total + aux.ground_weight * gl / (dp ? dp->world() : 1);
  }
  if (aux.dense && b.dense.defined()) {
    // Each rank's mean over its own tokens; with equal local batches the ranks' sum / world is the global mean.
    auto d = grouped_cross_entropy((*aux.dense)->forward(image.slice(1, 1)), b.dense, aux.dense_object_share);
    out.dense = d.item<double>();
    out.total = out.total + aux.dense_weight * d / (dp ? dp->world() : 1);
  }
  if (aux.refer && b.refer.defined()) {
    // What the decoder reads (the fused question and queries, mean over them) must name the referred object.
    auto w = m->text_encoder->memory_mask(b.q_mask).to(fused.dtype()).unsqueeze(-1);
    auto pooled = (fused * w).sum(1) / w.sum(1).clamp_min(1);
    auto r = grouped_cross_entropy((*aux.refer)->forward(pooled), b.refer);
    out.refer = r.item<double>();
    out.total = out.total + aux.refer_weight * r / (dp ? dp->world() : 1);
  }
  if (b.cap_ids.defined()) {
    auto img = m->image_embedding(image), txt = m->text_embedding(b.cap_ids, b.cap_mask);
    Tensor keys = b.keys;
    if (dp) {
      img = gather_with_grad(*dp, img);
      txt = gather_with_grad(*dp, txt);
      keys = dp->all_gather(b.keys);
    }
    auto match = match_matrix(keys);
    auto sim = torch::matmul(img, txt.t()) / m->align_temperature();
    auto i2t = match / match.sum(1, true), t2i = match.t() / match.t().sum(1, true);
    auto itc = -((i2t * torch::log_softmax(sim, 1)).sum(1).mean() + (t2i * torch::log_softmax(sim.t(), 1)).sum(1).mean()) / 2;
    if (dp) itc = itc / dp->world();  // every rank computes it whole (see gather_with_grad)
    out.itc = itc.item<double>() * (dp ? dp->world() : 1);
    out.total = out.total + itc;
  }
  return out;
}

// Greedy decoding of one question about one preprocessed image [1,3,S,S]: the
// chosen ids, EOS included when reached, and on request each step's logits.
std::vector<int64_t> greedy_ids(Model& m, const ModelConfig& cfg, const Tensor& pixels, const std::vector<int64_t>& question,
                                int max_steps, std::vector<Tensor>* step_logits = nullptr) {
  auto image = m->vision_model->forward(pixels);
  auto ids = torch::tensor(question, torch::kLong).unsqueeze(0);
  auto f = m->text_encoder->forward(ids, torch::ones_like(ids), image);
  std::vector<LayerCache> cache;
  std::vector<int64_t> out;
  int64_t next = cfg.bos_id;
  for (int t = 0; t < max_steps; ++t) {
    auto logits = m->text_decoder->forward(torch::full({1, 1}, next, torch::kLong), f, {}, &cache, t)[0][-1];
    // as the engine: no empty answers (the end token cannot come first)
    next = t == 0 ? logits.index_fill(0, torch::tensor({cfg.eos_id}), -INFINITY).argmax().item<int64_t>()
                  : logits.argmax().item<int64_t>();
    if (step_logits) step_logits->push_back(logits.clone());
    out.push_back(next);
    if (next == cfg.eos_id) break;
  }
  return out;
}

std::string answer_text(const Tokenizer& tok, const ModelConfig& cfg, std::vector<int64_t> ids) {
  if (!ids.empty() && ids.back() == cfg.eos_id) ids.pop_back();
  return tok.decode(ids, true);
}

// A batch of one image, preprocessed.
Tensor pixel_batch(const Image& img, const ModelConfig& cfg) {
  PreprocessSpec::Size in;
  auto p = preprocess(img, cfg.preprocess, &in);
  return torch::from_blob(p.data(), {1, 3, in.height, in.width}, torch::kFloat32).clone();
}

// Greedy answer for the progress line's held-out accuracy.
std::string greedy(Model& m, const ModelConfig& cfg, const Tokenizer& tok, const shapes::Sample& s) {
  return answer_text(tok, cfg, greedy_ids(m, cfg, pixel_batch(image_from_mat(s.scene.rgb), cfg), tok.encode(s.question).ids, 30));
}

// AdamW (as torch::optim::AdamW, one weight decay for all) over every trained tensor
// made a view of one buffer, its gradient a view of another. The gradient sum over
// ranks, the clipping and the update are then a few operations on the whole model,
// not a few for each of its 190 tensors (clipping and AdamW took 6 ms of a 100 ms step).
class FlatAdamW {
 public:
  FlatAdamW(const std::vector<Tensor>& params, double weight_decay) : decay_(weight_decay) {
    if (params.empty()) throw Error(ErrorCode::Internal, "FlatAdamW: no parameters");
    const auto options = params.front().options();
    int64_t total = 0;
    for (const auto& p : params) total += p.numel();
    data_ = torch::empty({total}, options);
    grad_ = torch::zeros({total}, options);
    avg_ = torch::zeros({total}, options);
    avg_sq_ = torch::zeros({total}, options);
    torch::NoGradGuard ng;
    int64_t off = 0;
    for (auto p : params) {
      if (p.scalar_type() != torch::kFloat32 || p.device() != options.device() || !p.is_contiguous())
        throw Error(ErrorCode::Internal, "FlatAdamW: parameters must be contiguous float32 on one device");
      const int64_t n = p.numel();
      auto part = data_.slice(0, off, off + n);
      part.copy_(p.reshape({-1}));
      p.set_data(part.view(p.sizes()));
      p.mutable_grad() = grad_.slice(0, off, off + n).view(p.sizes());
      off += n;
    }
  }
  Tensor& grad() { return grad_; }
  void zero_grad() { grad_.zero_(); }
  void clip_grad_norm(double max_norm) {
    const double norm = grad_.norm().item<double>();
    if (norm > max_norm) grad_.mul_(max_norm / (norm + 1e-6));
  }
  void step(double lr) {
    torch::NoGradGuard ng;
    ++steps_;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double c1 = 1 - std::pow(b1, static_cast<double>(steps_)), c2 = 1 - std::pow(b2, static_cast<double>(steps_));
    data_.mul_(1 - lr * decay_);
    avg_.mul_(b1).add_(grad_, 1 - b1);
    avg_sq_.mul_(b2).addcmul_(grad_, grad_, 1 - b2);
    data_.addcdiv_(avg_, (avg_sq_.sqrt() / std::sqrt(c2)).add_(eps), -lr / c1);
  }
  // The moments of one parameter (a view of the buffer): for checkpoints.
  std::pair<Tensor, Tensor> moments(const Tensor& p) {
    const int64_t off = p.data_ptr<float>() - data_.data_ptr<float>();
    if (off < 0 || off + p.numel() > data_.numel()) throw Error(ErrorCode::Internal, "FlatAdamW: not one of its parameters");
    return {avg_.slice(0, off, off + p.numel()).view(p.sizes()), avg_sq_.slice(0, off, off + p.numel()).view(p.sizes())};
  }
  void set_steps(int64_t n) { steps_ = n; }

 private:
  Tensor data_, grad_, avg_, avg_sq_;
  double decay_;
  int64_t steps_ = 0;
};

// Parameters under the names a checkpoint keeps them by: the model's, then those
// of the training-only heads (prefixed "head.").
using Named = std::vector<std::pair<std::string, Tensor>>;
// Training-only heads by name ("dense", "refer"); empty ones are left out.
using Heads = std::vector<std::pair<std::string, torch::nn::Linear>>;

Named named_for_checkpoint(Model& m, const Heads& heads) {
  Named out;
  for (const auto& p : m->named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& [head, lin] : heads)
    if (!lin.is_empty())
      for (const auto& p : lin->named_parameters(true)) out.emplace_back("head." + head + "." + p.key(), p.value());
  return out;
}

// Checkpoint: weights, AdamW moments (safetensors, like every model file) and the loop's state.
void save_checkpoint(const fs::path& dir, Model& m, const Heads& extra, FlatAdamW& optim,
                     const ModelConfig& cfg, const Tokenizer& tok, const nlohmann::json& state) {
  const fs::path tmp = dir.string() + ".tmp";
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  save_config(cfg, tmp);
  tok.save_vocab(tmp / "vocab.txt");
  m->save_weights(tmp / "model.safetensors");
  Named heads, moments;
  for (const auto& [name, t] : named_for_checkpoint(m, extra)) {
    if (name.rfind("head.", 0) == 0) heads.emplace_back(name, t.detach());
    auto [avg, avg_sq] = optim.moments(t);
    moments.emplace_back(name + ".exp_avg", avg);
    moments.emplace_back(name + ".exp_avg_sq", avg_sq);
  }
  if (!heads.empty()) save_tensors(tmp / "heads.safetensors", heads, {{"format", "pt"}});
  save_tensors(tmp / "optimizer.safetensors", moments, {{"format", "pt"}});
  std::ofstream(tmp / "state.json") << state.dump(2) << "\n";
  fs::remove_all(dir);
  fs::rename(tmp, dir);
}

nlohmann::json load_checkpoint(const fs::path& dir, Model& m, const Heads& extra, FlatAdamW& optim) {
  std::ifstream in(dir / "state.json");
  if (!in) throw Error(ErrorCode::Io, "no checkpoint to resume in " + dir.string());
  nlohmann::json state;
  try {
    state = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw Error(ErrorCode::BadConfig, (dir / "state.json").string() + ": " + e.what());
  }
  m->load_weights(Checkpoint::open(dir / "model.safetensors"));
  auto st = SafeTensors::open(dir / "optimizer.safetensors");
  std::optional<SafeTensors> heads;
  if (fs::exists(dir / "heads.safetensors")) heads = SafeTensors::open(dir / "heads.safetensors");
  const int64_t step = state.at("step").get<int64_t>();
  torch::NoGradGuard ng;
  for (const auto& [name, t] : named_for_checkpoint(m, extra)) {
    if (name.rfind("head.", 0) == 0) {
      // a checkpoint written without this head leaves it freshly initialised
      if (!heads || !heads->contains(name)) continue;
      auto v = tensor_view(*heads, name);
      if (v.sizes() != t.sizes()) throw Error(ErrorCode::BadConfig, "checkpoint: " + name + " has the wrong shape");
      t.copy_(v);
    }
    if (!st.contains(name + ".exp_avg")) continue;
    auto [avg, avg_sq] = optim.moments(t);
    for (auto [to, key] : {std::pair{avg, name + ".exp_avg"}, std::pair{avg_sq, name + ".exp_avg_sq"}}) {
      auto v = tensor_view(st, key);
      if (v.sizes() != to.sizes()) throw Error(ErrorCode::BadConfig, "checkpoint: " + key + " has the wrong shape");
      to.copy_(v);
    }
  }
  optim.set_steps(step);
  return state;
}

double ece(const std::vector<double>& conf, const std::vector<int>& correct, int bins = 15) {
  std::vector<double> sc(bins), sa(bins);
  std::vector<int> cnt(bins);
  for (size_t i = 0; i < conf.size(); ++i) {
    const int b = std::min(bins - 1, static_cast<int>(conf[i] * bins));
    sc[b] += conf[i];
    sa[b] += correct[i];
    ++cnt[b];
  }
  double e = 0;
  for (int b = 0; b < bins; ++b)
    if (cnt[b]) e += std::abs(sa[b] - sc[b]) / static_cast<double>(conf.size());
  return e;
}

// Captions by the spec's multiset rule, every other answer word for word.
bool judged_correct(const std::string& type, const std::string& truth, const std::string& answer) {
  return type == "describe" ? shapes::caption_matches(answer, truth) : answer == truth;
}

bool answer_correct(const shapes::Sample& s, const std::string& answer) { return judged_correct(s.type, s.answer, answer); }

}  // namespace

std::string EvalReport::to_json() const {
  nlohmann::json j = {{"count", count},
                      {"beams", beams},
                      {"accuracy", accuracy},
                      {"per_type", per_type},
                      {"per_type_count", per_type_count},
                      {"ece_calibrated", ece_calibrated},
                      {"ece_heuristic", ece_heuristic},
                      {"accuracy_at_90_coverage", acc_at_90_coverage},
                      {"pointing_count", pointing_count},
                      {"pointing_all_layers", pointing_all_layers},
                      {"pointing_grad_weighted", pointing_grad},
                      {"pointing_all_layers_per_type", pointing_all_layers_per_type},
                      {"pointing_grad_weighted_per_type", pointing_grad_per_type},
                      {"latency_p50_ms", latency_p50_ms},
                      {"latency_p95_ms", latency_p95_ms}};
  return j.dump(2);
}

bool data_parallel_available() { return DataParallel::available(); }

TrainOptions preset(const std::string& name) {
  TrainOptions o;
  if (name != "default") throw Error(ErrorCode::BadArgument, "unknown preset '" + name + "' (known: default)");
  o.seed = 7;
  // The whole command stays within 45 minutes: start-up, the training loop, and the
  // calibration fit on 1500 held-out questions (about 15 s).
  o.minutes = 44.5;
  o.calibration_samples = 1500;
  // Four questions about each rendered image after stage 1: one vision pass (the larger
  // part of a step) serves all four. Measured side by side: 525 questions/s against 270
  // with one question an image and a batch of 32. 45 minutes: 1,332,192 questions about
  // 393,360 images answered 0.886 (relations 0.78, captions 0.60, shapes 0.88); the
  // previous preset's model answered 0.792 from 457,536 (on a slower machine, 170/s).
  // Eight questions an image (batch 128, 16 images a step): 785 questions/s but 0.869,
  // relations 0.70 and captions 0.58 (fewer images: 211k in stage 2 against 313k).
  o.batch = 64;
  o.questions_per_image = 4;
  o.lr = 1e-3;
  o.hidden = 96;
  // Measured over 45 minutes (one process each, side by side): a conv stem
  // (three stride-2 3x3 convolutions to the same 8-px tokens) answered 0.558
  // against 0.517 for the linear patch projection, and pointed at 0.73 against
  // 0.67, for about 1 ms more per image. At 128 px with 16-px tokens it did worse, twice:
  // 21% fewer samples a second and higher losses at every step (last tried with the refer head; killed after 20 minutes).
  // 96 px through strides 2, 2 and 3 to the same 8x8 tokens: a small object is 10 to 15
  // pixels wide instead of 6 to 10. With the faster step (2026-12-01), 45 minutes each,
  // seed 7: 96 px saw 1,529,504 questions and answered 0.886 (shapes 0.93, captions 0.65,
  // relations 0.61); 64 px saw 1,498,080 and answered 0.877 (shapes 0.87, captions 0.61,
  // relations 0.72). The 64-px model shipped before (slower step, 1.33 million questions)
  // also answered 0.886, with relations 0.78 and shapes 0.88. Runs of one preset differ by
  // up to 0.06 (0.886, 0.877 and 0.821 for 64 px, the last with seed 8), relations most
  // (0.54 to 0.78): compare presets over two seeds. Three fusion layers instead of two:
  // 22% fewer questions a second and 0.811 (relations 0.48, captions 0.45).
  // With relation grounding, most wrong captions name a small object's shape wrongly
  // (circle/hexagon, triangle/star, square/triangle), worst below 8 model pixels; but
  // 144 px through strides 2, 3 and 3 (seed 7, 45 minutes) saw 10% fewer questions and
  // answered 0.860 (shapes 0.87, captions 0.51) against 0.918.
  o.image_size = 96;
  o.patch = 12;
  o.stem = "conv";
  // The stride-3 convolution 5x5, padded, so each token reads its neighbours' edges
  // (3x3 tiles): lower losses at every step for 0.6% fewer questions a second. Seed 7,
  // 45 minutes, on days this machine ran about 10% slower than for the 3x3 model shipped
  // before (0.918 from 1,558,800 questions): 0.917 and 0.924 (shapes 0.955 and 0.945,
  // relations 0.807 and 0.835, captions 0.688 and 0.711, pointing 0.917/0.832 and
  // 0.919/0.835), where 3x3 answered 0.912 on the first of those days. Seed 8: 0.924
  // (relations 0.807, captions 0.725; 3x3 had answered 0.903). 7x7: 9% fewer questions
  // a second and no lower losses than 5x5 (stopped after 8,000 steps).
  o.stem_tile_kernel = 5;
  // The input keeps the image's aspect ratio: about 64 tokens in a grid shaped like the
  // canvas (11x6 for 2:1) instead of a squeezed 8x8. The 5x5 model's captions had been
  // right on 0.86 of near-square canvases but 0.53 of canvases 1.6:1 or longer, where
  // a small object was 5 model pixels across. Seed 7, 45 minutes (27,293 steps and
  // 1,493,264 questions, on a day about 8% faster than the 5x5 run's 25,343 steps;
  // 54 to 72 tokens cost what 64 did): 0.932 against 0.924, captions 0.71 -> 0.75,
  // shapes 0.945 -> 0.959, pointing 0.919/0.835 -> 0.956/0.860, zero-shot 0.94 -> 0.95;
  // on the analysis set's long canvases, shapes 0.885 -> 0.943 and captions 0.53 -> 0.64.
  // Seed 8 (1,444,848 questions): 0.932 where 5x5 answered 0.924 (relations 0.853, shapes
  // 0.973, captions 0.743).
  o.keep_aspect = true;
  // Training canvases of 64 to 192 pixels, where most of the evaluation's are larger and
  // downscaled (a small object's shape was wrong a little more often on canvases over
  // 400 pixels). Canvases up to 400 (seed 7, 45 minutes): rendering took 18% of the
  // questions a second (1,297,200 in all) and the model answered 0.889 (shapes 0.90,
  // captions 0.64, relations 0.69) against 0.918.
  o.canvas_max = 192;
  o.threads = 1;  // measured: 144 samples/s with one thread, 133 with two (the ops are small)
  // ... so the cores go to data-parallel processes instead: one per core, up to two
  // (each of two ranks takes 8 of a step's 16 images).
  o.ranks = DataParallel::available() ? static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u)) : 1;
  // Per-patch attributes and positions (a training-only head), and the heatmap
  // grounding loss from the start: 0.447 -> 0.517 accuracy and pointing 0.39 -> 0.67.
  o.dense_weight = 1;
  // ... with object cells and background weighed alike: a small object covers one or
  // two of the 64 cells, so a plain mean taught mostly "background". Two ranks, 45 minutes:
  // 0.741 -> 0.792 accuracy, shape 0.70 -> 0.77, pointing 0.87 -> 0.90.
  o.dense_object_share = 0.5;
  // A cell is an object's only where it covers 20%: 10% of small objects (stars 25%,
  // triangles 16%) have no such cell at 8x8. Labelling each object's fullest cell as
  // well (from 4%) left 0.2% without one but answered 0.896 (captions 0.61, shapes
  // 0.923; 1,420,976 questions, the same slow day): reverted.
  o.ground_weight = 1;
  // The fused question names the referred object (a training-only head): one process,
  // 45 minutes, 280k samples: held-out accuracy 0.655 against 0.582 without it (294k).
  // For relations, naming the answer's object instead (or "none") took them from 0.46 to
  // 0.52 but captions from 0.38 to 0.34 and shapes from 0.77 to 0.75: 0.790 in all
  // against 0.792, so it was left out. Letting the decoder also read the image tokens
  // did worse: 0.766, relations 0.33, 2% fewer samples.
  o.refer_weight = 1;
  // The grounding target put all of a relation's heatmap on its subject, so the fusion
  // layer that should find the object in that direction was penalised for looking at
  // it. 0.4 of the target on the answer's object (its peak below the subject's): seed 7,
  // 45 minutes, 0.886 -> 0.918, relations 0.61 -> 0.77 (five-object scenes 0.29 -> 0.63),
  // captions 0.65 -> 0.74, pointing 0.921 -> 0.916; seed 8: 0.903, relations 0.78,
  // captions 0.64. The same for a comparison's second
  // object as well (--ground-compare 0.4): 0.905, comparisons 0.89 -> 0.92 but captions
  // 0.68 and counting 0.92; left out.
  o.ground_relation_share = 0.4;
  // Tried on a day this machine ran about 20% slower than for the shipped run (seed 7,
  // 45 minutes each, against its 0.932 from 27,293 steps), and left out: 8 learned query
  // tokens after the question (--queries 8; 21,006 steps, 2% fewer a minute than without):
  // 0.918, captions 0.78 but 0.726 on the analysis set (0.741), relations 0.73, counting
  // 0.93, ask p50 5.8 ms against 4.1; and drawing types by their loss above label
  // smoothing's floor (--curriculum excess; 22,593 steps): 0.926, relations 0.867 (the
  // best yet) but captions 0.71 (0.68 on the analysis set). On a slower day (AVX2 kernels
  // on a Zen 5), --curriculum-alpha 0.3 with excess: 17,458 steps, 0.893; --curriculum error
  // (by each type's running share of wrong answers): 19,180 steps, 0.907, relations 0.78,
  // captions 0.71. No same-day run of the preset itself. Those slow days were largely
  // page faults (configure_allocator, core/runtime/runtime.h): with freed memory kept, the preset got
  // 28,642 steps on the same Zen 5 and answered 0.941 (3 beams; captions 0.77, relations
  // 0.86, shapes 0.99, ECE 0.014). The same day and code with types drawn by their
  // running share of wrong answers (--curriculum error) got 28,422 steps and 0.954:
  // relations 0.90, captions 0.85, ECE 0.017 (shipped). A type's loss stays near label
  // smoothing's floor once its answers are right, so drawing by loss spent steps on types
  // that were done; the error rate goes to zero with them. Run again: 27,761 steps, 0.932.
  // On 3000 other questions the three answer 0.945, 0.943 and (by loss) 0.948, captions
  // 0.83, 0.82 and 0.82: within a run's spread, not a proven gain. Scenes drawn by each
  // object count's error within a type as well (--curriculum-objects 0.6; 27,487 steps):
  // 0.942, captions 0.83; 0.949 and captions 0.86 on the 3000: left off.
  o.curriculum = "error";
  return o;
}

void train(const TrainOptions& opt, const Log& log) {
  if (opt.out.empty()) throw Error(ErrorCode::BadArgument, "train needs an output folder");
  if (opt.curriculum != "loss" && opt.curriculum != "excess" && opt.curriculum != "error")
    throw Error(ErrorCode::BadArgument, "unknown curriculum '" + opt.curriculum + "' (known: loss, excess, error)");
  if (!(opt.curriculum_alpha >= 0 && opt.curriculum_alpha <= 1))
    throw Error(ErrorCode::BadArgument, "the curriculum's share must be 0 to 1");
  if (!(opt.curriculum_objects >= 0 && opt.curriculum_objects <= 1))
    throw Error(ErrorCode::BadArgument, "the object-count curriculum's share must be 0 to 1");
  configure_compute_threads(opt.threads);
  torch::manual_seed(static_cast<uint64_t>(opt.seed));
  auto vocab = make_vocab(shapes::vocabulary());
  auto cfg = small_config(static_cast<int>(vocab.size()));
  cfg.vision.hidden = opt.hidden;
  cfg.vision.image_size = opt.image_size;
  cfg.vision.patch_size = opt.patch;
  cfg.vision.stem = opt.stem;
  cfg.vision.stem_tile_kernel = opt.stem_tile_kernel;
  cfg.preprocess.size = opt.image_size;
  cfg.preprocess.patch = opt.patch;
  cfg.preprocess.keep_aspect = opt.keep_aspect;
  cfg.queries = opt.queries;
  cfg.vision.layers = opt.vision_layers;
  cfg.vision.heads = opt.heads;
  cfg.vision.intermediate = 2 * opt.hidden;
  cfg.text.hidden = opt.hidden;
  cfg.text.layers = opt.text_layers;
  cfg.text.decoder_layers = opt.decoder_layers;
  cfg.text.heads = opt.heads;
  cfg.text.intermediate = 2 * opt.hidden;
  cfg.fusion_layers.clear();
  for (int i = 0; i < opt.text_layers; ++i) cfg.fusion_layers.push_back(i);
  cfg.align_dim = opt.align_dim;
  cfg.preprocess.mean = {0.5f, 0.5f, 0.5f};
  cfg.preprocess.std = {0.25f, 0.25f, 0.25f};
  cfg.answer_list = shapes::closed_answers();
  cfg.validate();
  auto tok = Tokenizer::from_tokens(vocab);
  Model m(cfg);
  m->init_weights(opt.seed);
  m->train();
  // Training-only heads: per-patch attributes, so the vision tokens say what lies where
  // (dense), and the referred object's attributes and place from the fused question (refer).
  auto params = m->parameters();
  auto head = [&](bool wanted, int64_t in) {
    if (!wanted) return torch::nn::Linear(nullptr);
    const auto cls = dense_classes();
    torch::nn::Linear h(in, std::accumulate(cls.begin(), cls.end(), int64_t{0}));
    for (auto& p : h->parameters()) params.push_back(p);
    return h;
  };
  torch::nn::Linear dense = head(opt.dense_weight > 0, cfg.vision.hidden);
  torch::nn::Linear refer = head(opt.refer_weight > 0, cfg.text.hidden);
  const Heads heads{{"dense", dense}, {"refer", refer}};
  FlatAdamW optim(params, 0.01);
  Aux aux;
  aux.dense = dense.is_empty() ? nullptr : &dense;
  aux.refer = refer.is_empty() ? nullptr : &refer;
  aux.dense_weight = opt.dense_weight;
  aux.dense_object_share = opt.dense_object_share;
  aux.ground_weight = opt.ground_weight;
  aux.refer_weight = opt.refer_weight;
  aux.cls_id = tok.cls_id();
  aux.sep_id = tok.sep_id();
  auto dp = DataParallel::from_env(std::chrono::milliseconds(static_cast<int64_t>(opt.dist_timeout_s * 1000)));
  const int world = dp ? dp->world() : 1, rank = dp ? dp->rank() : 0;
  const int per_image = opt.questions_per_image;
  if (per_image < 1 || opt.batch % per_image != 0)
    throw Error(ErrorCode::BadArgument, "the batch (" + std::to_string(opt.batch) + ") must be a multiple of the questions per image (" +
                                            std::to_string(per_image) + ")");
  const int images = opt.batch / per_image;  // a step's images, over all ranks
  if (images < 2) throw Error(ErrorCode::BadArgument, "a step needs at least 2 images (contrastive loss)");
  if (images % world != 0)
    throw Error(ErrorCode::BadArgument, "the batch's " + std::to_string(images) + " images must split evenly over " +
                                            std::to_string(world) + " ranks");
  const int local_images = images / world;
  const bool lead = rank == 0;  // logs, checkpoints and the model folder

  const auto& types = shapes::question_types();
  const int ntypes = static_cast<int>(types.size());
  const fs::path ckpt = opt.out / "checkpoint";
  int64_t step = 0, seen = 0, seen_images = 0;  // questions and images trained on
  double ema = 0, first_loss = 0, answer_ema = 0, first_answer_loss = 0, dense_ema = 0, first_dense_loss = 0,
         ground_ema = 0, first_ground_loss = 0, refer_ema = 0, first_refer_loss = 0, spent_s = 0;  // spent_s: training seconds of earlier runs (resume)
  std::vector<double> type_loss(static_cast<size_t>(ntypes), 1.0), type_error(static_cast<size_t>(ntypes), 1.0);
  constexpr int kCounts = 5;  // scenes of 1..5 objects
  // By type, then object count. From 0, not 1 as the types: a count a type is never asked
  // about (a comparison needs two objects) must not draw scenes only to redraw them.
  std::vector<double> object_error(static_cast<size_t>(ntypes * kCounts), 0.0);
  const double smoothing_floor = label_smoothing_floor(cfg.text.vocab_size, kLabelSmoothing);
  if (opt.resume) {
    auto st = load_checkpoint(ckpt, m, heads, optim);
    step = st.at("step");
    seen = st.at("samples");
    seen_images = st.value("images", seen);
    ema = st.at("loss");
    first_loss = st.at("first_loss");
    answer_ema = st.at("answer_loss");
    first_answer_loss = st.at("first_answer_loss");
    spent_s = st.at("seconds");
    dense_ema = st.value("patch_loss", 0.0);
    first_dense_loss = st.value("first_patch_loss", 0.0);
    ground_ema = st.value("grounding_loss", 0.0);
    refer_ema = st.value("refer_loss", 0.0);
    first_refer_loss = st.value("first_refer_loss", 0.0);
    first_ground_loss = st.value("first_grounding_loss", 0.0);
    type_loss = st.at("type_loss").get<std::vector<double>>();
    if (static_cast<int>(type_loss.size()) != ntypes) throw Error(ErrorCode::BadConfig, "checkpoint: type_loss has the wrong length");
    if (st.contains("type_error")) type_error = st.at("type_error").get<std::vector<double>>();
    if (static_cast<int>(type_error.size()) != ntypes) throw Error(ErrorCode::BadConfig, "checkpoint: type_error has the wrong length");
    if (st.contains("object_error")) object_error = st.at("object_error").get<std::vector<double>>();
    if (static_cast<int>(object_error.size()) != ntypes * kCounts)
      throw Error(ErrorCode::BadConfig, "checkpoint: object_error has the wrong length");
    if (log && lead) log("resumed at step " + std::to_string(step));
  }
  if (dp) {  // same start everywhere, whatever each rank's seed or checkpoint copy
    std::vector<Tensor> start;
    {
      torch::NoGradGuard ng;
      for (auto& p : params) start.push_back(p.data());
      dp->broadcast(start);
    }
    if (log && lead)
      log("data parallel: " + std::to_string(world) + " ranks, " + std::to_string(local_images) + " images each per step");
  }
  const auto t0 = Clock::now();
  const double budget_s = opt.minutes * 60.0;
  const int warmup = 200;
  auto elapsed = [&] { return spent_s + std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto state = [&] {
    return nlohmann::json{{"step", step}, {"samples", seen}, {"images", seen_images}, {"loss", ema}, {"first_loss", first_loss},
                          {"answer_loss", answer_ema}, {"first_answer_loss", first_answer_loss}, {"seconds", elapsed()},
                          {"type_loss", type_loss}, {"type_error", type_error}, {"object_error", object_error}, {"seed", opt.seed}, {"patch_loss", dense_ema},
                          {"first_patch_loss", first_dense_loss}, {"grounding_loss", ground_ema},
                          {"refer_loss", refer_ema}, {"first_refer_loss", first_refer_loss},
                          {"first_grounding_loss", first_ground_loss}};
  };
  double itc_ema = 0, last_log_s = elapsed();
  int64_t last_log_seen = seen;
  for (;; ++step) {
    double now = elapsed();
    if (dp) {  // rank 0's clock decides the schedule and when to stop, for every rank
      std::vector<Tensor> t{torch::full({1}, now, torch::kFloat64)};
      dp->broadcast(t);
      now = t[0].item<double>();
    }
    if (opt.steps > 0 ? step >= opt.steps : now >= budget_s) break;
    const double progress = std::min(1.0, opt.steps > 0 ? static_cast<double>(step) / opt.steps : now / budget_s);
    const double lr = opt.lr * std::min(1.0, (step + 1.0) / warmup) * (0.5 * (1 + std::cos(M_PI * progress)) * 0.95 + 0.05);
    // Stage 1 (alignment and captioning): describe questions only. Stage 2: every
    // type, drawn more often the higher its running loss, more so as training goes.
    std::vector<std::string> batch_types;
    shapes::Rng pick(shapes::mix_seed(opt.seed ^ 0x5EEDC0DEull, static_cast<uint64_t>(step)));
    const bool stage1 = progress < opt.stage1_fraction;
    const double alpha = stage1 ? 0 : opt.curriculum_alpha * std::min(1.0, (progress - opt.stage1_fraction) / 0.3);
    // Hardness of a type: its running loss, what it has above the loss that label
    // smoothing leaves on a perfectly answered token, or its running error rate.
    std::vector<double> hardness = opt.curriculum == "error" ? type_error : type_loss;
    if (opt.curriculum != "loss")
      for (auto& h : hardness) h = std::max(h - (opt.curriculum == "excess" ? smoothing_floor : 0.0), 1e-3);
    const double total_loss = std::accumulate(hardness.begin(), hardness.end(), 0.0);
    const int k = stage1 ? 1 : per_image;  // questions per image this step
    const int questions = images * k, local = local_images * k;
    for (int i = 0; i < questions; ++i) {
      if (stage1) {
        batch_types.push_back("describe");
        continue;
      }
      double u = pick.uniform(), acc = 0;
      int t = ntypes - 1;
      for (int j = 0; j < ntypes; ++j) {
        acc += (1 - alpha) / ntypes + alpha * hardness[static_cast<size_t>(j)] / total_loss;
        if (u < acc) {
          t = j;
          break;
        }
      }
      batch_types.push_back(types[static_cast<size_t>(t)]);
    }
    // This rank's share of the step: images seen + rank * local_images ...
    const std::vector<std::string> mine(batch_types.begin() + rank * local, batch_types.begin() + (rank + 1) * local);
    BatchParts parts;
    parts.align = cfg.align_dim > 0;
    parts.dense = !dense.is_empty();
    parts.ground = opt.ground_weight > 0;
    parts.refer = !refer.is_empty();
    parts.per_image = k;
    parts.relation_share = opt.ground_relation_share;
    parts.compare_share = opt.ground_compare_share;
    parts.canvas_max = opt.canvas_max;
    // Within a type, scenes of each object count drawn by its running error, as the types are.
    const double beta = stage1 ? 0 : opt.curriculum_objects * std::min(1.0, (progress - opt.stage1_fraction) / 0.3);
    if (beta > 0)
      for (int t = 0; t < ntypes; ++t) {
        const auto row = object_error.begin() + t * kCounts;
        double sum = 0;
        for (int c = 0; c < kCounts; ++c) sum += std::max(row[c], 1e-3);
        std::array<double, kCounts> odds{};
        for (int c = 0; c < kCounts; ++c) odds[static_cast<size_t>(c)] = (1 - beta) / kCounts + beta * std::max(row[c], 1e-3) / sum;
        parts.object_odds.push_back(odds);
      }
    auto b = make_batch(cfg, tok, opt.seed, seen_images + rank * local_images, mine, parts);
    seen += questions;
    seen_images += images;
    optim.zero_grad();
    auto loss = loss_of(m, b, dp.get(), aux);
    loss.total.backward();
    if (dp) {
      std::vector<Tensor> g{optim.grad()};
      dp->sum(g);
    }
    optim.clip_grad_norm(1.0);
    optim.step(lr);
    // Figures of the global batch: answer loss, and per type the loss sum, count and wrong answers.
    // ... and per type and object count the questions and wrong answers.
    const int by_count = 1 + 3 * ntypes;
    auto stats = torch::zeros({by_count + 2 * ntypes * kCounts}, torch::kFloat64);
    stats[0] = loss.lm_part;
    auto per = loss.per_sample.accessor<float, 1>();
    auto wrong = loss.per_sample_wrong.accessor<float, 1>();
    for (int i = 0; i < local; ++i) {
      const int t = b.type[static_cast<size_t>(i)];
      stats[1 + t] += per[i];
      stats[1 + ntypes + t] += 1;
      stats[1 + 2 * ntypes + t] += wrong[i];
      const int c = t * kCounts + std::clamp(b.objects[static_cast<size_t>(i)], 1, kCounts) - 1;
      stats[by_count + 2 * c] += 1;
      stats[by_count + 2 * c + 1] += wrong[i];
    }
    if (dp) {
      std::vector<Tensor> v{stats};
      dp->sum(v);
    }
    const double lm = stats[0].item<double>(), l = lm + loss.itc;
    if (step == 0) first_loss = l, first_answer_loss = lm, first_dense_loss = loss.dense;
    ema = step == 0 ? l : 0.98 * ema + 0.02 * l;
    answer_ema = step == 0 ? lm : 0.98 * answer_ema + 0.02 * lm;
    itc_ema = step == 0 ? loss.itc : 0.98 * itc_ema + 0.02 * loss.itc;
    dense_ema = step == 0 ? loss.dense : 0.98 * dense_ema + 0.02 * loss.dense;
    if (loss.ground_n > 0) {  // stage 1's captions refer to no object
      if (first_ground_loss == 0) first_ground_loss = ground_ema = loss.ground;
      ground_ema = 0.98 * ground_ema + 0.02 * loss.ground;
    }
    if (loss.refer > 0) {  // as grounding: stage 1 has no referred objects
      if (first_refer_loss == 0) first_refer_loss = refer_ema = loss.refer;
      refer_ema = 0.98 * refer_ema + 0.02 * loss.refer;
    }
    for (int t = 0; t < ntypes; ++t) {
      const double n = stats[1 + ntypes + t].item<double>();
      if (n == 0) continue;
      const double keep = std::pow(0.99, n);
      type_loss[static_cast<size_t>(t)] = keep * type_loss[static_cast<size_t>(t)] + (1 - keep) * stats[1 + t].item<double>() / n;
      type_error[static_cast<size_t>(t)] =
          keep * type_error[static_cast<size_t>(t)] + (1 - keep) * stats[1 + 2 * ntypes + t].item<double>() / n;
    }
    for (int c = 0; c < ntypes * kCounts; ++c) {
      const double n = stats[by_count + 2 * c].item<double>();
      if (n == 0) continue;
      const double keep = std::pow(0.99, n);
      auto& e = object_error[static_cast<size_t>(c)];
      e = keep * e + (1 - keep) * stats[by_count + 2 * c + 1].item<double>() / n;
    }
    if (lead && opt.checkpoint_every > 0 && step > 0 && step % opt.checkpoint_every == 0)
      save_checkpoint(ckpt, m, heads, optim, cfg, tok, state());
    if (lead && step % 200 == 0 && log) {
      // held-out accuracy on 48 fresh samples (seeds apart from training's)
      m->eval();
      int right = 0;
      {
        torch::NoGradGuard ng;
        for (int i = 0; i < 48; ++i) {
          auto s = shapes::make_sample(shapes::mix_seed(opt.seed + 555557, static_cast<uint64_t>(i)), train_gen(opt.canvas_max));
          right += answer_correct(s, greedy(m, cfg, tok, s));
        }
      }
      m->train();
      const double t = elapsed();
      const double rate = static_cast<double>(seen - last_log_seen) / std::max(1e-9, t - last_log_s);
      last_log_s = t;
      last_log_seen = seen;
      const double left = opt.steps > 0 ? (opt.steps - step) * opt.batch / std::max(rate, 1e-9) : budget_s - t;
      char buf[260];
      std::snprintf(buf, sizeof buf,
                    "step %lld %s loss %.3f (contrastive %.3f, patches %.3f, grounding %.3f, referred %.3f)  held-out acc %.2f  lr %.2e  %.0f samples/s  %.0f s left",
                    static_cast<long long>(step), stage1 ? "[stage 1]" : "[stage 2]", ema, itc_ema, dense_ema, ground_ema, refer_ema,
                    right / 48.0, lr, rate, left);
      log(buf);
    }
  }
  m->eval();
  if (!lead) return;
  fs::create_directories(opt.out);
  save_config(cfg, opt.out);
  tok.save_vocab(opt.out / "vocab.txt");
  m->save_weights(opt.out / "model.safetensors");
  if (opt.checkpoint_every > 0) save_checkpoint(ckpt, m, heads, optim, cfg, tok, state());
  {
    nlohmann::json meta = state();
    meta["minutes"] = elapsed() / 60.0;
    meta["final_loss"] = ema;
    meta["batch"] = opt.batch;
    meta["lr"] = opt.lr;
    meta["hidden"] = opt.hidden;
    meta["dense_weight"] = opt.dense_weight;
    meta["dense_object_share"] = opt.dense_object_share;
    meta["ground_weight"] = opt.ground_weight;
    meta["refer_weight"] = opt.refer_weight;
    meta["ground_relation_share"] = opt.ground_relation_share;
    meta["ground_compare_share"] = opt.ground_compare_share;
    meta["questions_per_image"] = per_image;
    meta["canvas_max"] = opt.canvas_max;
    meta["curriculum"] = opt.curriculum;
    meta["curriculum_alpha"] = opt.curriculum_alpha;
    meta["curriculum_objects"] = opt.curriculum_objects;
    meta["image_size"] = opt.image_size;
    meta["ranks"] = world;
    meta["types"] = types;
    std::ofstream(opt.out / "training.json") << meta.dump(2) << "\n";
  }
  if (log) log("trained " + std::to_string(step) + " steps on " + std::to_string(seen) + " samples");
  calibrate(opt.out, opt.seed + 1000003, opt.calibration_samples, log);
}

namespace {

struct CalItem {
  Image image;
  std::string question;
  std::function<bool(const std::string&)> correct;
};

// Greedy answers with their per-step logits on held-out items, then the
// temperature minimising the ECE of the length-normalised probability. Items are
// made one at a time: 1500 scenes of up to 1024x1024 held at once took 4.8 GB.
void fit_calibration(const fs::path& model, int count, const std::function<CalItem(int)>& item_at, const Log& log) {
  auto cfg = load_config(model);
  auto tok = Tokenizer::from_folder(model);
  Model m(cfg);
  m->load_weights(Checkpoint::open(model / "model.safetensors"));
  m->eval();
  compat::InferenceGuard guard;
  std::vector<std::vector<Tensor>> step_logits;  // per sample: [V] per chosen step
  std::vector<std::vector<int64_t>> chosen;
  std::vector<int> correct;
  std::vector<double> heur;
  for (int i = 0; i < count; ++i) {
    const CalItem item = item_at(i);
    std::vector<Tensor> ls;
    auto out = greedy_ids(m, cfg, pixel_batch(item.image, cfg), tok.encode(item.question).ids, 30, &ls);
    double top1 = 0;
    for (const auto& l : ls) top1 += torch::softmax(l, -1).max().item<double>();
    correct.push_back(item.correct(answer_text(tok, cfg, out)) ? 1 : 0);
    heur.push_back(top1 / static_cast<double>(out.size()) / (1.0 + 0.1 * std::max<double>(0, static_cast<double>(out.size()) - 2)));
    step_logits.push_back(std::move(ls));
    chosen.push_back(std::move(out));
  }
  // Per temperature, each answer's summed log-probability; the length exponent is
  // then free to fit: a caption is right only when every word is, so the geometric
  // mean over words (exponent 1) overstates long answers.
  std::vector<double> temps;
  for (int k = 0; k <= 35; ++k) temps.push_back(0.5 + 0.1 * k);
  std::vector<std::vector<double>> sum_logp(temps.size());
  std::vector<double> words;
  for (size_t i = 0; i < chosen.size(); ++i) {
    auto logits = torch::stack(step_logits[i]);  // [steps, V]
    auto ids = torch::tensor(chosen[i], torch::kLong).unsqueeze(1);
    for (size_t k = 0; k < temps.size(); ++k)
      sum_logp[k].push_back(torch::log_softmax(logits / temps[k], -1).gather(1, ids).sum().item<double>());
    words.push_back(static_cast<double>(std::max<size_t>(1, chosen[i].size() - (chosen[i].back() == cfg.eos_id ? 1 : 0))));
  }
  auto conf_at = [&](size_t k, double beta) {
    std::vector<double> c;
    for (size_t i = 0; i < chosen.size(); ++i) c.push_back(std::exp(sum_logp[k][i] / std::pow(words[i], beta)));
    return c;
  };
  const size_t t1 = 5;  // temps[5] == 1.0
  const double ece_raw = ece(conf_at(t1, 1.0), correct);
  double best_t = 1, best_beta = 1, best_e = ece_raw;
  // A second free parameter needs a held-out set large enough for 15 bins to mean something.
  const int first_b = chosen.size() >= 500 ? 0 : 20;  // exponent 0.05 * b; 20: exponent 1 only
  for (size_t k = 0; k < temps.size(); ++k)
    for (int b = first_b; b <= 20; ++b) {
      const double e = ece(conf_at(k, 0.05 * b), correct);
      if (e < best_e - 1e-12) {
        best_e = e;
        best_t = temps[k];
        best_beta = 0.05 * b;
      }
    }
  const double ece_h = ece(heur, correct);
  const double acc = std::accumulate(correct.begin(), correct.end(), 0.0) / std::max<size_t>(1, correct.size());
  nlohmann::json j = {{"temperature", std::round(best_t * 100) / 100},
                      {"rank_temperature", std::round(best_t * 100) / 100},
                      {"length_exponent", std::round(best_beta * 100) / 100},
                      {"ece", best_e},
                      {"ece_uncalibrated", ece_raw},
                      {"ece_heuristic", ece_h},
                      {"default", ece_h < best_e ? "heuristic" : "calibrated"},
                      {"samples", count},
                      {"heldout_accuracy", acc},
                      {"bins", 15}};
  std::ofstream(model / "calibration.json") << j.dump(2) << "\n";
  if (log) {
    char buf[200];
    std::snprintf(buf, sizeof buf,
                  "calibration: T=%.2f length exponent %.2f  ECE %.3f (T=1: %.3f, heuristic %.3f)  held-out accuracy %.3f",
                  best_t, best_beta, best_e, ece_raw, ece_h, acc);
    log(buf);
  }
}

}  // namespace

void calibrate(const fs::path& model, uint64_t seed, int count, const Log& log) {
  fit_calibration(model, count, [seed](int i) {
    // The spec's canvas sizes (64 to 1024 pixels), as users' images and the evaluation.
    auto s = std::make_shared<shapes::Sample>(
        shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(i)), shapes::GenOptions{}));
    return CalItem{image_from_mat(s->scene.rgb), s->question,
                   [s](const std::string& answer) { return answer_correct(*s, answer); }};
  }, log);
}

namespace {

// Each non-blank line of a JSON Lines file, parsed, with "FILE:LINE" for messages, until
// `row` returns false.
void read_json_lines(const fs::path& file, const std::string& what,
                     const std::function<bool(const nlohmann::json&, const std::string& where)>& row) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw Error(ErrorCode::Io, file.string() + ": cannot read " + what);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = file.string() + ":" + std::to_string(n);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      throw Error(ErrorCode::BadArgument, where + ": not a JSON object");
    }
    if (!j.is_object()) throw Error(ErrorCode::BadArgument, where + ": not a JSON object");
    if (!row(j, where)) return;
  }
}

// An image named in a JSON Lines file (UTF-8), relative to the file's folder.
fs::path image_path(const fs::path& file, const std::string& name) {
  fs::path img = fs::u8path(name);
  return img.is_relative() ? file.parent_path() / img : img;
}

// One question to score: the image, the truth, and the referred object's pixels
// (empty when the question refers to no object).
struct EvalItem {
  Image image;
  std::string question, type, answer;
  cv::Mat referred_mask;  // 8-bit, the image's size, non-zero on the object
};

EvalReport evaluate_items(const fs::path& model, int count, const std::function<EvalItem(int)>& item_at, const Log& log,
                          int beams) {
  auto engine = Engine::load(model, Options{Device::Cpu});
  EvalReport rep;
  rep.beams = beams;
  std::vector<double> conf, heur, lat;
  std::vector<int> correct;
  std::map<std::string, int> right;
  int point_n = 0, point_all = 0, point_grad = 0;
  std::map<std::string, int> point_type_n, point_type_all, point_type_grad;
  for (int i = 0; i < count; ++i) {
    const EvalItem s = item_at(i);
    auto t0 = Clock::now();
    AskOptions o;
    o.beams = beams;
    o.max_new_tokens = 30;
    auto r = engine->ask(engine->encode(s.image), s.question, o);
    lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    const bool ok = !r.answers.empty() && judged_correct(s.type, s.answer, r.answers.front().text);
    correct.push_back(ok);
    conf.push_back(r.answers.empty() ? 0 : r.answers.front().confidence);
    heur.push_back(r.answers.empty() ? 0 : r.answers.front().heuristic);
    right[s.type] += ok;
    rep.per_type_count[s.type] += 1;
    if (!s.referred_mask.empty() && !r.answers.empty()) {
      // pointing game: the heatmap's maximum inside the referred mask dilated by 3%
      const int w = s.image.width, h = s.image.height;
      const int d = std::max(1, static_cast<int>(0.03 * std::min(w, h)));
      cv::Mat dil;
      cv::dilate(s.referred_mask, dil, cv::getStructuringElement(cv::MORPH_ELLIPSE, {2 * d + 1, 2 * d + 1}));
      auto hit = [&](HeatmapMethod meth) {
        HeatmapRequest req;
        req.method = meth;
        auto map = engine->heatmap(r, req);
        const auto best = std::max_element(map.data.begin(), map.data.end()) - map.data.begin();
        const int gw = static_cast<int>(map.shape[1]), gh = static_cast<int>(map.shape[0]);
        const int x = static_cast<int>((best % gw + 0.5) * w / gw);
        const int y = static_cast<int>((best / gw + 0.5) * h / gh);
        return dil.at<uint8_t>(std::min(y, dil.rows - 1), std::min(x, dil.cols - 1)) > 0;
      };
      const bool all = hit(HeatmapMethod::AllLayers), grad = hit(HeatmapMethod::GradWeighted);
      ++point_n, ++point_type_n[s.type];
      point_all += all, point_type_all[s.type] += all;
      point_grad += grad, point_type_grad[s.type] += grad;
    }
  }
  rep.count = count;
  rep.accuracy = std::accumulate(correct.begin(), correct.end(), 0.0) / std::max(1, count);
  for (auto& [t, n] : rep.per_type_count) rep.per_type[t] = static_cast<double>(right[t]) / n;
  rep.ece_calibrated = ece(conf, correct);
  rep.ece_heuristic = ece(heur, correct);
  std::vector<size_t> order(conf.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return conf[a] > conf[b]; });
  const size_t keep = std::max<size_t>(1, static_cast<size_t>(0.9 * static_cast<double>(order.size())));
  double ok90 = 0;
  for (size_t i = 0; i < std::min(keep, order.size()); ++i) ok90 += correct[order[i]];
  rep.acc_at_90_coverage = ok90 / static_cast<double>(keep);
  rep.pointing_count = point_n;
  rep.pointing_all_layers = point_n ? static_cast<double>(point_all) / point_n : 0;
  rep.pointing_grad = point_n ? static_cast<double>(point_grad) / point_n : 0;
  for (const auto& [t, n] : point_type_n) {
    rep.pointing_all_layers_per_type[t] = static_cast<double>(point_type_all[t]) / n;
    rep.pointing_grad_per_type[t] = static_cast<double>(point_type_grad[t]) / n;
  }
  std::sort(lat.begin(), lat.end());
  if (!lat.empty()) {
    rep.latency_p50_ms = lat[lat.size() / 2];
    rep.latency_p95_ms = lat[std::min(lat.size() - 1, static_cast<size_t>(0.95 * static_cast<double>(lat.size())))];
  }
  if (log) log(rep.to_json());
  return rep;
}

}  // namespace

EvalReport evaluate(const fs::path& model, uint64_t seed, int count, const Log& log, int beams) {
  return evaluate_items(model, count, [seed](int i) {
    auto s = shapes::make_sample(shapes::mix_seed(seed, static_cast<uint64_t>(i)), shapes::GenOptions{});
    EvalItem it{image_from_mat(s.scene.rgb), s.question, s.type, s.answer, {}};
    if (s.referred >= 0) it.referred_mask = s.scene.objects[static_cast<size_t>(s.referred)].mask;
    return it;
  }, log, beams);
}

EvalReport evaluate_set(const fs::path& dir, const fs::path& model, int limit, const Log& log, int beams) {
  const fs::path file = fs::is_directory(dir) ? dir / "requests.jsonl" : dir;
  // A question of the set, checked: the referred object as a mask file or, without
  // masks, its box (neither: no pointing game).
  struct Row {
    std::string where, question, answer, type;
    fs::path image, mask;
    std::optional<cv::Rect> box;
  };
  // The set is read and checked first, so that a bad line stops it before any model time.
  std::vector<Row> rows;
  read_json_lines(file, "the set (a folder written by `autoglm-train generate`, or its requests.jsonl)",
                  [&](const nlohmann::json& j, const std::string& where) {
    for (const char* key : {"image", "question", "answer"})
      if (!j.contains(key) || !j[key].is_string()) throw Error(ErrorCode::BadArgument, where + ": needs \"" + key + "\" (a string)");
    if (j.contains("type") && !j["type"].is_string()) throw Error(ErrorCode::BadArgument, where + ": \"type\" must be a string");
    Row row{where, j["question"], j["answer"], j.value("type", std::string("unknown")), image_path(file, j["image"]), {}, {}};
    const int ref = j.contains("referred") && j["referred"].is_number_integer() ? j["referred"].get<int>() : -1;
    if (ref >= 0) {
      const auto r = static_cast<size_t>(ref);
      static const nlohmann::json none;
      const auto& masks = j.contains("masks") ? j["masks"] : none;
      const auto& objects = j.contains("objects") ? j["objects"] : none;
      if (masks.is_array() && r < masks.size() && masks[r].is_string()) {
        row.mask = image_path(file, masks[r]);
      } else if (objects.is_array() && r < objects.size() && objects[r].is_object() && objects[r].contains("bbox") &&
                 objects[r]["bbox"].is_array() && objects[r]["bbox"].size() == 4) {
        const auto& b = objects[r]["bbox"];
        row.box = cv::Rect(static_cast<int>(b[0].get<double>()), static_cast<int>(b[1].get<double>()),
                           static_cast<int>(b[2].get<double>()), static_cast<int>(b[3].get<double>()));
      } else {
        throw Error(ErrorCode::BadArgument, where + ": \"referred\" is " + std::to_string(ref) +
                                                " but there is no such entry in \"masks\" or \"objects\" (with a \"bbox\")");
      }
    }
    rows.push_back(std::move(row));
    return limit <= 0 || static_cast<int>(rows.size()) < limit;
  });
  if (rows.empty()) throw Error(ErrorCode::BadArgument, file.string() + " has no questions");
  return evaluate_items(model, static_cast<int>(rows.size()), [&](int i) {
    const Row& row = rows[static_cast<size_t>(i)];
    EvalItem it{decode_image_file(row.image), row.question, row.type, row.answer, {}};
    if (!row.mask.empty()) {
      it.referred_mask = cv::imread(row.mask.string(), cv::IMREAD_GRAYSCALE);
      if (it.referred_mask.empty()) throw Error(ErrorCode::Io, row.where + ": cannot read the mask " + row.mask.string());
      if (it.referred_mask.cols != it.image.width || it.referred_mask.rows != it.image.height)
        throw Error(ErrorCode::BadArgument, row.where + ": the mask " + row.mask.string() + " is not the image's size");
    } else if (row.box) {  // a set without masks: the referred object's box stands in for its pixels
      it.referred_mask = cv::Mat::zeros(it.image.height, it.image.width, CV_8U);
      it.referred_mask(*row.box & cv::Rect(0, 0, it.image.width, it.image.height)).setTo(255);
    }
    return it;
  }, log, beams);
}

std::string RetrievalReport::to_json() const {
  nlohmann::json j = {{"text_to_image_recall_at_1_of_100", t2i_r1_100},
                      {"text_to_image_recall_at_5_of_100", t2i_r5_100},
                      {"text_to_image_recall_at_1_of_1000", t2i_r1_1000},
                      {"text_to_image_recall_at_5_of_1000", t2i_r5_1000},
                      {"image_to_text_recall_at_1_of_100", i2t_r1_100},
                      {"zero_shot_single_object_accuracy", zero_shot_single},
                      {"zero_shot_count", zero_shot_count}};
  return j.dump(2);
}

bool has_alignment(const fs::path& model) { return load_config(model).align_dim > 0; }

RetrievalReport evaluate_retrieval(const fs::path& model, uint64_t seed, int zero_shot_count, const Log& log) {
  auto engine = Engine::load(model, Options{Device::Cpu});
  RetrievalReport rep;
  const int n = 1000;
  std::vector<std::vector<float>> img, txt;
  std::vector<std::vector<std::string>> keys;
  for (int i = 0; i < n; ++i) {
    auto sc = shapes::render_scene(shapes::mix_seed(seed, static_cast<uint64_t>(i)), shapes::GenOptions{});
    img.push_back(engine->embed_image(engine->encode(image_from_mat(sc.rgb))));
    txt.push_back(engine->embed_text(shapes::caption(sc)));
    keys.push_back(scene_key(sc, true));
  }
  // rank of the first correct item among the first `pool` candidates
  auto hit_rank = [&](const std::vector<float>& q, const std::vector<std::vector<float>>& cands, int pool,
                      const std::vector<std::string>& key) {
    std::vector<std::vector<float>> c(cands.begin(), cands.begin() + pool);
    auto s = engine->rank(q, c);
    std::vector<int> order(static_cast<size_t>(pool));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return s[static_cast<size_t>(a)].similarity > s[static_cast<size_t>(b)].similarity; });
    for (int r = 0; r < pool; ++r)
      if (keys[static_cast<size_t>(order[static_cast<size_t>(r)])] == key) return r;
    return pool;
  };
  for (int pool : {100, 1000}) {
    int r1 = 0, r5 = 0;
    for (int i = 0; i < pool; ++i) {
      const int r = hit_rank(txt[static_cast<size_t>(i)], img, pool, keys[static_cast<size_t>(i)]);
      r1 += r < 1;
      r5 += r < 5;
    }
    (pool == 100 ? rep.t2i_r1_100 : rep.t2i_r1_1000) = static_cast<double>(r1) / pool;
    (pool == 100 ? rep.t2i_r5_100 : rep.t2i_r5_1000) = static_cast<double>(r5) / pool;
  }
  int i2t = 0;
  for (int i = 0; i < 100; ++i) i2t += hit_rank(img[static_cast<size_t>(i)], txt, 100, keys[static_cast<size_t>(i)]) < 1;
  rep.i2t_r1_100 = i2t / 100.0;
  // zero-shot: every "a {color} {shape}" label against one-object scenes
  std::vector<std::string> labels, truth_of_label;
  for (const auto& c : shapes::color_names())
    for (const auto& sh : shapes::shape_names()) labels.push_back("a " + c + " " + sh);
  std::vector<std::vector<float>> lv;
  for (const auto& l : labels) lv.push_back(engine->embed_text(l));
  int right = 0, count = 0;
  for (uint64_t i = 0; count < zero_shot_count; ++i) {
    auto sc = shapes::render_scene(shapes::mix_seed(seed + 7919, i), shapes::GenOptions{});
    if (sc.objects.size() != 1) continue;
    auto s = engine->rank(engine->embed_image(engine->encode(image_from_mat(sc.rgb))), lv);
    const auto best = std::max_element(s.begin(), s.end(), [](const Match& a, const Match& b) { return a.similarity < b.similarity; }) - s.begin();
    right += labels[static_cast<size_t>(best)] == "a " + sc.objects[0].color + " " + sc.objects[0].shape;
    ++count;
  }
  rep.zero_shot_count = count;
  rep.zero_shot_single = count ? static_cast<double>(right) / count : 0;
  if (log) log(rep.to_json());
  return rep;
}

// ---------------------------------------------------------------- fine-tuning

std::string FinetuneReport::to_json() const {
  nlohmann::json j = {{"train", train},
                      {"val", val},
                      {"val_accuracy_before", val_accuracy_before},
                      {"val_accuracy_after", val_accuracy_after},
                      {"epochs_run", epochs_run},
                      {"best_epoch", best_epoch},
                      {"new_tokens", new_tokens}};
  return j.dump(2);
}

namespace {

struct Example {
  std::string image, question, answer;
};

std::vector<Example> read_examples(const fs::path& file) {
  std::vector<Example> out;
  read_json_lines(file, "the data file", [&](const nlohmann::json& j, const std::string& where) {
    for (const char* k : {"image", "question", "answer"})
      if (!j.contains(k) || !j[k].is_string() || j[k].get<std::string>().empty())
        throw Error(ErrorCode::BadArgument, where + ": needs a non-empty string \"" + k + "\"");
    out.push_back({image_path(file, j["image"]).u8string(), j["question"], j["answer"]});
    return true;
  });
  if (out.size() < 2) throw Error(ErrorCode::BadArgument, file.string() + ": needs at least two examples");
  return out;
}

std::string normalise(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const auto a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n.");
  return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

// Words of the texts that the vocabulary only knows as [UNK].
std::vector<std::string> unknown_words(const Tokenizer& tok, const std::vector<Example>& ex) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& e : ex)
    for (const std::string& text : {e.question, e.answer}) {
      std::string word;
      auto flush = [&] {
        if (word.empty()) return;
        const std::string w = tok.lower_case() ? normalise(word) : word;
        word.clear();
        if (seen.count(w)) return;
        const auto pieces = tok.tokenize(w);
        if (std::find(pieces.begin(), pieces.end(), "[UNK]") != pieces.end()) {
          seen.insert(w);
          out.push_back(w);
        }
      };
      for (char c : text) {
        if (std::isspace(static_cast<unsigned char>(c)) || std::ispunct(static_cast<unsigned char>(c))) flush();
        else word += c;
      }
      flush();
    }
  return out;
}

double greedy_accuracy(Model& m, const ModelConfig& cfg, const Tokenizer& tok, const std::vector<Tensor>& pixels,
                       const std::vector<Example>& ex, const std::vector<size_t>& idx) {
  if (idx.empty()) return 0;
  torch::NoGradGuard ng;
  int right = 0;
  for (size_t i : idx) {
    auto out = greedy_ids(m, cfg, pixels[i], tok.encode(ex[i].question).ids, 20);
    right += normalise(answer_text(tok, cfg, out)) == normalise(ex[i].answer);
  }
  return static_cast<double>(right) / static_cast<double>(idx.size());
}

}  // namespace

FinetuneReport finetune(const FinetuneOptions& opt, const Log& log) {
  if (opt.out.empty()) throw Error(ErrorCode::BadArgument, "finetune needs --out DIR");
  if (opt.epochs < 1 || opt.batch < 1 || opt.lr <= 0 || opt.val_split < 0 || opt.val_split >= 1)
    throw Error(ErrorCode::BadArgument, "finetune: epochs and batch must be positive, val-split in [0, 1)");
  configure_compute_threads(opt.threads);
  torch::manual_seed(opt.seed);
  auto base_cfg = load_config(opt.model);
  if (base_cfg.task != ModelTask::Vqa) throw Error(ErrorCode::BadArgument, "finetune works on question-answering models");
  auto tok = Tokenizer::from_folder(opt.model);
  auto ex = read_examples(opt.data);

  // images, decoded and preprocessed once ([1, 3, h, w] each: keep_aspect sizes differ)
  std::vector<Tensor> pixels;
  for (size_t i = 0; i < ex.size(); ++i) {
    Image img;
    try {
      img = decode_image_file(fs::u8path(ex[i].image));
    } catch (const Error& e) {
      throw Error(e.code(), opt.data.string() + ": example " + std::to_string(i + 1) + ": " + e.what());
    }
    pixels.push_back(pixel_batch(img, base_cfg));
  }

  // split (the same on every rank)
  std::vector<size_t> order(ex.size());
  std::iota(order.begin(), order.end(), 0);
  shapes::Rng rng(opt.seed ^ 0xF17E7u);
  for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[static_cast<size_t>(rng.below(static_cast<int>(i)))]);
  size_t nval = static_cast<size_t>(std::ceil(opt.val_split * static_cast<double>(ex.size())));
  if (opt.val_split > 0) nval = std::clamp<size_t>(nval, 1, ex.size() - 1);
  std::vector<size_t> val(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(nval)),
      trn(order.begin() + static_cast<std::ptrdiff_t>(nval), order.end());

  auto dp = DataParallel::from_env(std::chrono::milliseconds(static_cast<int64_t>(opt.dist_timeout_s * 1000)));
  const int world = dp ? dp->world() : 1, rank = dp ? dp->rank() : 0;
  const bool lead = rank == 0;
  if (opt.batch % world != 0)
    throw Error(ErrorCode::BadArgument, "the batch (" + std::to_string(opt.batch) + ") must split evenly over " +
                                            std::to_string(world) + " ranks");
  const int local = opt.batch / world;

  FinetuneReport rep;
  rep.train = static_cast<int>(trn.size());
  rep.val = static_cast<int>(val.size());
  Model base(base_cfg);
  base->load_weights(Checkpoint::open(opt.model / "model.safetensors"));
  base->eval();
  if (lead) rep.val_accuracy_before = greedy_accuracy(base, base_cfg, tok, pixels, ex, val);

  // new words: new rows of every vocabulary-sized tensor, the old rows kept
  rep.new_tokens = unknown_words(tok, ex);
  for (const auto& w : rep.new_tokens) tok.add_token(w);
  auto cfg = base_cfg;
  cfg.text.vocab_size = std::max<int>(cfg.text.vocab_size, static_cast<int>(tok.vocab_size()));
  for (const auto& e : ex) {
    const std::string a = normalise(e.answer);
    if (!cfg.answer_list.empty() && std::find(cfg.answer_list.begin(), cfg.answer_list.end(), a) == cfg.answer_list.end())
      cfg.answer_list.push_back(a);
  }
  cfg.validate();
  Model m(cfg);
  {
    torch::NoGradGuard ng;
    auto old = base->named_parameters(true);
    for (auto& p : m->named_parameters(true)) {
      const Tensor src = old[p.key()];
      auto& dst = p.value();
      if (src.sizes() == dst.sizes()) {
        dst.copy_(src);
      } else {  // vocabulary-sized on dim 0
        const int64_t n = src.size(0);
        dst.slice(0, 0, n).copy_(src);
        dst.slice(0, n).copy_(src.mean(0, true).expand_as(dst.slice(0, n)));
      }
    }
  }
  if (log && lead && !rep.new_tokens.empty()) {
    std::string w;
    for (const auto& t : rep.new_tokens) w += (w.empty() ? "" : ", ") + t;
    log("new words: " + w);
  }
  // freezing
  const int64_t old_vocab = base_cfg.text.vocab_size;
  for (auto& p : m->named_parameters(true)) {
    const std::string& k = p.key();
    const bool vision = k.rfind("vision_model.", 0) == 0;
    const bool text = k.rfind("text_encoder.", 0) == 0 && k.find(".crossattention.") == std::string::npos &&
                      k.find("routing") == std::string::npos && k.find("query_tokens") == std::string::npos;
    if ((opt.freeze_vision && vision) || (opt.freeze_text && text)) p.value().set_requires_grad(false);
  }
  if (opt.freeze_text && !rep.new_tokens.empty()) {
    // the new words still need their rows in the frozen question encoder
    auto& w = m->text_encoder->embeddings->word_embeddings->weight;
    w.set_requires_grad(true);
    w.register_hook([old_vocab](Tensor g) {
      g = g.clone();
      g.slice(0, 0, old_vocab).zero_();
      return g;
    });
  }
  std::vector<Tensor> trainable, decayed, rows_only;
  const Tensor& words = m->text_encoder->embeddings->word_embeddings->weight;
  for (auto& p : m->parameters()) {
    if (!p.requires_grad()) continue;
    trainable.push_back(p);
    // weight decay would move the frozen rows too
    (opt.freeze_text && p.is_same(words) ? rows_only : decayed).push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(decayed, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(opt.lr).weight_decay(0.01)));
  if (!rows_only.empty())
    groups.emplace_back(rows_only, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(opt.lr).weight_decay(0)));
  torch::optim::AdamW optim(groups, torch::optim::AdamWOptions(opt.lr).weight_decay(0.01));
  if (dp) {
    std::vector<Tensor> params;
    torch::NoGradGuard ng;
    for (auto& p : m->parameters()) params.push_back(p.data());
    dp->broadcast(params);
  }

  auto batch_of = [&](const std::vector<size_t>& idx) {
    Batch b;
    std::vector<std::vector<int64_t>> qs, din, dt;
    std::vector<Tensor> px;
    for (size_t i : idx) {
      px.push_back(pixels[i]);
      qs.push_back(tok.encode(ex[i].question).ids);
      auto a = tok.encode(normalise(ex[i].answer), false).ids;
      std::vector<int64_t> in{cfg.bos_id};
      in.insert(in.end(), a.begin(), a.end());
      a.push_back(cfg.eos_id);
      din.push_back(in);
      dt.push_back(a);
      b.type.push_back(0);
    }
    b.pixels = torch::cat(px);
    b.q_ids = pad_rows(qs, cfg.pad_id, &b.q_mask);
    b.dec_in = pad_rows(din, cfg.pad_id, nullptr);
    b.dec_tgt = pad_rows(dt, -100, nullptr);
    return b;
  };

  // One step's answer loss, backpropagated. The images of one input size go through the
  // model together (a keep_aspect model's batch can hold several), each part's loss
  // weighed by its share of the global batch's answer tokens: the gradients are those of
  // the whole batch at once. Returns this rank's share of the loss.
  auto backward_step = [&](const std::vector<size_t>& idx) {
    std::map<std::vector<int64_t>, std::vector<size_t>> by_size;
    for (size_t i : idx) by_size[pixels[i].sizes().vec()].push_back(i);
    std::vector<Batch> parts;
    std::vector<double> part_tokens;
    auto tokens = torch::zeros({1}, torch::kFloat32);
    for (const auto& group : by_size) {
      parts.push_back(batch_of(group.second));
      part_tokens.push_back(static_cast<double>((parts.back().dec_tgt != -100).sum().item<int64_t>()));
      tokens += part_tokens.back();
    }
    if (dp) {
      std::vector<Tensor> t{tokens};
      dp->sum(t);
    }
    const double global = tokens.item<double>();
    double share = 0;
    for (size_t k = 0; k < parts.size(); ++k) {
      auto loss = loss_of(m, parts[k], nullptr);
      const double w = part_tokens[k] / global;
      (loss.total * w).backward();
      share += loss.lm_part * w;
    }
    return share;
  };

  double best = -1;
  int bad = 0;
  std::vector<Tensor> best_state;
  const int steps_per_epoch = std::max<int>(1, static_cast<int>(trn.size()) / opt.batch);
  for (int epoch = 1; epoch <= opt.epochs; ++epoch) {
    m->train();
    std::vector<size_t> perm = trn;
    shapes::Rng er(shapes::mix_seed(opt.seed, static_cast<uint64_t>(epoch)));
    for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[static_cast<size_t>(er.below(static_cast<int>(i)))]);
    double loss_sum = 0;
    for (int st = 0; st < steps_per_epoch; ++st) {
      std::vector<size_t> idx;
      for (int k = 0; k < local; ++k) {
        const size_t pos = static_cast<size_t>(st * opt.batch + rank * local + k);
        idx.push_back(perm[pos % perm.size()]);
      }
      optim.zero_grad();
      loss_sum += backward_step(idx);
      if (dp) {  // DataParallel::sum reduces them in one flat buffer
        std::vector<Tensor> grads;
        for (auto& p : m->parameters())
          if (p.grad().defined()) grads.push_back(p.grad());
        dp->sum(grads);
      }
      torch::nn::utils::clip_grad_norm_(trainable, 1.0);
      optim.step();
    }
    m->eval();
    // the lead rank judges; every rank learns the verdict
    auto verdict = torch::zeros({2}, torch::kFloat64);
    if (lead) verdict[0] = val.empty() ? -loss_sum : greedy_accuracy(m, cfg, tok, pixels, ex, val);
    if (dp) {
      std::vector<Tensor> v{verdict};
      dp->broadcast(v);
    }
    const double acc = verdict[0].item<double>();
    rep.epochs_run = epoch;
    if (acc > best) {
      best = acc;
      rep.best_epoch = epoch;
      bad = 0;
      best_state.clear();
      for (auto& p : m->parameters()) best_state.push_back(p.detach().clone());
    } else {
      ++bad;
    }
    if (log && lead) {
      char buf[200];
      std::snprintf(buf, sizeof buf, "epoch %d  loss %.4f  validation accuracy %.3f%s", epoch,
                    loss_sum / steps_per_epoch * world, acc, bad == 0 ? "  (best)" : "");
      log(buf);
    }
    if (bad >= opt.patience) break;
  }
  {
    torch::NoGradGuard ng;
    auto params = m->parameters();
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
  }
  rep.val_accuracy_after = val.empty() ? 0 : best;
  if (!lead) return rep;
  fs::create_directories(opt.out);
  save_config(cfg, opt.out);
  tok.save_vocab(opt.out / "vocab.txt");
  if (fs::exists(opt.model / "tokenizer_config.json"))
    fs::copy_file(opt.model / "tokenizer_config.json", opt.out / "tokenizer_config.json", fs::copy_options::overwrite_existing);
  m->save_weights(opt.out / "model.safetensors");
  std::ofstream(opt.out / "finetune.json") << rep.to_json() << "\n";
  if (!val.empty()) {
    fit_calibration(opt.out, static_cast<int>(val.size()), [&](int k) {
      const auto& e = ex[val[static_cast<size_t>(k)]];
      const std::string want = normalise(e.answer);
      return CalItem{decode_image_file(fs::u8path(e.image)), e.question,
                     [want](const std::string& a) { return normalise(a) == want; }};
    }, log);
  }
  return rep;
}

double evaluate_examples(const fs::path& model, const fs::path& data) {
  auto ex = read_examples(data);
  auto engine = Engine::load(model, Options{Device::Cpu});
  int right = 0;
  AskOptions o;
  o.beams = 1;
  for (const auto& e : ex) {
    auto r = engine->ask(engine->encode(decode_image_file(fs::u8path(e.image))), e.question, o);
    right += !r.answers.empty() && normalise(r.answers.front().text) == normalise(e.answer);
  }
  return static_cast<double>(right) / static_cast<double>(ex.size());
}

int write_new_color_set(const fs::path& dir, uint64_t seed, int count, const std::string& name,
                        const std::array<uint8_t, 3>& rgb) {
  fs::create_directories(dir / "images");
  std::ofstream out(dir / "data.jsonl");
  if (!out) throw Error(ErrorCode::Io, (dir / "data.jsonl").string() + ": cannot write");
  int painted = 0;
  for (int i = 0; i < count; ++i) {
    auto s = shapes::make_sample_of_type(shapes::mix_seed(seed, static_cast<uint64_t>(i)), "color", shapes::GenOptions{});
    shapes::Rng r(shapes::mix_seed(seed ^ 0xC0105ull, static_cast<uint64_t>(i)));
    std::string answer = s.answer;
    if (r.chance(0.5) && s.referred >= 0) {
      const auto& obj = s.scene.objects[static_cast<size_t>(s.referred)];
      cv::Mat mask;
      cv::dilate(obj.mask, mask, cv::Mat());  // cover the antialiased rim too
      s.scene.rgb.setTo(cv::Scalar(rgb[0], rgb[1], rgb[2]), mask);
      answer = name;
      ++painted;
    }
    char file[32];
    std::snprintf(file, sizeof file, "images/%06d.png", i);
    save_png(image_from_mat(s.scene.rgb), dir / file);
    out << nlohmann::json{{"image", file}, {"question", s.question}, {"answer", answer}}.dump() << "\n";
  }
  return painted;
}

}  // namespace core::train

