// autoglm-train: generate shapes-world data, train, calibrate and evaluate.
#include <array>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "app/args.h"
#include "app/local_ranks.h"
#include "core/engine/engine.h"
#include "core/runtime/runtime.h"
#include "core/engine/paths.h"
#include "core/error.h"
#include "core/train/shapes.h"
#include "core/train/trainer.h"

namespace {

const char* kHelp = R"(autoglm-train - the shapes world: data, training, calibration, evaluation

Usage:
  autoglm-train generate  --out DIR [--seed S] [--count N]
  autoglm-train train     --out DIR [--preset default] [--seed S] [--minutes M | --steps N] [--batch B]
                          [--hidden H] [--lr L] [--align-dim D] [--threads T]
                          [--image-size PX] [--patch PX] [--stem patch|conv] [--stem-tile-kernel 3|5|7|9] [--canvas-max PX]
                          [--aspect keep|square (input shaped like the image, or resized to a square)]
                          [--queries N (learned query tokens appended to each question, 0 to 64)]
                          [--curriculum loss|excess|error (types drawn by running loss, its excess over label smoothing's floor,
                                                          or the running share of answers with a wrong token; the preset: error)]
                          [--curriculum-alpha A (0..1, the curriculum's share of the draws; default 0.6)]
                          [--curriculum-objects B (0..1: within a type, scenes of 1..5 objects drawn by their running
                                                   share of wrong answers, this share of the draws; default 0)]
                          [--vision-layers N] [--text-layers N (all of them fuse)] [--decoder-layers N]
                          [--dense W] [--dense-objects F] [--ground W] [--ground-relation F] [--ground-compare F] [--refer W] [--questions-per-image K]
                          [--checkpoint-every N] [--resume] [--dist-timeout SECONDS] [--ranks N]
                          (data parallel: --ranks N starts N processes here (the preset: one per core, up to 2),
                           or WORLD_SIZE > 1 with RANK, MASTER_ADDR, MASTER_PORT as torchrun sets them;
                           --batch is the global batch of questions, K of them about each image after the
                           first stage)
  autoglm-train finetune  --model DIR --data FILE.jsonl --out DIR [--epochs N] [--batch B] [--lr L]
                          [--val-split F] [--patience N] [--freeze-vision] [--freeze-text] [--seed S]
                          (FILE.jsonl: {"image": path, "question": ..., "answer": ...} a line; images
                           relative to its folder; WORLD_SIZE > 1 splits each batch over ranks)
  autoglm-train generate-new-color --out DIR [--count N] [--seed S] [--name pink] [--rgb 255,105,180]
                          (colour questions where half the objects asked about wear a new colour)
  autoglm-train eval-set  --model DIR --data FILE.jsonl   (exact-match accuracy on a finetune-format set)
  autoglm-train calibrate --model DIR [--seed S] [--count N]
  autoglm-train eval      --model DIR [--seed S] [--count N] [--zero-shot N] [--beams K (default 3, as ask; 1: greedy)]
                          (with alignment heads also retrieval recall and zero-shot accuracy)
  autoglm-train eval      --model DIR --set DIR [--count N (the first N; default all)] [--beams K]
                          (a set on disk: a folder from `generate`, or any requests.jsonl with "image", "question",
                           "answer", "type", and for the pointing game "referred" with "masks" or the objects' "bbox")
)";

const cli::ArgSpec kArgs = {{"--resume", "--freeze-vision", "--freeze-text"},
                            {"--out",
                             "--preset",
                             "--seed",
                             "--minutes",
                             "--steps",
                             "--batch",
                             "--hidden",
                             "--lr",
                             "--align-dim",
                             "--threads",
                             "--image-size",
                             "--patch",
                             "--stem",
                             "--stem-tile-kernel",
                             "--canvas-max",
                             "--aspect",
                             "--queries",
                             "--curriculum",
                             "--curriculum-alpha",
                             "--curriculum-objects",
                             "--vision-layers",
                             "--text-layers",
                             "--decoder-layers",
                             "--dense",
                             "--dense-objects",
                             "--ground",
                             "--ground-relation",
                             "--ground-compare",
                             "--refer",
                             "--questions-per-image",
                             "--checkpoint-every",
                             "--dist-timeout",
                             "--ranks",
                             "--model",
                             "--data",
                             "--epochs",
                             "--val-split",
                             "--patience",
                             "--count",
                             "--name",
                             "--rgb",
                             "--set",
                             "--zero-shot",
                             "--beams"},
                            {}};

// The shared state of a command: its options (flags as "1") and the log.
struct Input {
  cli::Args args;
  std::map<std::string, std::string> a;
  uint64_t seed = 1;
  double num(const char* k, double def) const { return cli::to_double(args, k, def); }
};

void log_line(const std::string& s) { std::cerr << s << std::endl; }

core::train::TrainOptions train_options(Input& in) {
  auto& a = in.a;
  auto num = [&](const char* k, double def) { return in.num(k, def); };
  core::train::TrainOptions o;
  if (a.count("--preset")) o = core::train::preset(a["--preset"]);
  if (!a.count("--out")) throw core::Error(core::ErrorCode::BadArgument, "train needs --out DIR");
  o.out = a["--out"];
  o.seed = static_cast<uint64_t>(num("--seed", static_cast<double>(o.seed)));
  o.minutes = num("--minutes", o.minutes);
  o.steps = static_cast<int>(num("--steps", o.steps));
  o.batch = static_cast<int>(num("--batch", o.batch));
  o.hidden = static_cast<int>(num("--hidden", o.hidden));
  o.lr = num("--lr", o.lr);
  o.align_dim = static_cast<int>(num("--align-dim", o.align_dim));
  o.image_size = static_cast<int>(num("--image-size", o.image_size));
  o.patch = static_cast<int>(num("--patch", o.patch));
  if (a.count("--stem")) o.stem = a["--stem"];
  o.stem_tile_kernel = static_cast<int>(num("--stem-tile-kernel", o.stem_tile_kernel));
  o.canvas_max = static_cast<int>(num("--canvas-max", o.canvas_max));
  if (a.count("--aspect")) {
    if (a["--aspect"] != "keep" && a["--aspect"] != "square")
      throw core::Error(core::ErrorCode::BadArgument, "--aspect must be keep or square");
    o.keep_aspect = a["--aspect"] == "keep";
  }
  o.queries = static_cast<int>(num("--queries", o.queries));
  if (a.count("--curriculum")) {
    if (a["--curriculum"] != "loss" && a["--curriculum"] != "excess" && a["--curriculum"] != "error")
      throw core::Error(core::ErrorCode::BadArgument, "--curriculum must be loss, excess or error");
    o.curriculum = a["--curriculum"];
  }
  o.curriculum_alpha = num("--curriculum-alpha", o.curriculum_alpha);
  o.curriculum_objects = num("--curriculum-objects", o.curriculum_objects);
  if (!(o.curriculum_objects >= 0 && o.curriculum_objects <= 1))
    throw core::Error(core::ErrorCode::BadArgument, "--curriculum-objects must be 0 to 1");
  if (!(o.curriculum_alpha >= 0 && o.curriculum_alpha <= 1))
    throw core::Error(core::ErrorCode::BadArgument, "--curriculum-alpha must be 0 to 1");
  if (o.queries < 0 || o.queries > 64) throw core::Error(core::ErrorCode::BadArgument, "--queries must be 0 to 64");
  if (o.canvas_max < 64 || o.canvas_max > 1024)
    throw core::Error(core::ErrorCode::BadArgument, "--canvas-max must be 64 to 1024 pixels (the spec's canvas sizes)");
  o.vision_layers = static_cast<int>(num("--vision-layers", o.vision_layers));
  o.text_layers = static_cast<int>(num("--text-layers", o.text_layers));
  o.decoder_layers = static_cast<int>(num("--decoder-layers", o.decoder_layers));
  o.dense_weight = num("--dense", o.dense_weight);
  o.dense_object_share = num("--dense-objects", o.dense_object_share);
  if (o.dense_object_share < 0 || o.dense_object_share >= 1)
    throw core::Error(core::ErrorCode::BadArgument, "--dense-objects must be at least 0 and below 1");
  o.ground_weight = num("--ground", o.ground_weight);
  o.ground_relation_share = num("--ground-relation", o.ground_relation_share);
  o.ground_compare_share = num("--ground-compare", o.ground_compare_share);
  for (auto [name, v] :
       {std::pair{"--ground-relation", o.ground_relation_share}, {"--ground-compare", o.ground_compare_share}})
    if (v < 0 || v >= 1)
      throw core::Error(core::ErrorCode::BadArgument, std::string(name) + " must be at least 0 and below 1");
  o.refer_weight = num("--refer", o.refer_weight);
  o.questions_per_image = static_cast<int>(num("--questions-per-image", o.questions_per_image));
  o.checkpoint_every = static_cast<int>(num("--checkpoint-every", o.checkpoint_every));
  o.resume = a.count("--resume") > 0;
  o.threads = static_cast<int>(num("--threads", o.threads));
  o.dist_timeout_s = num("--dist-timeout", o.dist_timeout_s);
  o.ranks = static_cast<int>(num("--ranks", o.ranks));
  if (o.ranks < 1 || o.ranks > 256) throw core::Error(core::ErrorCode::BadArgument, "--ranks must be 1 to 256");
  return o;
}

void cmd_train(Input& in, char** argv) {
  const core::train::TrainOptions o = train_options(in);
  std::unique_ptr<LocalRanks> ranks;
  if (o.ranks > 1 && !core::train::data_parallel_available()) {
    log_line("this build has no distributed training (libtorch without c10d/Gloo): training on one process");
  } else {
    std::string why;
    ranks = LocalRanks::start(o.ranks, argv, &why);
    if (o.ranks > 1 && !why.empty()) log_line("data parallel: " + why);
  }
  core::train::train(o, log_line);
  std::string failure;
  if (ranks && !ranks->wait(&failure)) throw core::Error(core::ErrorCode::Io, failure);
}

void cmd_finetune(Input& in) {
  auto& a = in.a;
  auto num = [&](const char* k, double def) { return in.num(k, def); };
  core::train::FinetuneOptions o;
  for (const char* k : {"--model", "--data", "--out"})
    if (!a.count(k)) throw core::Error(core::ErrorCode::BadArgument, std::string("finetune needs ") + k);
  o.model = a["--model"];
  o.data = a["--data"];
  o.out = a["--out"];
  o.freeze_vision = a.count("--freeze-vision") > 0;
  o.freeze_text = a.count("--freeze-text") > 0;
  o.lr = num("--lr", o.lr);
  o.epochs = static_cast<int>(num("--epochs", o.epochs));
  o.batch = static_cast<int>(num("--batch", o.batch));
  o.val_split = num("--val-split", o.val_split);
  o.patience = static_cast<int>(num("--patience", o.patience));
  o.seed = in.seed;
  o.threads = static_cast<int>(num("--threads", 0));
  o.dist_timeout_s = num("--dist-timeout", o.dist_timeout_s);
  auto r = core::train::finetune(o, log_line);
  std::cout << r.to_json() << "\n";
}

int cmd_eval(Input& in) {
  auto& a = in.a;
  auto num = [&](const char* k, double def) { return in.num(k, def); };
  const uint64_t seed = in.seed;
  const double beams = num("--beams", core::AskOptions{}.beams);  // as `autoglm ask` and the app decode
  if (beams < 1 || beams > 16 || beams != static_cast<int>(beams))
    throw core::Error(core::ErrorCode::BadArgument, "--beams must be a whole number from 1 to 16");
  if (!a.count("--model")) throw core::Error(core::ErrorCode::BadArgument, "eval needs --model DIR");
  if (a.count("--set")) {  // a set on disk: its questions, no retrieval (that renders its own scenes)
    const double limit = num("--count", 0);
    if (limit < 0 || limit != static_cast<int>(limit))
      throw core::Error(core::ErrorCode::BadArgument, "--count must be a whole number (0: the whole set)");
    auto r =
        core::train::evaluate_set(a["--set"], a["--model"], static_cast<int>(limit), nullptr, static_cast<int>(beams));
    auto j = nlohmann::json::parse(r.to_json());
    j["set"] = a["--set"];
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  auto r = core::train::evaluate(a["--model"], seed + 2000003, static_cast<int>(num("--count", 500)), nullptr,
                                 static_cast<int>(beams));
  auto j = nlohmann::json::parse(r.to_json());
  if (core::train::has_alignment(a["--model"]))
    j["retrieval"] =
        nlohmann::json::parse(core::train::evaluate_retrieval(a["--model"], seed + 3000017,
                                                              static_cast<int>(num("--zero-shot", 300)), nullptr)
                                  .to_json());
  std::cout << j.dump(2) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  core::start_runtime(argv, /*long_running=*/true);
  if (argc < 2) {
    std::cerr << kHelp;
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "help") {
    std::cout << kHelp;
    return 0;
  }
  cli::Args args;
  try {
    args = cli::parse_args(argc, argv, kArgs);
  } catch (const cli::UsageError& e) {
    std::cerr << "autoglm-train: " << e.what() << "\n" << kHelp;
    return 2;
  }
  Input in{args, args.values};
  for (const auto& f : args.flags) in.a[f] = "1";
  auto& a = in.a;
  auto num = [&](const char* k, double def) { return in.num(k, def); };
  try {
    if (a.count("--model")) a["--model"] = core::model_path(a["--model"]).u8string();
    const uint64_t seed = in.seed = static_cast<uint64_t>(num("--seed", 1));
    if (cmd == "generate") {
      if (!a.count("--out")) throw core::Error(core::ErrorCode::BadArgument, "generate needs --out DIR");
      core::shapes::write_dataset(a["--out"], seed, static_cast<int>(num("--count", 100)));
    } else if (cmd == "train") {
      cmd_train(in, argv);
    } else if (cmd == "finetune") {
      cmd_finetune(in);
    } else if (cmd == "generate-new-color") {
      if (!a.count("--out")) throw core::Error(core::ErrorCode::BadArgument, "generate-new-color needs --out DIR");
      const std::string name = a.count("--name") ? a["--name"] : "pink";
      std::array<uint8_t, 3> rgb{255, 105, 180};
      if (a.count("--rgb") && std::sscanf(a["--rgb"].c_str(), "%hhu,%hhu,%hhu", &rgb[0], &rgb[1], &rgb[2]) != 3)
        throw core::Error(core::ErrorCode::BadArgument, "--rgb must be R,G,B");
      const int n =
          core::train::write_new_color_set(a["--out"], seed, static_cast<int>(num("--count", 400)), name, rgb);
      std::cerr << "wrote " << a["--out"] << "/data.jsonl (" << n << " objects repainted " << name << ")\n";
    } else if (cmd == "eval-set") {
      if (!a.count("--model") || !a.count("--data"))
        throw core::Error(core::ErrorCode::BadArgument, "eval-set needs --model DIR --data FILE.jsonl");
      std::cout << nlohmann::json{{"accuracy", core::train::evaluate_examples(a["--model"], a["--data"])}}.dump()
                << "\n";
    } else if (cmd == "calibrate") {
      core::train::calibrate(a["--model"], seed + 1000003, static_cast<int>(num("--count", 600)), log_line);
    } else if (cmd == "eval") {
      return cmd_eval(in);
    } else {
      std::cerr << "autoglm-train: unknown command '" << cmd << "'\n" << kHelp;
      return 2;
    }
  } catch (const cli::UsageError& e) {
    std::cerr << "autoglm-train: " << e.what() << "\n";
    return 2;
  } catch (const core::Error& e) {
    std::cerr << "autoglm-train: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
