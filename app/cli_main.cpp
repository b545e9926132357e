// autoglm: the command-line face of the engine (see `autoglm --help`).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <numeric>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "core/engine/engine.h"
#include "core/engine/summary.h"
#include "core/runtime/runtime.h"
#include "core/model/factory.h"
#include "core/engine/paths.h"
#include "core/io/config.h"
#include "core/vision/image.h"
#include "app/cli.h"

#ifndef AUTOGLM_VERSION
#define AUTOGLM_VERSION "0.0.0"
#endif

namespace fs = std::filesystem;
using nlohmann::json;

using namespace cli;

namespace {

constexpr int kExitOk = 0, kExitFailed = 1, kExitUsage = 2;

const char* kHelp = R"(autoglm - ask questions about images with a local vision-language model

Usage:
  autoglm info     [--model DIR]
  autoglm ask      --image PATH --question TEXT [--heatmap OUT.png] [--beams K]
                   [--method layer|all-layers|rollout|grad-weighted] [--answers "a,b,c"]
  autoglm ask      --batch REQUESTS.jsonl      (one {"image": ..., "question": ...} a line)
  autoglm describe --image PATH [--prompt TEXT] [--beams K]
                   (ask on a BLIP-2 model: [--template "Question: {} Answer:"], how the
                   question is put to its language model; {} is the question)
  autoglm search   --images DIR --text TEXT [--top K]    (order images by how well TEXT fits)
  autoglm label    --image PATH --labels "a,b,c"         (zero-shot: which label fits best)
  autoglm match    --image PATH --text TEXT [--heatmap OUT.png] [--token N]
                   (a model with a matching head: both scores and where the text matches)
  search and label on such a model also give the matching probability; search
  re-ranks its best --rerank K (default 16) by it
  autoglm bench    [--image PATH] [--runs N] [--random-blip-base] [--reference PEER_LATENCY.json]
                   [--contention N]  (again beside N busy processes, and with one thread)
  autoglm bench    --random-blip2-opt [--dtype bfloat16|float32] [--runs N]
                   (a random model of blip2-opt-2.7b's size, each stage against its floor)
  autoglm bench    --random-blip-itm [--runs N]  (blip-itm-base-coco's size: image, text,
                   matching score, search over 1,000 cached images)
  autoglm pull     ORG/NAME[@REVISION]         (download a HuggingFace model into its cache)
  autoglm models                               (models in the cache: revision, size, family, loads)
  autoglm rm       ORG/NAME                    (delete a model from the cache)

Options for every command:
  --model DIR|REPO   model folder, or a repository id (org/name[@revision]) found in
                     the HuggingFace cache without network (default: the embedded
                     model, or $AUTOGLM_MODEL)
  --device D         auto (default), cpu or cuda
  --dtype T          auto (default: float32 on the CPU, float16 or bfloat16 on a GPU),
                     float32, bfloat16, float16 (GPU only)
  --threads N        libtorch intra-op threads (default: all cores)
  --json             print JSON (one object per request)
  --max-tokens N     longest answer in tokens (default: the model's; 30 for our own
                     models, for HuggingFace checkpoints their generation_config.json
                     or 20 tokens in all, start token and prompt included)
  --colormap NAME    turbo (default), jet, viridis, inferno (for --heatmap)
  --help, --version

Exit status: 0 when every request succeeded, 1 when any failed, 2 on bad arguments.
Model folders hold config.json, the weights and vocab.txt; HuggingFace BLIP
folders (Salesforce/blip-vqa-base, blip-image-captioning-base, blip-itm-base-coco)
and BLIP-2 folders (Salesforce/blip2-opt-2.7b, blip2-flan-t5-xl) load as they
are: model.safetensors, pytorch_model.bin, or shards with their index, in F32,
F16 or BF16. PyTorch .bin files are read by a weights-only reader that never
runs code from the file: anything but tensors and their containers is refused.
The cache is HuggingFace's: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub.
pull honours HF_ENDPOINT, HF_TOKEN (else $HF_HOME/token), HF_HUB_OFFLINE and https_proxy,
resumes interrupted downloads and checks every file's sha256 before using it.

Examples:
  autoglm ask --image scene.png --question "what color is the star?"
  autoglm ask --image photo.jpg --question "what is the man holding?" --model ~/models/blip-vqa-base --json
  autoglm describe --image photo.jpg --model ~/models/blip-image-captioning-base --prompt "a picture of"
  autoglm search --images scenes/ --text "a red star and a blue circle" --top 5
  autoglm label --image scene.png --labels "a red circle,a blue square,a green star"
)";

const ArgSpec kArgs = {
    {"--json", "--help", "--version", "--random-blip-base", "--random-blip2-opt", "--random-blip-itm"},
    {"--model",   "--device", "--threads", "--image",  "--question",   "--heatmap",    "--beams",    "--method",
     "--answers", "--batch",  "--prompt",  "--runs",   "--contention", "--max-tokens", "--colormap", "--dtype",
     "--images",  "--text",   "--top",     "--labels", "--reference",  "--template",   "--rerank",   "--token"},
    {"pull", "rm"}};

core::HeatmapMethod parse_method(const std::string& s) {
  for (auto m : {core::HeatmapMethod::LayerAttention, core::HeatmapMethod::AllLayers, core::HeatmapMethod::Rollout,
                 core::HeatmapMethod::GradWeighted})
    if (s == core::heatmap_method_name(m)) return m;
  throw UsageError("--method must be layer, all-layers, rollout or grad-weighted");
}

json round4(double v) { return std::round(v * 1e4) / 1e4; }

json info_json(const core::ModelInfo& i) {
  return {{"name", i.name},
          {"family", core::family_name(i.family)},
          {"task", core::task_name(i.task)},
          {"device", i.device},
          {"dtype", i.dtype},
          {"stored_dtype", i.stored_dtype},
          {"weights_format", i.weights_format},
          {"weight_files", i.weight_files},
          {"weight_bytes", i.weight_bytes},
          {"running_bytes", i.running_bytes},
          {"parameters", i.parameters},
          {"image_size", i.image_size},
          {"patch_size", i.patch_size},
          {"grid", {i.grid, i.grid}},
          {"keep_aspect", i.keep_aspect},
          {"vision_layers", i.vision_layers},
          {"vision_hidden", i.vision_hidden},
          {"text_layers", i.text_layers},
          {"decoder_layers", i.decoder_layers},
          {"hidden", i.hidden},
          {"fusion_layers", i.fusion_layers},
          {"queries", i.queries},
          {"learned_gates", i.learned_gates},
          {"routing", i.routing},
          {"calibrated", i.calibrated},
          {"align_dim", i.align_dim},
          {"temperature", i.temperature},
          {"length_exponent", i.length_exponent},
          {"default_confidence", i.default_confidence},
          {"vocab_size", i.vocab_size},
          {"threads", i.threads},
          {"libtorch", i.torch_version},
          {"blas", core::blas_description()},
          {"cpu_native_bfloat16", core::cpu_has_native_bfloat16()},
          {"load_ms", round4(i.load_ms)}};
}

json result_json(const core::Result& r, const core::Array& map, core::HeatmapMethod method) {
  json j;
  const auto& best = r.answers.front();
  j["answer"] = best.text;
  j["confidence"] = round4(best.confidence);
  j["calibrated"] = r.calibrated;
  j["candidates"] = json::array();
  for (const auto& a : r.answers) j["candidates"].push_back({{"text", a.text}, {"confidence", round4(a.confidence)}});
  j["tokens"] = json::array();
  for (const auto& t : best.tokens) {
    json alts = json::array();
    for (const auto& alt : t.top) alts.push_back({{"text", alt.text}, {"p", round4(alt.p)}});
    j["tokens"].push_back({{"text", t.text}, {"id", t.id}, {"p", round4(t.p)}, {"top", alts}});
  }
  std::vector<double> values;
  for (float v : map.data) values.push_back(std::round(v * 1e6) / 1e6);
  j["heatmap"] = {{"method", core::heatmap_method_name(method)},
                  {"grid", {r.inspection.grid_h, r.inspection.grid_w}},
                  {"values", values}};
  // Per layer over the words, as the gates panel and the session export show it.
  std::vector<double> per_layer;
  for (double v : core::gate_means(r.inspection)) per_layer.push_back(round4(v));
  j["gates"] = {{"layers", per_layer.size()}, {"per_layer", per_layer}, {"kind", core::gate_kind(r.inspection)}};
  if (!r.prompt.empty()) j["lm_prompt"] = r.prompt;
  std::vector<double> routing;
  for (float v : r.inspection.routing.data) routing.push_back(round4(v));
  j["routing"] = routing;
  j["timings_ms"] = core::timings_json(r.timings);
  j["error"] = nullptr;
  return j;
}

struct Request {
  std::string image, question, prompt;
  bool describe = false;
};

// Runs one request; errors become the "error" field.
json run_request(core::Engine& engine, const Args& a, const Request& req, bool* ok) {
  json j;
  j["image"] = req.image;
  j[req.describe ? "prompt" : "question"] = req.describe ? req.prompt : req.question;
  try {
    auto img = core::decode_image_file(fs::u8path(req.image));
    auto id = engine.encode(img);
    core::Result r;
    // The engine's defaults, which the app uses too.
    const int beams =
        to_int(a, "--beams", req.describe ? core::DescribeOptions{}.beams : core::AskOptions{}.beams, 1, 16);
    const int max_tokens = to_int(a, "--max-tokens", 0, 1, 256);
    if (req.describe) {
      core::DescribeOptions o;
      o.prompt = req.prompt;
      o.beams = beams;
      o.max_new_tokens = max_tokens;
      r = engine.describe(id, o);
    } else {
      core::AskOptions o;
      o.beams = beams;
      o.max_new_tokens = max_tokens;
      o.answers = split_list(a.get("--answers"));
      o.prompt_template = a.get("--template");
      r = engine.ask(id, req.question, o);
    }
    if (r.answers.empty()) throw core::Error(core::ErrorCode::Internal, "the model produced no answer");
    core::HeatmapRequest hr;
    hr.method = parse_method(a.get("--method", core::heatmap_method_name(core::HeatmapRequest{}.method)));
    auto map = engine.heatmap(r, hr);
    auto out = result_json(r, map, hr.method);
    out["image"] = j["image"];
    out[req.describe ? "prompt" : "question"] = j[req.describe ? "prompt" : "question"];
    save_heatmap(a, img, map, &out);
    *ok = true;
    return out;
  } catch (const core::Error& e) {
    j["error"] = e.what();
    j["error_code"] = core::error_code_name(e.code());
  } catch (const UsageError&) {
    throw;
  } catch (const std::exception& e) {
    j["error"] = std::string("internal error: ") + e.what();
  }
  *ok = false;
  return j;
}

void print_human(const json& j) {
  if (!j["error"].is_null()) {
    std::cerr << "error: " << j["error"].get<std::string>() << "\n";
    return;
  }
  std::printf("%s  (confidence %.2f%s)\n", j["answer"].get<std::string>().c_str(), j["confidence"].get<double>(),
              j["calibrated"].get<bool>() ? "" : ", uncalibrated");
  for (size_t i = 1; i < j["candidates"].size(); ++i)
    std::printf("  also: %s (%.2f)\n", j["candidates"][i]["text"].get<std::string>().c_str(),
                j["candidates"][i]["confidence"].get<double>());
  const auto& t = j["timings_ms"];
  std::printf("  timings: preprocess %.1f ms, vision %.1f ms, fusion %.1f ms, decode %.1f ms\n",
              t["preprocess"].get<double>(), t["vision"].get<double>(), t["fusion"].get<double>(),
              t["decode"].get<double>());
  if (j["heatmap"].contains("png")) std::printf("  heatmap: %s\n", j["heatmap"]["png"].get<std::string>().c_str());
}

int cmd_info(const Args& a) {
  auto engine = core::Engine::load(model_dir(a), engine_options(a));
  auto j = info_json(engine->info());
  j["path"] = fs::absolute(model_dir(a)).u8string();
  if (a.has("--json")) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "model      " << j["name"].get<std::string>() << "  (" << j["path"].get<std::string>() << ")\n"
              << "family     " << j["family"].get<std::string>() << ", task " << j["task"].get<std::string>() << "\n"
              << "parameters " << j["parameters"].get<int64_t>() << "\n"
              << "vision     " << j["image_size"].get<int>() << " px"
              << (j["keep_aspect"].get<bool>() ? " (as many pixels, shaped like the image)" : "") << ", patch "
              << j["patch_size"].get<int>() << ", " << j["vision_layers"].get<int>() << " layers x "
              << j["vision_hidden"].get<int>() << "\n"
              << "text       " << j["text_layers"].get<int>() << " encoder + " << j["decoder_layers"].get<int>()
              << " decoder layers x " << j["hidden"].get<int>() << ", fusion layers " << j["fusion_layers"].dump()
              << (j["queries"].get<int>() > 0 ? ", " + std::to_string(j["queries"].get<int>()) + " query tokens" : "")
              << "\n"
              << "gates      "
              << (j["family"] == "blip2"           ? "none (the language model's attention on the image queries shown)"
                  : j["learned_gates"].get<bool>() ? "learned"
                                                   : "none (effective image share shown)")
              << ", routing " << (j["routing"].get<bool>() ? "dynamic" : "last layer") << "\n"
              << "confidence " << (j["calibrated"].get<bool>() ? "calibrated" : "uncalibrated") << "\n"
              << "alignment  "
              << (j["align_dim"].get<int>() > 0 ? std::to_string(j["align_dim"].get<int>()) + "-d (search, labels)"
                                                : std::string("none"))
              << "\n"
              << "weights    " << j["weights_format"].get<std::string>() << ", " << j["weight_files"].get<int>()
              << (j["weight_files"].get<int>() == 1 ? " file, " : " shards, ") << j["stored_dtype"].get<std::string>()
              << ", " << std::fixed << std::setprecision(1) << j["weight_bytes"].get<double>() / 1e6 << " MB stored, "
              << j["running_bytes"].get<double>() / 1e6 << " MB running in " << j["dtype"].get<std::string>() << "\n"
              << "device     " << j["device"].get<std::string>() << " (" << j["dtype"].get<std::string>() << ", "
              << j["threads"].get<int>() << " threads, libtorch " << j["libtorch"].get<std::string>() << ")\n"
              << "cpu        "
              << (j["cpu_native_bfloat16"].get<bool>()
                      ? "native bfloat16 arithmetic (--dtype bfloat16 halves the weights read per word)"
                      : "no native bfloat16 arithmetic (bfloat16 runs converted: float32 is faster here)")
              << "\n";
  }
  return kExitOk;
}

