#pragma once
// What every family's forward passes share: the record of attentions and gates
// kept for inspection, and a decoder layer's key/value cache.
#include <torch/torch.h>

#include <vector>

namespace core {

// What a forward pass records, in the same pass (batch dimension kept).
struct Record {
  bool enabled = false;
  bool hidden_states = false;             // keep every layer output (golden tests)
  std::vector<torch::Tensor> self_attn;   // per layer [B, H, T, T]
  std::vector<torch::Tensor> cross_attn;  // per fusion layer [B, H, T, N]
  std::vector<torch::Tensor> gates;       // per fusion layer [B, T]
  std::vector<torch::Tensor> hidden;      // embeddings, then each layer output [B, T, D]
  torch::Tensor routing;                  // [B, L]
  void clear() {
    self_attn.clear();
    cross_attn.clear();
    gates.clear();
    hidden.clear();
    routing = torch::Tensor();
  }
};

struct LayerCache {                // decoder key/value cache of one layer
  torch::Tensor self_k, self_v;    // [B,H,T,dh], grows each step
  torch::Tensor cross_k, cross_v;  // [B,H,M,dh], computed once
};

}  // namespace core
