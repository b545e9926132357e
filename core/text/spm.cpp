#include "core/text/spm.h"

#include <cstdlib>
#include <filesystem>
#include <mutex>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#include <unistd.h>
#endif

#include "core/error.h"

// Sanitizer runtimes refuse RTLD_DEEPBIND (sanitized builds open the module without it).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define AUTOGLM_NO_DEEPBIND 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define AUTOGLM_NO_DEEPBIND 1
#endif
#endif

namespace core {

namespace {

namespace fs = std::filesystem;
using Sink = void (*)(void* ctx, const char* data, size_t size);

struct Api {
  int (*abi)() = nullptr;
  void* (*load)(const char*, size_t, Sink, void*) = nullptr;
  void (*free)(void*) = nullptr;
  int (*size)(void*) = nullptr;
  int (*piece_to_id)(void*, const char*, size_t) = nullptr;
  void (*id_to_piece)(void*, int, Sink, void*) = nullptr;
  int (*encode)(void*, const char*, size_t, Sink, void*, Sink, void*) = nullptr;
  int (*decode)(void*, const char* const*, const size_t*, size_t, Sink, void*, Sink, void*) = nullptr;
};

#if defined(_WIN32)
constexpr const char* kModule = "autoglm_spm.dll";
#else
constexpr const char* kModule = "libautoglm_spm.so";
#endif

fs::path exe_dir() {
#if defined(_WIN32)
  wchar_t buf[32768];
  const DWORD n = GetModuleFileNameW(nullptr, buf, 32768);
  return n ? fs::path(std::wstring(buf, n)).parent_path() : fs::path();
#else
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::path() : p.parent_path();
#endif
}

void* open_module(const fs::path& p) {
#if defined(_WIN32)
  return LoadLibraryW(p.wstring().c_str());
#else
  // RTLD_DEEPBIND: libsentencepiece's references bind to its own protobuf first.
  int flags = RTLD_NOW | RTLD_LOCAL;
#if defined(RTLD_DEEPBIND) && !defined(AUTOGLM_NO_DEEPBIND)
  flags |= RTLD_DEEPBIND;
#endif
  return dlopen(p.c_str(), flags);
#endif
}

void* symbol(void* h, const char* name) {
#if defined(_WIN32)
  return reinterpret_cast<void*>(GetProcAddress(static_cast<HMODULE>(h), name));
#else
  return dlsym(h, name);
#endif
}

const Api& api() {
  static Api a;
  static std::string failure;
  static std::once_flag once;
  std::call_once(once, [] {
    std::string tried;
    for (const auto& c : SpmProcessor::module_candidates()) {
      std::error_code ec;
      if (!fs::exists(fs::u8path(c), ec)) {
        tried += "\n  " + c + " (absent)";
        continue;
      }
      void* h = open_module(fs::u8path(c));
      if (!h) {
#if defined(_WIN32)
        tried += "\n  " + c + " (cannot be opened)";
#else
        tried += "\n  " + c + " (" + dlerror() + ")";
#endif
        continue;
      }
      auto get = [&](auto& fn, const char* name) {
        fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(symbol(h, name));
      };
      get(a.abi, "autoglm_spm_abi");
      get(a.load, "autoglm_spm_load");
      get(a.free, "autoglm_spm_free");
      get(a.size, "autoglm_spm_size");
      get(a.piece_to_id, "autoglm_spm_piece_to_id");
      get(a.id_to_piece, "autoglm_spm_id_to_piece");
      get(a.encode, "autoglm_spm_encode");
      get(a.decode, "autoglm_spm_decode");
      if (a.abi && a.abi() == 1 && a.load && a.free && a.size && a.piece_to_id && a.id_to_piece && a.encode && a.decode)
        return;
      a = Api{};
      tried += "\n  " + c + " (not this version's module)";
    }
    failure = "the SentencePiece module (" + std::string(kModule) + ") was not found; looked for:" + tried;
  });
  if (!a.load) throw Error(ErrorCode::Internal, failure);
  return a;
}

void append(void* ctx, const char* data, size_t size) { static_cast<std::string*>(ctx)->append(data, size); }
void push(void* ctx, const char* data, size_t size) {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(data, size);
}

}  // namespace

std::vector<std::string> SpmProcessor::module_candidates() {
  std::vector<std::string> out;
  if (const char* env = std::getenv("AUTOGLM_SPM_MODULE"); env && *env) out.emplace_back(env);
  const fs::path dir = exe_dir();
  if (!dir.empty()) {
    out.push_back((dir / kModule).u8string());
    out.push_back((dir.parent_path() / "lib" / "open-autoglm" / kModule).u8string());
  }
#ifdef AUTOGLM_SPM_BUILD_PATH
  out.emplace_back(AUTOGLM_SPM_BUILD_PATH);
#endif
  return out;
}

SpmProcessor::SpmProcessor(const std::string& proto, const std::string& label) {
  std::string error;
  sp_ = api().load(proto.data(), proto.size(), append, &error);
  if (!sp_) throw Error(ErrorCode::BadVocab, label + ": not a SentencePiece model (" + error + ")");
}

SpmProcessor::~SpmProcessor() {
  if (sp_) api().free(sp_);
}

int SpmProcessor::size() const { return api().size(sp_); }

int SpmProcessor::piece_to_id(std::string_view piece) const {
  return api().piece_to_id(sp_, piece.data(), piece.size());
}

std::string SpmProcessor::id_to_piece(int id) const {
  std::string s;
  api().id_to_piece(sp_, id, append, &s);
  return s;
}

std::vector<std::string> SpmProcessor::encode(std::string_view text) const {
  std::vector<std::string> pieces;
  std::string error;
  if (api().encode(sp_, text.data(), text.size(), push, &pieces, append, &error) != 0)
    throw Error(ErrorCode::Internal, "SentencePiece could not encode the text: " + error);
  return pieces;
}

std::string SpmProcessor::decode(const std::vector<std::string>& pieces) const {
  std::vector<const char*> data;
  std::vector<size_t> sizes;
  for (const auto& p : pieces) {
    data.push_back(p.data());
    sizes.push_back(p.size());
  }
  std::string text, error;
  if (api().decode(sp_, data.data(), sizes.data(), pieces.size(), append, &text, append, &error) != 0)
    throw Error(ErrorCode::Internal, "SentencePiece could not decode: " + error);
  return text;
}

}  // namespace core
