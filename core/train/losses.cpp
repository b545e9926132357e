#include "core/train/losses.h"

#include "core/train/shapes.h"

namespace core::train {

namespace {

// Which (image i, text j) pairs are true: text j names exactly image i's objects.
Tensor match_matrix(const Tensor& keys) {
  auto img_sizes = keys.select(1, 0).unsqueeze(1), img_plain = keys.select(1, 1).unsqueeze(1);
  auto txt = keys.select(1, 2).unsqueeze(0), with_sizes = keys.select(1, 3).unsqueeze(0) == 1;
  return torch::where(with_sizes, img_sizes == txt, img_plain == txt).to(torch::kFloat32);
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
    auto part = object_share > 0 ? object_share * mean_over(valid * on_object) +
                                       (1 - object_share) * mean_over(valid * on_background)
                                 : mean_over(valid);
    sum = sum.defined() ? sum + part : part;
    from += n, ++col;
  }
  return sum / static_cast<double>(col);
}

// Row indices of the short (up to 3 target tokens) and the long answers, or all
// rows in one group when every answer is of one kind.
std::vector<Tensor> length_groups(const Tensor& lengths) {
  std::vector<Tensor> groups;
  auto is_long = lengths > 3;
  const int64_t n_long = is_long.sum().item<int64_t>(), rows = lengths.size(0);
  if (n_long == 0 || n_long == rows)
    groups.push_back(torch::arange(rows));
  else
    groups = {torch::nonzero(~is_long).squeeze(1), torch::nonzero(is_long).squeeze(1)};
  return groups;
}

// The engine's all-layers heatmap (mean over fusion layers, heads and the question's
// words; the image's class token dropped, renormalised), against the referred cells.
// Sets out.ground and out.ground_n; returns this rank's loss.
Tensor grounding_loss(const std::vector<Tensor>& cross_attn, const Batch& b, const Aux& aux, Losses& out) {
  Tensor acc;
  for (const auto& a : cross_attn) {
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
  return gl;
}

// The image-text contrastive loss over the global batch, divided by the world
// size under data parallelism.
Tensor contrastive_loss(Model& m, const Tensor& image, const Batch& b, DataParallel* dp) {
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
  auto itc =
      -((i2t * torch::log_softmax(sim, 1)).sum(1).mean() + (t2i * torch::log_softmax(sim.t(), 1)).sum(1).mean()) / 2;
  if (dp) itc = itc / dp->world();  // every rank computes it whole (see gather_with_grad)
  return itc;
}

}  // namespace

std::vector<int64_t> dense_classes() {
  return {static_cast<int64_t>(shapes::color_names().size()) + 1,
          static_cast<int64_t>(shapes::shape_names().size()) + 1, static_cast<int64_t>(shapes::size_names().size()) + 1,
          4, 4};
}

Losses loss_of(Model& m, const Batch& b, DataParallel* dp, const Aux& aux) {
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
  const std::vector<Tensor> groups = length_groups(lengths);
  Tensor ce_total, row_ce = torch::zeros({lengths.size(0)}), row_wrong = torch::zeros({lengths.size(0)});
  for (const auto& rows : groups) {
    const int64_t width = lengths.index_select(0, rows).max().item<int64_t>();
    auto in = b.dec_in.index_select(0, rows).slice(1, 0, width),
         tgt = b.dec_tgt.index_select(0, rows).slice(1, 0, width);
    auto logits = m->text_decoder->forward(in, fused.index_select(0, rows),
                                           additive_mask(m->text_encoder->memory_mask(b.q_mask.index_select(0, rows))),
                                           nullptr, 0);
    auto ce =
        F::cross_entropy(
            logits.reshape({-1, logits.size(-1)}), tgt.reshape({-1}),
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
    auto gl = grounding_loss(rec.cross_attn, b, aux, out);
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
    auto itc = contrastive_loss(m, image, b, dp);
    out.itc = itc.item<double>() * (dp ? dp->world() : 1);
    out.total = out.total + itc;
  }
  return out;
}

}  // namespace core::train
