#include "core/train/checkpoint.h"

#include <fstream>
#include <optional>

#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors.h"
#include "core/io/safetensors_torch.h"

namespace core::train {

namespace fs = std::filesystem;

Named named_for_checkpoint(Model& m, const Heads& heads) {
  Named out;
  for (const auto& p : m->named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& [head, lin] : heads)
    if (!lin.is_empty())
      for (const auto& p : lin->named_parameters(true)) out.emplace_back("head." + head + "." + p.key(), p.value());
  return out;
}

void save_checkpoint(const fs::path& dir, Model& m, const Heads& extra, FlatAdamW& optim, const ModelConfig& cfg,
                     const Tokenizer& tok, const nlohmann::json& state) {
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

}  // namespace core::train
