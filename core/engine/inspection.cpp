// Engine::Impl: the inspection of an answer (attention, gates) and the heatmaps made from it.
#include "core/engine/impl.h"

namespace core {

auto Engine::Impl::fill_inspection(Result* r, const Record& rec, const Entry& image,
                                   const std::vector<std::string>& tokens, bool answer_rows) -> void {
  auto& in = r->inspection;
  in.question_tokens = tokens;
  in.special = special_rows(tokens);
  in.tokens_are_answer = answer_rows;
  in.grid_h = image.grid_h;
  in.grid_w = image.grid_w;
  in.has_class_token = true;
  in.learned_gates = cfg.gates && !answer_rows;
  for (int i = 0; i < (answer_rows ? cfg.text.decoder_layers : cfg.text.layers); ++i)
    if (answer_rows || cfg.fusion_index(i) >= 0) in.fusion_layers.push_back(i);
  // The question's rows only: a model's learned query tokens follow them in the record.
  const int64_t T = static_cast<int64_t>(tokens.size());
  std::vector<Tensor> cross, gates, self;
  for (const auto& t : rec.cross_attn) cross.push_back(t[0].slice(1, 0, T).to(torch::kFloat32));
  for (const auto& t : rec.gates) gates.push_back(t[0].slice(0, 0, T).to(torch::kFloat32));
  for (const auto& t : rec.self_attn) self.push_back(t[0].to(torch::kFloat32).mean(0).slice(0, 0, T).slice(1, 0, T));
  in.cross_attention = to_array(torch::stack(cross));
  in.gates = to_array(torch::stack(gates));
  in.self_attention = to_array(torch::stack(self));
  const int64_t L = static_cast<int64_t>(cross.size());
  if (rec.routing.defined()) {
    in.routing = to_array(rec.routing[0]);
  } else {
    auto onehot = torch::zeros({L});
    onehot[L - 1] = 1.f;
    in.routing = to_array(onehot);
  }
}

auto Engine::Impl::token_relevance(const Inspection& in, const HeatmapRequest& req) const -> Tensor {
  auto cross = from_array(in.cross_attention);  // [L,H,T,N]
  const int64_t L = cross.size(0);
  auto heads = [&](const Tensor& a) {  // [H,T,N] -> [T,N]
    if (req.head >= 0) {
      if (req.head >= a.size(0))
        throw Error(ErrorCode::BadArgument, "head " + std::to_string(req.head) + " does not exist");
      return a[req.head];
    }
    return a.mean(0);
  };
  switch (req.method) {
    case HeatmapMethod::LayerAttention: {
      const int l = req.layer < 0 ? static_cast<int>(L) - 1 : req.layer;
      if (l >= L) throw Error(ErrorCode::BadArgument, "fusion layer " + std::to_string(l) + " does not exist");
      return heads(cross[l]);
    }
    case HeatmapMethod::AllLayers: {
      Tensor acc;
      for (int64_t l = 0; l < L; ++l) acc = acc.defined() ? acc + heads(cross[l]) : heads(cross[l]);
      return acc / static_cast<double>(L);
    }
    case HeatmapMethod::Rollout: {
      if (in.self_attention.data.empty())
        throw Error(ErrorCode::BadArgument, "this model records no text self-attention, so it has no rollout heatmap");
      // Image relevance of each text token, carried through the text
      // self-attention (with the residual as 0.5 I) and added at each fusion layer.
      auto self = from_array(in.self_attention);  // [Lt,T,T]
      const int64_t T = cross.size(2), N = cross.size(3);
      auto eye = torch::eye(T);
      auto rel = torch::zeros({T, N});
      int64_t fused = 0;
      for (int64_t l = 0; l < self.size(0); ++l) {
        auto a = 0.5 * self[l] + 0.5 * eye;
        a = a / a.sum(-1, true);
        rel = torch::matmul(a, rel);
        const bool is_fusion =
            std::find(in.fusion_layers.begin(), in.fusion_layers.end(), static_cast<int>(l)) != in.fusion_layers.end();
        if (is_fusion && fused < L) rel = rel + heads(cross[fused++]);
      }
      return rel;
    }
    case HeatmapMethod::GradWeighted:
      break;
  }
  throw Error(ErrorCode::Internal, "unreachable");
}

auto Engine::Impl::reduce_to_grid(const Tensor& rel_tn, const Inspection& in, int token) const -> Array {
  const int64_t T = rel_tn.size(0);
  Tensor row;
  if (token >= 0) {
    if (token >= T) throw Error(ErrorCode::BadArgument, "token " + std::to_string(token) + " does not exist");
    row = rel_tn[token];
  } else {
    std::vector<int64_t> keep;
    for (int64_t t = 0; t < T; ++t) {
      const auto& s =
          t < static_cast<int64_t>(in.question_tokens.size()) ? in.question_tokens[static_cast<size_t>(t)] : "";
      if (s != "[CLS]" && s != "[SEP]" && s != "[PAD]") keep.push_back(t);
    }
    if (keep.empty())
      row = rel_tn.mean(0);
    else
      row = rel_tn.index_select(0, torch::tensor(keep, torch::kLong)).mean(0);
  }
  if (in.has_class_token) row = row.slice(0, 1);
  row = row.clamp_min(0);
  const double sum = row.sum().item<double>();
  row = sum > 0 ? row / sum : torch::full_like(row, 1.0 / static_cast<double>(row.numel()));
  auto a = to_array(row.reshape({in.grid_h, in.grid_w}));
  return a;
}

auto Engine::Impl::heatmap_entropy(const Array& a) const -> double {
  double h = 0;
  for (float v : a.data)
    if (v > 0) h -= v * std::log(v);
  return a.data.size() > 1 ? h / std::log(static_cast<double>(a.data.size())) : 0.0;
}

}  // namespace core
