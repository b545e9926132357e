#pragma once
// A SentencePiece model, run by libsentencepiece inside the autoglm_spm module
// (core/text/spm_module.cpp says why it is a module of its own).
#include <string>
#include <string_view>
#include <vector>

namespace core {

class SpmProcessor {
 public:
  // The serialized model (spiece.model's bytes); throws Error(BadVocab) with the
  // library's message, Error(Internal) where the module cannot be found.
  explicit SpmProcessor(const std::string& proto, const std::string& label);
  ~SpmProcessor();
  SpmProcessor(const SpmProcessor&) = delete;
  SpmProcessor& operator=(const SpmProcessor&) = delete;

  int size() const;
  int piece_to_id(std::string_view piece) const;
  std::string id_to_piece(int id) const;
  std::vector<std::string> encode(std::string_view text) const;
  std::string decode(const std::vector<std::string>& pieces) const;

  // Where the module is looked for, in order (for messages and tests).
  static std::vector<std::string> module_candidates();

 private:
  void* sp_ = nullptr;
};

}  // namespace core
