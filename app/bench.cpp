// `autoglm bench`: per-stage latency of a model folder on this machine.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <cmath>
#include <optional>
#include <random>

#include "app/cli.h"
#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/model/factory.h"
#include "core/bench/flops.h"
#include "core/io/config.h"
#include "core/model/blip2/benchmark.h"
#include "core/vision/image.h"

#include <atomic>
#include <thread>

#ifndef _WIN32
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#endif
#ifdef __linux__
#include <sys/prctl.h>
#endif

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

double peak_rss_mib() {
#ifndef _WIN32
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
#else
  return 0;
#endif
}

struct Stat {
  std::vector<double> v;
  double median() const { return pct(0.5); }
  double p95() const { return pct(0.95); }
  double pct(double q) const {
    if (v.empty()) return 0;
    auto s = v;
    std::sort(s.begin(), s.end());
    return s[std::min(s.size() - 1, static_cast<size_t>(q * static_cast<double>(s.size() - 1) + 0.5))];
  }
  json to_json() const {
    return {{"median_ms", std::round(median() * 1000) / 1000}, {"p95_ms", std::round(p95() * 1000) / 1000}};
  }
};

core::Image synthetic_image(int w, int h) {
  core::Image img;
  img.width = w;
  img.height = h;
  img.rgb.resize(static_cast<size_t>(w) * h * 3);
  std::mt19937 rng(7);
  for (auto& b : img.rgb) b = static_cast<uint8_t>(rng());
  return img;
}

// A random-weight model of blip2-opt-2.7b's size, stage by stage, against the
// floors measured in the same run: the matrix-product rate for the image stages
// and the prompt, the memory read bandwidth for each further token.
int bench_blip2(const cli::Args& a) {
  const int runs = cli::to_int(a, "--runs", 3, 1, 100);
  const std::string dtype = a.get("--dtype", "auto") == "auto" ? "bfloat16" : a.get("--dtype");
  std::cerr << "building a random-weight blip2-opt-2.7b-sized model in " << dtype << " ...\n";
  const double rss_before = peak_rss_mib();
  const auto r = core::blip2::run_benchmark(dtype, runs, 16);
  Stat vision{r.vision_ms}, qformer{r.qformer_ms}, first{r.first_ms}, step{r.step_ms};
  const double mm = r.matmul_gflops * 1e9 / 1000.0;  // FLOP per ms
  const double step_floor = r.step_bytes / (r.read_gbs * 1e9) * 1000.0;
  auto ratio = [](double t, double floor) { return std::round(t / std::max(1e-12, floor) * 100) / 100; };
  json j = {{"model", "random blip2-opt-2.7b"},
            {"dtype", r.dtype},
            {"parameters", r.parameters},
            {"language_model_parameters", r.lm_parameters},
            {"build_ms", std::round(r.build_ms)},
            {"stages",
             {{"vision", vision.to_json()},
              {"qformer", qformer.to_json()},
              {"first_token", first.to_json()},
              {"next_token", step.to_json()}}},
            {"prompt_tokens", r.prompt_tokens},
            {"peak_rss_mib", std::round(peak_rss_mib())},
            {"rss_before_mib", std::round(rss_before)},
            {"floors",
             {{"matmul_gflops", std::round(r.matmul_gflops * 100) / 100},
              {"read_gb_per_s", std::round(r.read_gbs * 100) / 100},
              {"next_token_bytes", r.step_bytes},
              {"time_over_floor",
               {{"vision", ratio(vision.median(), r.vision_gflop * 1e9 / mm)},
                {"qformer", ratio(qformer.median(), r.qformer_gflop * 1e9 / mm)},
                {"first_token", ratio(first.median(), r.first_gflop * 1e9 / mm)},
                {"next_token", ratio(step.median(), step_floor)}}}}},
            {"blas", core::blas_description()}};
  if (a.has("--json")) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::printf("random blip2-opt-2.7b (%lld parameters, %lld in OPT) in %s\n", static_cast<long long>(r.parameters),
              static_cast<long long>(r.lm_parameters), r.dtype.c_str());
  std::printf("  build + random weights %8.0f ms\n", r.build_ms);
  auto row = [](const char* name, const Stat& s, double floor_ms) {
    std::printf("  %-22s %8.1f ms median  %8.1f ms p95   floor %8.1f ms  (%.2fx)\n", name, s.median(), s.p95(),
                floor_ms, s.median() / std::max(1e-12, floor_ms));
  };
  row("vision (224 px)", vision, r.vision_gflop * 1e9 / mm);
  row("Q-Former + projection", qformer, r.qformer_gflop * 1e9 / mm);
  row("first token", first, r.first_gflop * 1e9 / mm);
  row("each further token", step, step_floor);
  std::printf("  peak RSS               %8.0f MiB\n", peak_rss_mib());
  std::printf("  floors: %.1f GFLOP/s matrix products in %s, %.1f GB/s memory reads (%.2f GB a token)\n",
              r.matmul_gflops, r.dtype.c_str(), r.read_gbs, r.step_bytes / 1e9);
  return 0;
}

