// libsentencepiece behind a C interface, built as its own module
// (autoglm_spm) and opened by core/text/spm.cpp with dlopen(RTLD_DEEPBIND).
// libsentencepiece carries its own copy of protobuf and exports it; linked into
// a program that also loads libtorch's (newer) libprotobuf, its calls bind to
// that one, which refuses it and aborts. Opened this way, it keeps its own.
#include <sentencepiece_processor.h>

#include <cstddef>
#include <string>
#include <vector>

#if defined(_WIN32)
#define AUTOGLM_SPM_API extern "C" __declspec(dllexport)
#else
#define AUTOGLM_SPM_API extern "C" __attribute__((visibility("default")))
#endif

using Sink = void (*)(void* ctx, const char* data, size_t size);

namespace {
void put(Sink sink, void* ctx, const std::string& s) { sink(ctx, s.data(), s.size()); }
}  // namespace

AUTOGLM_SPM_API int autoglm_spm_abi() { return 1; }

AUTOGLM_SPM_API void* autoglm_spm_load(const char* proto, size_t size, Sink error, void* ctx) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto status = sp->LoadFromSerializedProto(std::string(proto, size));
  if (status.ok()) return sp;
  put(error, ctx, status.ToString());
  delete sp;
  return nullptr;
}

AUTOGLM_SPM_API void autoglm_spm_free(void* sp) { delete static_cast<sentencepiece::SentencePieceProcessor*>(sp); }

AUTOGLM_SPM_API int autoglm_spm_size(void* sp) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->GetPieceSize();
}

AUTOGLM_SPM_API int autoglm_spm_piece_to_id(void* sp, const char* piece, size_t size) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->PieceToId(std::string(piece, size));
}

AUTOGLM_SPM_API void autoglm_spm_id_to_piece(void* sp, int id, Sink out, void* ctx) {
  put(out, ctx, static_cast<sentencepiece::SentencePieceProcessor*>(sp)->IdToPiece(id));
}

// Each piece through `out`, in order; 0 on success, else the message through `error`.
AUTOGLM_SPM_API int autoglm_spm_encode(void* sp, const char* text, size_t size, Sink out, void* ctx, Sink error,
                                       void* ectx) {
  std::vector<std::string> pieces;
  const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(sp)->Encode(std::string(text, size), &pieces);
  if (!status.ok()) {
    put(error, ectx, status.ToString());
    return 1;
  }
  for (const auto& p : pieces) put(out, ctx, p);
  return 0;
}

AUTOGLM_SPM_API int autoglm_spm_decode(void* sp, const char* const* pieces, const size_t* sizes, size_t count, Sink out,
                                       void* ctx, Sink error, void* ectx) {
  std::vector<std::string> in;
  in.reserve(count);
  for (size_t i = 0; i < count; ++i) in.emplace_back(pieces[i], sizes[i]);
  std::string text;
  const auto status = static_cast<sentencepiece::SentencePieceProcessor*>(sp)->Decode(in, &text);
  if (!status.ok()) {
    put(error, ectx, status.ToString());
    return 1;
  }
  put(out, ctx, text);
  return 0;
}
