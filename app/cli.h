#pragma once
// Shared pieces of the autoglm command line.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "app/args.h"
#include "core/engine/engine.h"

namespace cli {

std::filesystem::path model_dir(const Args& a);
core::Options engine_options(const Args& a);
// --heatmap OUT.png: the map over the image in --colormap; sets json["heatmap"]["png"].
void save_heatmap(const Args& a, const core::Image& img, const core::Array& map, nlohmann::json* out);
int cmd_bench(const Args& a);
int cmd_search(const Args& a);
int cmd_label(const Args& a);
int cmd_match(const Args& a);
int cmd_pull(const Args& a, char* argv0);
int cmd_models(const Args& a);
int cmd_rm(const Args& a);

}  // namespace cli