// A random-weight model of blip-itm-base-coco's size through the engine: one
// image, one text, one matching score, and a search over 1,000 cached image
// vectors with the best 16 re-ranked, each against its floor.
int bench_blip_itm(const cli::Args& a) {
  const int runs = cli::to_int(a, "--runs", 5, 1, 1000);
  const fs::path dir = fs::temp_directory_path() / ("autoglm-bench-itm-" + std::to_string(std::random_device{}()));
  std::cerr << "creating a random-weight blip-itm-base-coco-sized model in " << dir.u8string() << " ...\n";
  core::write_random_blip_itm_base(dir);
  auto engine = core::Engine::load(dir, cli::engine_options(a));
  const auto& info = engine->info();
  const auto cfg = core::load_config(dir);
  const std::string text = "a man riding a red bicycle down a city street";
  using Clock = std::chrono::steady_clock;
  auto ms = [](Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); };
  Stat image, text_s, match, rank, rerank;
  std::vector<core::ImageId> ids;
  for (int i = 0; i < runs; ++i) {
    auto img = synthetic_image(640 + i, 480);
    auto t0 = Clock::now();
    ids.push_back(engine->encode(img));
    engine->embed_image(ids.back());
    image.v.push_back(ms(t0));
    t0 = Clock::now();
    const auto tv = engine->embed_text(text + " " + std::to_string(i));
    text_s.v.push_back(ms(t0));
    t0 = Clock::now();
    engine->match_probabilities(text, {ids.back()});
    match.v.push_back(ms(t0));
  }
  // 1,000 cached image vectors (unit, random): ranking them, then the matching
  // head over the best 16, whose vision features are in the engine's cache.
  std::mt19937 rng(3);
  std::normal_distribution<float> n01;
  std::vector<std::vector<float>> vectors(1000, std::vector<float>(size_t(info.align_dim)));
  for (auto& v : vectors) {
    double norm = 0;
    for (auto& x : v) norm += double(x = n01(rng)) * x;
    for (auto& x : v) x = float(x / std::sqrt(norm));
  }
  std::vector<core::ImageId> best;
  for (int i = 0; i < 16; ++i) best.push_back(ids[size_t(i) % ids.size()]);
  for (int i = 0; i < runs; ++i) {
    const auto tv = engine->embed_text(text);
    auto t0 = Clock::now();
    engine->rank(tv, vectors);
    rank.v.push_back(ms(t0));
    t0 = Clock::now();
    engine->match_probabilities(text, best);
    rerank.v.push_back(ms(t0));
  }
  // Operations (2 per multiply-add) of the large products, attention included.
  const double Tv = cfg.vision.tokens(), Dv = cfg.vision.hidden, Iv = cfg.vision.intermediate, Lv = cfg.vision.layers;
  const double Tt = 12, Dt = cfg.text.hidden, It = cfg.text.intermediate, Lt = cfg.text.layers;
  const double vision_ops = Lv * (2 * Tv * (4 * Dv * Dv + 2 * Dv * Iv) + 4 * Tv * Tv * Dv);
  const double text_ops = Lt * (2 * Tt * (4 * Dt * Dt + 2 * Dt * It) + 4 * Tt * Tt * Dt);
  const double match_ops = text_ops + Lt * (2 * Tt * 2 * Dt * Dt + 2 * Tv * 2 * Dv * Dt + 4 * Tt * Tv * Dt);
  const double rate =
      core::measure_matmul_rate(cfg.vision.tokens(), cfg.vision.hidden, cfg.vision.intermediate, info.vision_threads);
  auto floor_ms = [&](double ops) { return ops / rate * 1000.0; };
  auto ratio = [](double t, double f) { return std::round(t / std::max(1e-12, f) * 100) / 100; };
  json j = {{"model", "random blip-itm-base-coco"},
            {"parameters", info.parameters},
            {"threads", info.threads},
            {"runs", runs},
            {"load_ms", std::round(info.load_ms)},
            {"stages",
             {{"image", image.to_json()},
              {"text", text_s.to_json()},
              {"match", match.to_json()},
              {"rank_1000", rank.to_json()},
              {"rerank_16", rerank.to_json()}}},
            {"floors",
             {{"matmul_gflops", std::round(rate / 1e7) / 100},
              {"time_over_floor",
               {{"image", ratio(image.median(), floor_ms(vision_ops))},
                {"text", ratio(text_s.median(), floor_ms(text_ops))},
                {"match", ratio(match.median(), floor_ms(match_ops))},
                {"rerank_16", ratio(rerank.median(), 16 * floor_ms(match_ops))}}}}},
            {"peak_rss_mib", std::round(peak_rss_mib())}};
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (a.has("--json")) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::printf("random blip-itm-base-coco (%lld parameters) on %s, %d threads, loaded in %.0f ms\n",
              static_cast<long long>(info.parameters), info.device.c_str(), info.threads, info.load_ms);
  auto row = [](const char* name, const Stat& s, double floor) {
    std::printf("  %-30s %9.2f ms median  %9.2f ms p95", name, s.median(), s.p95());
    if (floor > 0) std::printf("   floor %8.2f ms (%.2fx)", floor, s.median() / floor);
    std::printf("\n");
  };
  row("one image (384 px)", image, floor_ms(vision_ops));
  row("one text", text_s, floor_ms(text_ops));
  row("one matching score", match, floor_ms(match_ops));
  row("rank 1,000 cached images", rank, 0);
  row("re-rank the best 16", rerank, 16 * floor_ms(match_ops));
  std::printf("  matmul rate %.1f GFLOP/s, peak RSS %.0f MiB\n", rate / 1e9, peak_rss_mib());
  return 0;
}