int cmd_ask(const Args& a, bool describe) {
  if (describe && a.has("--batch")) throw UsageError("--batch is for ask");
  if (!a.has("--batch")) {
    if (!a.has("--image")) throw UsageError(std::string(describe ? "describe" : "ask") + " needs --image PATH");
    if (!describe && !a.has("--question")) throw UsageError("ask needs --question TEXT (or --batch FILE)");
  }
  if (a.has("--method")) parse_method(a.get("--method"));
  to_int(a, "--beams", 1, 1, 16);  // bad numbers are usage errors, before the model loads
  to_int(a, "--max-tokens", 1, 1, 256);
  auto engine = core::Engine::load(model_dir(a), engine_options(a));
  if (!a.has("--batch")) {
    bool ok = false;
    auto j = run_request(*engine, a, {a.get("--image"), a.get("--question"), a.get("--prompt"), describe}, &ok);
    if (a.has("--json"))
      std::cout << j.dump() << "\n";
    else
      print_human(j);
    return ok ? kExitOk : kExitFailed;
  }
  std::ifstream f(fs::u8path(a.get("--batch")));
  if (!f) throw core::Error(core::ErrorCode::Io, a.get("--batch") + ": cannot read the batch file");
  std::string line;
  bool all_ok = true;
  int n = 0, requests = 0;
  while (std::getline(f, line)) {
    ++n;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    json out;
    bool ok = false;
    try {
      auto in = json::parse(line);
      if (!in.is_object() || !in.contains("image") || !in["image"].is_string())
        throw std::runtime_error("needs a string field \"image\"");
      const bool d = in.value("describe", false);
      if (!d && (!in.contains("question") || !in["question"].is_string()))
        throw std::runtime_error("needs a string field \"question\"");
      out = run_request(*engine, a, {in["image"], in.value("question", ""), in.value("prompt", ""), d}, &ok);
    } catch (const UsageError&) {
      throw;
    } catch (const std::exception& e) {
      out = {{"line", n}, {"error", std::string("line ") + std::to_string(n) + ": " + e.what()}};
    }
    all_ok &= ok;
    ++requests;
    std::cout << out.dump() << "\n" << std::flush;
  }
  if (requests == 0) throw core::Error(core::ErrorCode::BadArgument, a.get("--batch") + ": the file holds no requests");
  return all_ok ? kExitOk : kExitFailed;
}

}  // namespace

