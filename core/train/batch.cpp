#include "core/train/batch.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "core/vision/image.h"

namespace core::train {

namespace {

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

int64_t key_hash(const std::vector<std::string>& k) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a over the joined descriptions
  for (const auto& s : k) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xFF) * 1099511628211ull;
  }
  return static_cast<int64_t>(h >> 1);
}

// Batch::keys of each image's scene and alignment text.
Tensor alignment_keys(const std::vector<shapes::Scene>& scenes, const std::vector<AlignText>& texts) {
  const auto images = static_cast<int64_t>(scenes.size());
  auto keys = torch::zeros({images, 4}, torch::kLong);
  for (int64_t i = 0; i < images; ++i) {
    const auto& sc = scenes[static_cast<size_t>(i)];
    const auto& t = texts[static_cast<size_t>(i)];
    keys[i][0] = key_hash(scene_key(sc, true));
    keys[i][1] = key_hash(scene_key(sc, false));
    keys[i][2] = key_hash(t.key);
    keys[i][3] = t.sizes ? 1 : 0;
  }
  return keys;
}

}  // namespace

// Training scenes vary in size (the preprocessing resizes), but stay small to render fast.
shapes::GenOptions train_gen(int max_side) {
  shapes::GenOptions g;
  g.vary_size = true;
  g.min_side = 64;
  g.max_side = max_side;
  return g;
}

std::vector<std::string> scene_key(const shapes::Scene& sc, bool sizes) {
  std::vector<std::string> k;
  for (const auto& o : sc.objects)
    k.push_back(sizes ? o.size + " " + o.color + " " + o.shape : o.color + " " + o.shape);
  std::sort(k.begin(), k.end());
  return k;
}

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
    if (!parts.object_odds.empty())
      image_gen.object_odds = parts.object_odds.at(static_cast<size_t>(type_index(group[0])));
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
        const auto target = shapes::grounding_target(s, covers,
                                                     s.type == "relation"  ? parts.relation_share
                                                     : s.type == "compare" ? parts.compare_share
                                                                           : 0);
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
    b.keys = alignment_keys(scenes, texts);
  }
  return b;
}

}  // namespace core::train