// `--contention N`: N busy-spinning processes beside the measurement, as a browser or a
// compiler beside the app would be. They stop when this goes out of scope (or with us).
class Contention {
 public:
  explicit Contention(int n) {
#ifndef _WIN32
    for (int i = 0; i < n; ++i) {
      const pid_t pid = fork();
      if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        for (volatile uint64_t x = 0;; x = x + 1) {
        }
      }
      if (pid > 0) pids_.push_back(pid);
    }
#else
    for (int i = 0; i < n; ++i)
      threads_.emplace_back([this] {
        for (volatile uint64_t x = 0; !stop_.load(std::memory_order_relaxed); x = x + 1) {
        }
      });
#endif
  }
  ~Contention() {
#ifndef _WIN32
    for (pid_t p : pids_) kill(p, SIGKILL);
    for (pid_t p : pids_) waitpid(p, nullptr, 0);
#else
    stop_ = true;
    for (auto& t : threads_) t.join();
#endif
  }
  Contention(const Contention&) = delete;
  Contention& operator=(const Contention&) = delete;

 private:
#ifndef _WIN32
  std::vector<pid_t> pids_;
#else
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
#endif
};

// Stage timings of `runs` questions (or descriptions), each about a new image, after one warm-up.
struct AskStats {
  Stat pre, vis, fus, dec, step, first, second;
  int answer_tokens = 0;
  size_t last_question_tokens = 0, last_steps = 0;
};

AskStats time_asks(core::Engine& engine, const core::Image& base, const std::string& question,
                   const core::AskOptions& o, int runs) {
  const auto& info = engine.info();
  AskStats s;
  for (int r = -1; r < runs; ++r) {  // r = -1: warm-up
    core::Image img = base;
    img.rgb[0] = static_cast<uint8_t>(img.rgb[0] + r + 2);  // a new image each run: cache miss
    auto t0 = std::chrono::steady_clock::now();
    auto id = engine.encode(img);
    core::Result res;
    if (info.task == core::ModelTask::Vqa)
      res = engine.ask(id, question, o);
    else
      res = engine.describe(id, {});
    const double t_first = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    auto t1 = std::chrono::steady_clock::now();
    if (info.task == core::ModelTask::Vqa)
      engine.ask(id, question, o);
    else
      engine.describe(id, {});
    const double t_second = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t1).count();
    if (r < 0) continue;
    s.pre.v.push_back(res.timings.preprocess_ms);
    s.vis.v.push_back(res.timings.vision_ms);
    s.fus.v.push_back(res.timings.fusion_ms);
    s.dec.v.push_back(res.timings.decode_ms);
    for (double st : res.timings.step_ms) s.step.v.push_back(st);
    s.first.v.push_back(t_first);
    s.second.v.push_back(t_second);
    s.answer_tokens = res.answers.empty() ? 0 : static_cast<int>(res.answers.front().tokens.size());
    s.last_question_tokens = res.inspection.question_tokens.size();
    s.last_steps = res.timings.step_ms.size();
  }
  return s;
}

