#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <set>

#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/train/batch.h"
#include "core/train/calibration.h"
#include "core/train/distributed.h"
#include "core/train/greedy.h"
#include "core/train/jsonl.h"
#include "core/train/losses.h"
#include "core/train/shapes.h"
#include "core/train/trainer.h"
#include "core/vision/image.h"

namespace core::train {

namespace fs = std::filesystem;

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
        if (std::isspace(static_cast<unsigned char>(c)) || std::ispunct(static_cast<unsigned char>(c)))
          flush();
        else
          word += c;
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

// Images decoded and preprocessed once ([1, 3, h, w] each: keep_aspect sizes differ).
std::vector<Tensor> load_pixels(const FinetuneOptions& opt, const std::vector<Example>& ex, const ModelConfig& cfg) {
  std::vector<Tensor> pixels;
  for (size_t i = 0; i < ex.size(); ++i) {
    Image img;
    try {
      img = decode_image_file(fs::u8path(ex[i].image));
    } catch (const Error& e) {
      throw Error(e.code(), opt.data.string() + ": example " + std::to_string(i + 1) + ": " + e.what());
    }
    pixels.push_back(pixel_batch(img, cfg));
  }
  return pixels;
}

// Training and validation indices, the same on every rank.
std::pair<std::vector<size_t>, std::vector<size_t>> split_examples(const FinetuneOptions& opt, size_t n) {
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  shapes::Rng rng(opt.seed ^ 0xF17E7u);
  for (size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1], order[static_cast<size_t>(rng.below(static_cast<int>(i)))]);
  size_t nval = static_cast<size_t>(std::ceil(opt.val_split * static_cast<double>(n)));
  if (opt.val_split > 0) nval = std::clamp<size_t>(nval, 1, n - 1);
  return {std::vector<size_t>(order.begin() + static_cast<std::ptrdiff_t>(nval), order.end()),
          std::vector<size_t>(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(nval))};
}

// The base model's configuration with the new words and answers.
ModelConfig grown_config(const ModelConfig& base_cfg, const Tokenizer& tok, const std::vector<Example>& ex) {
  auto cfg = base_cfg;
  cfg.text.vocab_size = std::max<int>(cfg.text.vocab_size, static_cast<int>(tok.vocab_size()));
  for (const auto& e : ex) {
    const std::string a = normalise(e.answer);
    if (!cfg.answer_list.empty() &&
        std::find(cfg.answer_list.begin(), cfg.answer_list.end(), a) == cfg.answer_list.end())
      cfg.answer_list.push_back(a);
  }
  cfg.validate();
  return cfg;
}

// New words: new rows of every vocabulary-sized tensor, the mean of the old rows; the old rows kept.
void copy_grown(Model& base, Model& m) {
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

void freeze(Model& m, const FinetuneOptions& opt, int64_t old_vocab, bool new_words) {
  for (auto& p : m->named_parameters(true)) {
    const std::string& k = p.key();
    const bool vision = k.rfind("vision_model.", 0) == 0;
    const bool text = k.rfind("text_encoder.", 0) == 0 && k.find(".crossattention.") == std::string::npos &&
                      k.find("routing") == std::string::npos && k.find("query_tokens") == std::string::npos;
    if ((opt.freeze_vision && vision) || (opt.freeze_text && text)) p.value().set_requires_grad(false);
  }
  if (opt.freeze_text && new_words) {
    // the new words still need their rows in the frozen question encoder
    auto& w = m->text_encoder->embeddings->word_embeddings->weight;
    w.set_requires_grad(true);
    w.register_hook([old_vocab](Tensor g) {
      g = g.clone();
      g.slice(0, 0, old_vocab).zero_();
      return g;
    });
  }
}

// AdamW over the trainable parameters (listed in `trainable`); no weight decay on the
// word embeddings of a frozen question encoder, which would move the frozen rows too.
std::unique_ptr<torch::optim::AdamW> optimiser(Model& m, const FinetuneOptions& opt, std::vector<Tensor>& trainable) {
  std::vector<Tensor> decayed, rows_only;
  const Tensor& words = m->text_encoder->embeddings->word_embeddings->weight;
  for (auto& p : m->parameters()) {
    if (!p.requires_grad()) continue;
    trainable.push_back(p);
    (opt.freeze_text && p.is_same(words) ? rows_only : decayed).push_back(p);
  }
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(
      decayed, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(opt.lr).weight_decay(0.01)));
  if (!rows_only.empty())
    groups.emplace_back(
        rows_only, std::make_unique<torch::optim::AdamWOptions>(torch::optim::AdamWOptions(opt.lr).weight_decay(0)));
  return std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(opt.lr).weight_decay(0.01));
}