namespace cli {

fs::path model_dir(const Args& a) {
  if (a.values.count("--model")) return core::model_path(a.get("--model"));
  auto d = core::default_model_dir();
  if (d.empty())
    throw core::Error(core::ErrorCode::Io,
                      "no default model found (looked for share/open-autoglm/models/default next to the program); "
                      "pass --model DIR");
  return d;
}

void save_heatmap(const Args& a, const core::Image& img, const core::Array& map, json* out) {
  if (!a.has("--heatmap")) return;
  core::Colormap cm = core::Colormap::Turbo;
  if (a.has("--colormap") && !core::colormap_from_name(a.get("--colormap"), &cm))
    throw UsageError("--colormap must be turbo, jet, viridis or inferno");
  core::save_png(core::render_overlay(img, map, cm, 0.5f), fs::u8path(a.get("--heatmap")));
  (*out)["heatmap"]["png"] = a.get("--heatmap");
}

core::Options engine_options(const Args& a) {
  core::Options o;
  const std::string dev = a.get("--device", "auto");
  if (dev == "auto")
    o.device = core::Device::Auto;
  else if (dev == "cpu")
    o.device = core::Device::Cpu;
  else if (dev == "cuda")
    o.device = core::Device::Cuda;
  else
    throw UsageError("--device must be auto, cpu or cuda");
  o.threads = to_int(a, "--threads", 0, 0, 1024);
  if (!core::precision_from_name(a.get("--dtype", "auto"), &o.dtype))
    throw UsageError("--dtype must be auto, float32, bfloat16 or float16");
  o.on_warning = [](const core::Warning& w) {
    switch (w.code) {
      case core::Warning::Code::CpuFallback:
        std::cerr << "autoglm: warning: out of GPU memory, running on the CPU from now on (" << w.detail << ")\n";
        break;
      case core::Warning::Code::LowerPrecision:
        std::cerr << "autoglm: warning: the model does not fit in the free memory in float32 (" << w.detail << ")\n";
        break;
    }
  };
  return o;
}

}  // namespace cli