double round_ratio(double t, double floor) { return std::round(t / std::max(1e-12, floor) * 100) / 100; }

// Floors: each stage's operations at this machine's measured matrix-product rate.
struct AskFloors {
  double rate = 0;
  double read_rate = 0, step_bytes = 0, step_floor_ms = 0;  // memory: bytes/s, bytes a step, its floor
  core::StageFlops f0;
  json j;
};

AskFloors ask_floors(const core::ModelConfig& cfg, const core::ModelInfo& info, const AskStats& s, int qtokens,
                     int steps) {
  AskFloors fl;
  fl.rate =
      core::measure_matmul_rate(cfg.vision.tokens(), cfg.vision.hidden, cfg.vision.intermediate, info.vision_threads);
  fl.f0 = core::stage_flops(cfg, qtokens, 0);
  const auto& f0 = fl.f0;
  double decode_ops = f0.decode_setup;
  for (int st = 0; st < steps; ++st) decode_ops += core::stage_flops(cfg, qtokens, st).decode_step;
  const double answer_ops = f0.vision + f0.fusion + decode_ops;
  auto floor_ms = [&](double ops) { return ops / fl.rate * 1000.0; };
  // Decoding steps read every decoder weight for one token: their floor is the memory's.
  fl.read_rate = core::measure_read_bandwidth(info.text_threads);
  const int value_bytes = info.dtype == "float32" ? 4 : 2;
  double decode_bytes = 0;
  for (int st = 0; st < steps; ++st) decode_bytes += core::decode_step_bytes(cfg, qtokens, st, value_bytes);
  fl.step_bytes = decode_bytes / steps;
  fl.step_floor_ms = fl.step_bytes / fl.read_rate * 1000.0;
  fl.j = {{"matmul_gflops", std::round(fl.rate / 1e7) / 100},
          {"read_gbs", std::round(fl.read_rate / 1e7) / 100},
          {"decode_step_mb", std::round(fl.step_bytes / 1e4) / 100},
          {"time_over_bandwidth_floor",
           {{"decode_step", round_ratio(s.step.median(), fl.step_floor_ms)},
            {"decode", round_ratio(s.dec.median(), decode_bytes / fl.read_rate * 1000.0)}}},
          {"matmul_shape", {cfg.vision.tokens(), cfg.vision.hidden, cfg.vision.intermediate}},
          {"gflop",
           {{"vision", f0.vision / 1e9},
            {"fusion", f0.fusion / 1e9},
            {"decode", decode_ops / 1e9},
            {"answer", answer_ops / 1e9}}},
          {"time_over_floor",
           {{"vision", round_ratio(s.vis.median(), floor_ms(f0.vision))},
            {"fusion", round_ratio(s.fus.median(), floor_ms(f0.fusion))},
            {"decode", round_ratio(s.dec.median(), floor_ms(decode_ops))},
            {"answer", round_ratio(s.first.median() - s.pre.median(), floor_ms(answer_ops))}}}};
  return fl;
}