// The epochs, with early stopping on the validation accuracy.
class Epochs {
 public:
  Epochs(const FinetuneOptions& opt, const Log& log, const ModelConfig& cfg, const Tokenizer& tok, Model& m,
         const std::vector<Example>& ex, const std::vector<Tensor>& pixels, DataParallel* dp)
      : opt_(opt), log_(log), cfg_(cfg), tok_(tok), m_(m), ex_(ex), pixels_(pixels), dp_(dp) {
    world_ = dp ? dp->world() : 1;
    rank_ = dp ? dp->rank() : 0;
    local_ = opt.batch / world_;
  }
  bool lead() const { return rank_ == 0; }

  // Trains until patience or the epochs run out and leaves the best epoch's weights in the model.
  void run(const std::vector<size_t>& trn, const std::vector<size_t>& val, torch::optim::AdamW& optim,
           const std::vector<Tensor>& trainable, FinetuneReport& rep) {
    double best = -1;
    int bad = 0;
    std::vector<Tensor> best_state;
    const int steps_per_epoch = std::max<int>(1, static_cast<int>(trn.size()) / opt_.batch);
    for (int epoch = 1; epoch <= opt_.epochs; ++epoch) {
      m_->train();
      const double loss_sum = train_epoch(epoch, trn, steps_per_epoch, optim, trainable);
      m_->eval();
      const double acc = verdict(val, loss_sum);
      rep.epochs_run = epoch;
      if (acc > best) {
        best = acc;
        rep.best_epoch = epoch;
        bad = 0;
        best_state.clear();
        for (auto& p : m_->parameters()) best_state.push_back(p.detach().clone());
      } else {
        ++bad;
      }
      if (log_ && lead()) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "epoch %d  loss %.4f  validation accuracy %.3f%s", epoch,
                      loss_sum / steps_per_epoch * world_, acc, bad == 0 ? "  (best)" : "");
        log_(buf);
      }
      if (bad >= opt_.patience) break;
    }
    {
      torch::NoGradGuard ng;
      auto params = m_->parameters();
      for (size_t i = 0; i < params.size(); ++i) params[i].copy_(best_state[i]);
    }
    rep.val_accuracy_after = val.empty() ? 0 : best;
  }

 private:
  double train_epoch(int epoch, const std::vector<size_t>& trn, int steps, torch::optim::AdamW& optim,
                     const std::vector<Tensor>& trainable) {
    std::vector<size_t> perm = trn;
    shapes::Rng er(shapes::mix_seed(opt_.seed, static_cast<uint64_t>(epoch)));
    for (size_t i = perm.size(); i > 1; --i)
      std::swap(perm[i - 1], perm[static_cast<size_t>(er.below(static_cast<int>(i)))]);
    double loss_sum = 0;
    for (int st = 0; st < steps; ++st) {
      std::vector<size_t> idx;
      for (int k = 0; k < local_; ++k) {
        const size_t pos = static_cast<size_t>(st * opt_.batch + rank_ * local_ + k);
        idx.push_back(perm[pos % perm.size()]);
      }
      optim.zero_grad();
      loss_sum += backward_step(idx);
      if (dp_) {  // DataParallel::sum reduces them in one flat buffer
        std::vector<Tensor> grads;
        for (auto& p : m_->parameters())
          if (p.grad().defined()) grads.push_back(p.grad());
        dp_->sum(grads);
      }
      torch::nn::utils::clip_grad_norm_(trainable, 1.0);
      optim.step();
    }
    return loss_sum;
  }

  // The lead rank judges; every rank learns the verdict.
  double verdict(const std::vector<size_t>& val, double loss_sum) {
    auto v = torch::zeros({2}, torch::kFloat64);
    if (lead()) v[0] = val.empty() ? -loss_sum : greedy_accuracy(m_, cfg_, tok_, pixels_, ex_, val);
    if (dp_) {
      std::vector<Tensor> t{v};
      dp_->broadcast(t);
    }
    return v[0].item<double>();
  }

  Batch batch_of(const std::vector<size_t>& idx) const {
    Batch b;
    std::vector<std::vector<int64_t>> qs, din, dt;
    std::vector<Tensor> px;
    for (size_t i : idx) {
      px.push_back(pixels_[i]);
      qs.push_back(tok_.encode(ex_[i].question).ids);
      auto a = tok_.encode(normalise(ex_[i].answer), false).ids;
      std::vector<int64_t> in{cfg_.bos_id};
      in.insert(in.end(), a.begin(), a.end());
      a.push_back(cfg_.eos_id);
      din.push_back(in);
      dt.push_back(a);
      b.type.push_back(0);
    }
    b.pixels = torch::cat(px);
    b.q_ids = pad_rows(qs, cfg_.pad_id, &b.q_mask);
    b.dec_in = pad_rows(din, cfg_.pad_id, nullptr);
    b.dec_tgt = pad_rows(dt, -100, nullptr);
    return b;
  }

  // One step's answer loss, backpropagated. The images of one input size go through the
  // model together (a keep_aspect model's batch can hold several), each part's loss
  // weighed by its share of the global batch's answer tokens: the gradients are those of
  // the whole batch at once. Returns this rank's share of the loss.
  double backward_step(const std::vector<size_t>& idx) {
    std::map<std::vector<int64_t>, std::vector<size_t>> by_size;
    for (size_t i : idx) by_size[pixels_[i].sizes().vec()].push_back(i);
    std::vector<Batch> parts;
    std::vector<double> part_tokens;
    auto tokens = torch::zeros({1}, torch::kFloat32);
    for (const auto& group : by_size) {
      parts.push_back(batch_of(group.second));
      part_tokens.push_back(static_cast<double>((parts.back().dec_tgt != -100).sum().item<int64_t>()));
      tokens += part_tokens.back();
    }
    if (dp_) {
      std::vector<Tensor> t{tokens};
      dp_->sum(t);
    }
    const double global = tokens.item<double>();
    double share = 0;
    for (size_t k = 0; k < parts.size(); ++k) {
      auto loss = loss_of(m_, parts[k], nullptr);
      const double w = part_tokens[k] / global;
      (loss.total * w).backward();
      share += loss.lm_part * w;
    }
    return share;
  }

  const FinetuneOptions& opt_;
  const Log& log_;
  const ModelConfig& cfg_;
  const Tokenizer& tok_;
  Model& m_;
  const std::vector<Example>& ex_;
  const std::vector<Tensor>& pixels_;
  DataParallel* dp_;
  int world_ = 1, rank_ = 0, local_ = 1;
};

