#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

#include "core/engine/engine.h"
#include "core/io/config.h"
#include "core/train/batch.h"
#include "core/train/shapes.h"
#include "core/train/trainer.h"
#include "core/vision/image.h"

namespace core::train {

namespace fs = std::filesystem;

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
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
      return s[static_cast<size_t>(a)].similarity > s[static_cast<size_t>(b)].similarity;
    });
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
  for (int i = 0; i < 100; ++i)
    i2t += hit_rank(img[static_cast<size_t>(i)], txt, 100, keys[static_cast<size_t>(i)]) < 1;
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
    const auto best = std::max_element(s.begin(), s.end(),
                                       [](const Match& a, const Match& b) { return a.similarity < b.similarity; }) -
                      s.begin();
    right += labels[static_cast<size_t>(best)] == "a " + sc.objects[0].color + " " + sc.objects[0].shape;
    ++count;
  }
  rep.zero_shot_count = count;
  rep.zero_shot_single = count ? static_cast<double>(right) / count : 0;
  if (log) log(rep.to_json());
  return rep;
}

}  // namespace core::train