// Ours over the PyTorch implementation's latencies in `path`
// (../shared/golden/blip/peer_latency.json): each stage against the better of the
// reference's thread settings (as specified, and OpenBLAS on one thread).
json reference_ratios(const std::string& path, const AskStats& s, int steps) {
  std::ifstream rf(fs::u8path(path));
  if (!rf) throw core::Error(core::ErrorCode::Io, path + ": cannot read");
  const json peer = json::parse(rf, nullptr, false);
  if (peer.is_discarded() || !peer.contains("summary_median_s") || !peer["summary_median_s"].is_object())
    throw core::Error(core::ErrorCode::BadArgument, path + ": no summary_median_s");
  auto best = [&](const char* key) {
    double v = 0;
    for (const auto& [setting, figures] : peer["summary_median_s"].items())
      if (figures.contains(key) && figures[key].is_number())
        v = v == 0 ? figures[key].get<double>() : std::min(v, figures[key].get<double>());
    return v * 1000;
  };
  const double ref_vision = best("vqa_vision_forward"), ref_q = best("vqa_question_encoder_forward"),
               ref_step = best("vqa_decode_s_per_token_derived"),
               ref_answer19 = best("vqa_generate_default_19_new_tokens");
  const double ours_answer = s.vis.median() + s.fus.median() + s.dec.median();
  const double ref_answer = ref_vision + ref_q + ref_step * steps;
  return {{"vision", round_ratio(s.vis.median(), ref_vision)},
          {"question_encoder", round_ratio(s.fus.median(), ref_q)},
          {"decode_step", round_ratio(s.step.median(), ref_step)},
          {"answer_same_tokens", round_ratio(ours_answer, ref_answer)},
          {"ask_over_generate_19_tokens", round_ratio(s.first.median(), ref_answer19)},
          {"reference_ms",
           {{"vision", ref_vision},
            {"question_encoder", ref_q},
            {"decode_step", ref_step},
            {"generate_19_tokens", ref_answer19}}}};
}

void print_ask_bench(const core::ModelInfo& info, int runs, const AskStats& s, const core::ModelConfig& cfg,
                     const AskFloors& fl, int steps, const json& reference) {
  const json& floors = fl.j;
  std::printf("model %s (%s, %lld parameters) on %s, %d threads, %d runs\n", info.name.c_str(),
              core::family_name(info.family), static_cast<long long>(info.parameters), info.device.c_str(),
              info.threads, runs);
  std::printf("  load            %8.1f ms\n", info.load_ms);
  if (const auto blas = core::blas_description(); !blas.empty()) std::printf("  BLAS            %s\n", blas.c_str());
  auto row = [](const char* name, const Stat& st) {
    std::printf("  %-15s %8.2f ms median  %8.2f ms p95\n", name, st.median(), st.p95());
  };
  row("preprocess", s.pre);
  row("vision", s.vis);
  row("fusion", s.fus);
  row("decode", s.dec);
  row("decode step", s.step);
  row("ask (new image)", s.first);
  row("ask (same image)", s.second);
  std::printf("  second/first    %8.3f\n  peak RSS        %8.0f MiB\n",
              s.second.median() / std::max(1e-9, s.first.median()), peak_rss_mib());
  std::printf("  matmul rate     %8.2f GFLOP/s (%d x %d x %d, %d threads)\n", fl.rate / 1e9, cfg.vision.tokens(),
              cfg.vision.hidden, cfg.vision.intermediate, info.vision_threads);
  std::printf(
      "  time / floor    vision %.2fx (%.3f GFLOP)  fusion %.2fx  decode %.2fx (%d steps)  whole answer %.2fx\n",
      floors["time_over_floor"]["vision"].get<double>(), fl.f0.vision / 1e9,
      floors["time_over_floor"]["fusion"].get<double>(), floors["time_over_floor"]["decode"].get<double>(), steps,
      floors["time_over_floor"]["answer"].get<double>());
  std::printf("  read bandwidth  %8.2f GB/s (%d threads); a decoding step reads %.1f MB: floor %.2f ms, %.2fx\n",
              fl.read_rate / 1e9, info.text_threads, fl.step_bytes / 1e6, fl.step_floor_ms,
              s.step.median() / std::max(1e-9, fl.step_floor_ms));
  if (!reference.is_null())
    std::printf(
        "  ours/reference  vision %.2fx  question encoder %.2fx  decode step %.2fx  answer (same tokens) %.2fx  "
        "ask / its 19-token generate %.2fx\n",
        reference["vision"].get<double>(), reference["question_encoder"].get<double>(),
        reference["decode_step"].get<double>(), reference["answer_same_tokens"].get<double>(),
        reference["ask_over_generate_19_tokens"].get<double>());
}