void write_finetuned(const FinetuneOptions& opt, const Log& log, const ModelConfig& cfg, const Tokenizer& tok, Model& m,
                     const FinetuneReport& rep, const std::vector<Example>& ex, const std::vector<size_t>& val) {
  fs::create_directories(opt.out);
  save_config(cfg, opt.out);
  tok.save_vocab(opt.out / "vocab.txt");
  if (fs::exists(opt.model / "tokenizer_config.json"))
    fs::copy_file(opt.model / "tokenizer_config.json", opt.out / "tokenizer_config.json",
                  fs::copy_options::overwrite_existing);
  m->save_weights(opt.out / "model.safetensors");
  std::ofstream(opt.out / "finetune.json") << rep.to_json() << "\n";
  if (!val.empty()) {
    fit_calibration(
        opt.out, static_cast<int>(val.size()),
        [&](int k) {
          const auto& e = ex[val[static_cast<size_t>(k)]];
          const std::string want = normalise(e.answer);
          return CalItem{decode_image_file(fs::u8path(e.image)), e.question,
                         [want](const std::string& a) { return normalise(a) == want; }};
        },
        log);
  }
}

}  // namespace

FinetuneReport finetune(const FinetuneOptions& opt, const Log& log) {
  if (opt.out.empty()) throw Error(ErrorCode::BadArgument, "finetune needs --out DIR");
  if (opt.epochs < 1 || opt.batch < 1 || opt.lr <= 0 || opt.val_split < 0 || opt.val_split >= 1)
    throw Error(ErrorCode::BadArgument, "finetune: epochs and batch must be positive, val-split in [0, 1)");
  configure_compute_threads(opt.threads);
  torch::manual_seed(opt.seed);
  auto base_cfg = load_config(opt.model);
  if (base_cfg.task != ModelTask::Vqa)
    throw Error(ErrorCode::BadArgument, "finetune works on question-answering models");
  auto tok = Tokenizer::from_folder(opt.model);
  auto ex = read_examples(opt.data);
  const auto pixels = load_pixels(opt, ex, base_cfg);
  const auto [trn, val] = split_examples(opt, ex.size());
  auto dp = DataParallel::from_env(std::chrono::milliseconds(static_cast<int64_t>(opt.dist_timeout_s * 1000)));
  const int world = dp ? dp->world() : 1;
  const bool lead = !dp || dp->rank() == 0;
  if (opt.batch % world != 0)
    throw Error(ErrorCode::BadArgument, "the batch (" + std::to_string(opt.batch) + ") must split evenly over " +
                                            std::to_string(world) + " ranks");

  FinetuneReport rep;
  rep.train = static_cast<int>(trn.size());
  rep.val = static_cast<int>(val.size());
  Model base(base_cfg);
  base->load_weights(Checkpoint::open(opt.model / "model.safetensors"));
  base->eval();
  if (lead) rep.val_accuracy_before = greedy_accuracy(base, base_cfg, tok, pixels, ex, val);

  rep.new_tokens = unknown_words(tok, ex);
  for (const auto& w : rep.new_tokens) tok.add_token(w);
  const auto cfg = grown_config(base_cfg, tok, ex);
  Model m(cfg);
  copy_grown(base, m);
  if (log && lead && !rep.new_tokens.empty()) {
    std::string w;
    for (const auto& t : rep.new_tokens) w += (w.empty() ? "" : ", ") + t;
    log("new words: " + w);
  }
  freeze(m, opt, base_cfg.text.vocab_size, !rep.new_tokens.empty());
  std::vector<Tensor> trainable;
  auto optim = optimiser(m, opt, trainable);
  if (dp) {
    std::vector<Tensor> params;
    torch::NoGradGuard ng;
    for (auto& p : m->parameters()) params.push_back(p.data());
    dp->broadcast(params);
  }
  Epochs(opt, log, cfg, tok, m, ex, pixels, dp.get()).run(trn, val, *optim, trainable, rep);
  if (!lead) return rep;
  write_finetuned(opt, log, cfg, tok, m, rep, ex, val);
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
    auto s =
        shapes::make_sample_of_type(shapes::mix_seed(seed, static_cast<uint64_t>(i)), "color", shapes::GenOptions{});
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