int main(int argc, char** argv) {
  // One-shot commands start at once; bench measures as the app runs.
  core::start_runtime(argv, /*long_running=*/argc > 1 && std::string(argv[1]) == "bench");
  Args a;
  try {
    a = parse_args(argc, argv, kArgs);
    if (a.has("--version")) {
      std::cout << "autoglm " << AUTOGLM_VERSION << "\n";
      return kExitOk;
    }
    if (a.has("--help") || a.command.empty() || a.command == "help") {
      std::cout << kHelp;
      return a.command.empty() && !a.has("--help") ? kExitUsage : kExitOk;
    }
    if (a.command == "info") return cmd_info(a);
    if (a.command == "ask") return cmd_ask(a, false);
    if (a.command == "describe") return cmd_ask(a, true);
    if (a.command == "bench") return cmd_bench(a);
    if (a.command == "search") return cmd_search(a);
    if (a.command == "label") return cmd_label(a);
    if (a.command == "match") return cmd_match(a);
    if (a.command == "pull") return cmd_pull(a, argv[0]);
    if (a.command == "models") return cmd_models(a);
    if (a.command == "rm") return cmd_rm(a);
    throw UsageError("unknown command '" + a.command +
                     "' (commands: info, ask, describe, search, label, match, bench, pull, models, rm)");
  } catch (const UsageError& e) {
    std::cerr << "autoglm: " << e.what() << "\n";
    return kExitUsage;
  } catch (const core::Error& e) {
    if (a.has("--json"))
      std::cout << json{{"error", e.what()}, {"error_code", core::error_code_name(e.code())}}.dump() << "\n";
    else
      std::cerr << "autoglm: " << e.what() << "\n";
    return kExitFailed;
  } catch (const std::exception& e) {
    std::cerr << "autoglm: internal error: " << e.what() << "\n";
    return kExitFailed;
  }
}
