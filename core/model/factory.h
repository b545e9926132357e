#pragma once
// Creating model folders: a random-weight model of any configuration (tests,
// benchmarks of full-size architectures without their weights) and a small
// default configuration of our own family.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/io/config.h"

namespace core {

// A small Open-AutoGLM configuration for the given vocabulary size.
ModelConfig small_config(int vocab_size);

// Writes config.json, model.safetensors (random weights) and vocab.txt.
// `vocab` must contain [PAD] [UNK] [CLS] [SEP] and the config's bos token.
void write_random_model(const std::filesystem::path& dir, ModelConfig cfg, const std::vector<std::string>& vocab,
                        uint64_t seed = 0);

// A vocabulary of the special tokens plus the given words (lower case), with
// [DEC] as the start-of-answer token; ids of [PAD] [UNK] [CLS] [SEP] [MASK] [DEC]
// are 0..5.
std::vector<std::string> make_vocab(const std::vector<std::string>& words);

// A HuggingFace-layout BLIP folder of the published base size (config.json in
// the HF schema with default sizes, random weights, a placeholder vocabulary
// with BERT's special ids) for benchmarking without the real weights.
void write_random_blip(const std::filesystem::path& dir, const std::string& task = "vqa", uint64_t seed = 0);
// The same for Salesforce/blip-itm-base-coco (image-text matching, 224 M parameters).
void write_random_blip_itm_base(const std::filesystem::path& dir, uint64_t seed = 0);
}  // namespace core