// The same questions with `--contention N` spinning processes started after the load (the
// engine chose its threads on an idle machine), beside the same model loaded with one thread.
json contended(const cli::Args& a, const fs::path& dir, core::Engine& engine, const core::Image& base,
               const std::string& question, const core::AskOptions& o, int runs, const AskStats& idle) {
  const int n = cli::to_int(a, "--contention", 2, 1, 64);
  core::Options one = cli::engine_options(a);
  one.threads = 1;
  auto single = core::Engine::load(dir, one);
  const Contention busy(n);
  const AskStats ours = time_asks(engine, base, question, o, runs);
  const AskStats one_thread = time_asks(*single, base, question, o, runs);
  return {{"processes", n},
          {"ask_p50_ms", std::round(ours.first.median() * 100) / 100},
          {"ask_p95_ms", std::round(ours.first.p95() * 100) / 100},
          {"one_thread_p50_ms", std::round(one_thread.first.median() * 100) / 100},
          {"over_idle", round_ratio(ours.first.median(), idle.first.median())},
          {"over_one_thread", round_ratio(ours.first.median(), one_thread.first.median())}};
}

}  // namespace

namespace cli {

int cmd_bench(const Args& a) {
  if (a.has("--random-blip2-opt")) return bench_blip2(a);
  if (a.has("--random-blip-itm")) return bench_blip_itm(a);
  const int runs = to_int(a, "--runs", 10, 1, 1000);
  fs::path dir;
  std::optional<fs::path> tmp;
  if (a.has("--random-blip-base")) {
    tmp = fs::temp_directory_path() / ("autoglm-bench-" + std::to_string(std::random_device{}()));
    std::cerr << "creating a random-weight blip-vqa-base-sized model in " << tmp->u8string() << " ...\n";
    core::write_random_blip(*tmp, "vqa");
    dir = *tmp;
  } else {
    dir = model_dir(a);
  }
  const double rss_before = peak_rss_mib();
  auto engine = core::Engine::load(dir, engine_options(a));
  const auto& info = engine->info();
  core::Image base =
      a.has("--image") ? core::decode_image_file(fs::u8path(a.get("--image"))) : synthetic_image(640, 480);
  const std::string question = a.get("--question", "what is in the picture?");
  const int beams = to_int(a, "--beams", 1, 1, 16);
  const int max_tokens = to_int(a, "--max-tokens", 20, 1, 256);
  core::AskOptions o;
  o.beams = beams;
  o.max_new_tokens = max_tokens;
  const AskStats s = time_asks(*engine, base, question, o, runs);
  const auto cfg = core::load_config(dir);
  const int qtokens = std::max<int>(2, static_cast<int>(s.last_question_tokens));
  const int steps = std::max<int>(1, static_cast<int>(s.last_steps));
  const AskFloors fl = ask_floors(cfg, info, s, qtokens, steps);
  json reference;
  if (a.has("--reference")) reference = reference_ratios(a.get("--reference"), s, steps);
  const json contention = a.has("--contention") ? contended(a, dir, *engine, base, question, o, runs, s) : json();
  json j = {{"model", info.name},
            {"family", core::family_name(info.family)},
            {"parameters", info.parameters},
            {"device", info.device},
            {"threads", info.threads},
            {"runs", runs},
            {"load_ms", std::round(info.load_ms)},
            {"stages",
             {{"preprocess", s.pre.to_json()},
              {"vision", s.vis.to_json()},
              {"fusion", s.fus.to_json()},
              {"decode", s.dec.to_json()},
              {"decode_step", s.step.to_json()}}},
            {"answer_tokens", s.answer_tokens},
            {"ask_first", s.first.to_json()},
            {"ask_second_same_image", s.second.to_json()},
            {"second_over_first", std::round(s.second.median() / std::max(1e-9, s.first.median()) * 1000) / 1000},
            {"peak_rss_mib", std::round(peak_rss_mib())},
            {"rss_before_load_mib", std::round(rss_before)},
            {"question_tokens", qtokens},
            {"decode_steps", steps},
            {"floors", fl.j},
            {"ours_over_reference", reference},
            {"contention", contention},
            {"blas", core::blas_description()}};
  if (a.has("--json")) {
    std::cout << j.dump() << "\n";
  } else {
    print_ask_bench(info, runs, s, cfg, fl, steps, reference);
    if (!contention.is_null())
      std::printf("  contention %d   ask p50 %.2f ms (%.2fx idle); with one thread %.2f ms: ours %.2fx of it\n",
                  contention["processes"].get<int>(), contention["ask_p50_ms"].get<double>(),
                  contention["over_idle"].get<double>(), contention["one_thread_p50_ms"].get<double>(),
                  contention["over_one_thread"].get<double>());
  }
  if (tmp) {
    std::error_code ec;
    fs::remove_all(*tmp, ec);
  }
  return 0;
}

}  // namespace cli
