#include "core/runtime/runtime.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include <fstream>
#include <string>

#ifndef _WIN32
#include <dlfcn.h>
#include <unistd.h>
#else
#include <windows.h>
#endif
#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace core {

void start_runtime(char** argv, bool long_running) {
  bool restart = long_running && select_thread_wait();
  restart = select_blas_kernels(argv) || restart;
#if defined(__linux__)
  if (restart && argv && argv[0]) ::execv("/proc/self/exe", argv);  // returns only on failure: go on as loaded
#endif
  configure_allocator();
}

bool select_thread_wait() {
#if defined(__linux__)
  if (std::getenv("GOMP_SPINCOUNT") || std::getenv("OMP_WAIT_POLICY")) return false;
  ::setenv("GOMP_SPINCOUNT", "10000", 1);
  return true;
#else
  return false;
#endif
}

void configure_compute_threads(int threads) {
#ifndef _WIN32
  if (!std::getenv("OPENBLAS_NUM_THREADS")) {
    using SetFn = void (*)(int);
    if (auto fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) fn(1);
  }
#endif
  static std::once_flag once;
  std::call_once(once, [threads] {
    int n = threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    at::set_num_threads(n);
  });
  if (threads > 0 && at::get_num_threads() != threads) at::set_num_threads(threads);
}

bool select_blas_kernels(char** argv) {
#if defined(__linux__) && defined(__x86_64__)
  if (std::getenv("OPENBLAS_CORETYPE") || !argv || !argv[0]) return false;
  using NameFn = char* (*)();
  auto corename = reinterpret_cast<NameFn>(dlsym(RTLD_DEFAULT, "openblas_get_corename"));
  if (!corename) return false;
  const std::string chosen = corename() ? corename() : "";
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
  if (!avx512 || (chosen != "Haswell" && chosen != "Zen")) return false;
  ::setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  return true;
#else
  (void)argv;
  return false;
#endif
}

void configure_allocator() {
#if defined(__GLIBC__)
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if ((tunables && std::strstr(tunables, "glibc.malloc.")) || std::getenv("MALLOC_MMAP_THRESHOLD_") ||
      std::getenv("MALLOC_TRIM_THRESHOLD_") || std::getenv("MALLOC_TOP_PAD_"))
    return;
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
#endif
}

std::string blas_description() {
#ifndef _WIN32
  using ConfigFn = char* (*)();
  if (auto config = reinterpret_cast<ConfigFn>(dlsym(RTLD_DEFAULT, "openblas_get_config")))
    if (const char* c = config()) return c;
#endif
  return {};
}

bool cpu_has_native_bfloat16() {
#if defined(__linux__)
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0) continue;
    line += ' ';
    return line.find(" avx512_bf16 ") != std::string::npos || line.find(" amx_bf16 ") != std::string::npos ||
           line.find(" bf16 ") != std::string::npos;
  }
#endif
  return false;
}

uint64_t available_memory() {
#if defined(_WIN32)
  MEMORYSTATUSEX m;
  m.dwLength = sizeof(m);
  return GlobalMemoryStatusEx(&m) ? static_cast<uint64_t>(m.ullAvailPhys) : 0;
#elif defined(__linux__)
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("MemAvailable:", 0) == 0) return std::strtoull(line.c_str() + 13, nullptr, 10) * 1024;  // kB
  return 0;
#else
  return 0;
#endif
}

}  // namespace core
