#include "core/engine/paths.h"

#include "core/hub/cache.h"

#include <cstdlib>
#include <system_error>
#include <vector>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#define NOMINMAX
#include <windows.h>
#endif

namespace core {

namespace fs = std::filesystem;

fs::path executable_dir() {
#ifdef _WIN32
  wchar_t buf[32768];
  const DWORD n = GetModuleFileNameW(nullptr, buf, 32768);
  return fs::path(std::wstring(buf, n)).parent_path();
#else
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : p.parent_path();
#endif
}

fs::path default_model_dir() {
  std::error_code ec;
  if (const char* env = std::getenv("AUTOGLM_MODEL"); env && *env) return fs::path(env);
  const fs::path exe = executable_dir();
  std::vector<fs::path> candidates = {
      exe / ".." / "share" / "open-autoglm" / "models" / "default",
      exe / "models" / "default",
#ifdef AUTOGLM_SOURCE_DIR
      fs::path(AUTOGLM_SOURCE_DIR) / "resources" / "models" / "default",
#endif
  };
  for (const auto& c : candidates)
    if (fs::exists(c / "config.json", ec)) return fs::weakly_canonical(c, ec);
  return {};
}

fs::path model_path(const std::string& folder_or_repo) { return hub::resolve_model(folder_or_repo); }

}  // namespace core
