#include "core/model/blip2/blip2.h"

#include <map>
#include <set>

#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors_torch.h"
#include "core/model/blip2/ops.h"
#include "core/torch_compat.h"

namespace core::blip2 {

Blip2ModelImpl::Blip2ModelImpl(const Blip2Config& c) : cfg(c) {
  vision_model = register_module("vision_model", VisionModel(c.vision));
  query_tokens = register_parameter("query_tokens", torch::zeros({1, c.queries, c.qformer.hidden}));
  qformer = register_module("qformer", QFormer(c.qformer));
  language_projection = register_module("language_projection", ops::linear(c.qformer.hidden, c.lm_hidden()));
  if (c.lm == LmKind::Opt)
    opt = register_module("language_model", Opt(c.opt));
  else
    t5 = register_module("language_model", T5(c.t5));
}

Tensor Blip2ModelImpl::encode_image(const Tensor& pixels, ImageRecord* rec) {
  auto image = vision_model(pixels, rec ? &rec->vision : nullptr);
  auto queries = query_tokens.expand({image.size(0), query_tokens.size(1), query_tokens.size(2)});
  return language_projection(qformer(queries, image, rec ? &rec->qformer : nullptr));
}

Tensor Blip2ModelImpl::embed_tokens(const Tensor& ids) { return opt ? opt->embed(ids) : t5->embed(ids); }

std::pair<Tensor, Tensor> Blip2ModelImpl::lm_inputs(const Tensor& queries, Tensor ids, Tensor mask) {
  const auto dev = queries.device();
  const int64_t b = queries.size(0);
  if (!ids.defined()) ids = torch::full({b, 1}, cfg.bos_id, torch::dtype(torch::kLong).device(dev));
  if (!mask.defined()) mask = torch::ones_like(ids);
  if (ids.size(0) != b) ids = ids.expand({b, ids.size(1)});
  if (mask.size(0) != b) mask = mask.expand({b, mask.size(1)});
  auto embeds = torch::cat({queries, embed_tokens(ids.to(dev)).to(queries.dtype())}, 1);
  auto full_mask = torch::cat({torch::ones({b, queries.size(1)}, mask.options().device(dev)), mask.to(dev)}, 1);
  return {embeds, full_mask.to(torch::kLong)};
}

namespace {

// Names a checkpoint may hold for a tensor of ours: tied or aliased copies.
std::map<std::string, std::string> aliases(const Blip2Config& c) {
  std::map<std::string, std::string> a;  // alias -> our name
  if (c.lm == LmKind::Opt) {
    if (c.opt.tied) a["language_model.lm_head.weight"] = "language_model.model.decoder.embed_tokens.weight";
  } else {
    a["language_model.encoder.embed_tokens.weight"] = "language_model.shared.weight";
    a["language_model.decoder.embed_tokens.weight"] = "language_model.shared.weight";
    if (c.t5.tied) a["language_model.lm_head.weight"] = "language_model.shared.weight";
  }
  return a;
}

[[noreturn]] void bad(const Checkpoint& ck, const std::string& what) {
  throw Error(ErrorCode::BadWeights, ck.label() + ": " + what);
}

void check_stored(const Checkpoint& ck, const std::string& name, const Tensor& param) {
  const auto& info = ck.info(name);
  if (info.shape != param.sizes().vec())
    bad(ck, "tensor '" + name + "' has shape " + c10::str(at::IntArrayRef(info.shape)) + ", expected " +
                c10::str(param.sizes()));
  if (info.dtype != DType::F32 && info.dtype != DType::F16 && info.dtype != DType::BF16 && info.dtype != DType::F64)
    bad(ck, "tensor '" + name + "' has dtype " + dtype_name(info.dtype) + ", expected a floating-point type");
}

}  // namespace

void Blip2ModelImpl::load_weights(const Checkpoint& ck) {
  const auto alias = aliases(cfg);
  std::set<std::string> used;
  torch::NoGradGuard no_grad;
  for (auto& p : named_parameters(true)) {
    std::string name = p.key();
    if (!ck.contains(name))
      for (const auto& [a, ours] : alias)
        if (ours == name && ck.contains(a)) name = a;
    if (!ck.contains(name))
      bad(ck, "missing tensor '" + p.key() + "' (expected shape " + c10::str(p.value().sizes()) + ")");
    check_stored(ck, name, p.value());
    auto src = tensor_view(ck, name);
    if (!torch::isfinite(src).all().item<bool>()) bad(ck, "tensor '" + name + "' contains NaN or infinity");
    p.value().copy_(src);
    used.insert(name);
  }
  const auto params = named_parameters(true);
  for (const auto& name : ck.names()) {
    if (used.count(name)) continue;
    auto a = alias.find(name);
    if (a == alias.end())
      bad(ck, "unexpected tensor '" + name + "' (not part of this BLIP-2 architecture; wrong config.json?)");
    check_stored(ck, name, params[a->second]);  // a tied copy: the reference keeps ours
  }
}

void Blip2ModelImpl::init_random(uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::detail::createCPUGenerator(seed);
  for (auto& p : named_parameters(true)) {
    const std::string& n = p.key();
    const bool norm = n.find("norm") != std::string::npos || n.find("LayerNorm") != std::string::npos ||
                      n.find("layernorm") != std::string::npos;
    if (norm && n.size() > 7 && n.compare(n.size() - 7, 7, ".weight") == 0)
      p.value().fill_(1.0);
    else if (norm || (n.size() > 5 && n.compare(n.size() - 5, 5, ".bias") == 0))
      p.value().zero_();
    else
      p.value().normal_(0.0, 0.02, gen);
  }
}

int64_t Blip2ModelImpl::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : parameters()) n += p.numel();
  return n;
}

Blip2Model load_model(const std::filesystem::path& dir) {
  Blip2Model m(load_config(dir));
  m->load_weights(Checkpoint::from_folder(dir));
  m->eval();
  return m;
}

Blip2Model random_model(const Blip2Config& c, uint64_t seed, torch::ScalarType dtype) {
  Blip2Model m{nullptr};
  {
    compat::DefaultDtypeGuard in_dtype(dtype);  // no float32 copy of a bfloat16 model
    m = Blip2Model(c);
  }
  m->to(dtype);
  m->init_random(seed);
  m->eval();
  return m;
}

Tensor stack_cross_attentions(const Record& qformer) {
  std::vector<Tensor> rows;
  for (const auto& p : qformer.cross_attn) rows.push_back(p[0]);
  return rows.empty() ? Tensor() : torch::stack(rows);
}

}  // namespace core::blip2
