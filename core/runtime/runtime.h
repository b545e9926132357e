#pragma once
// Process-wide settings, decided once per program: compute threads, the BLAS
// kernels and the allocator. autoglm-studio, autoglm and autoglm-train call
// start() first thing in main().
#include <cstdint>
#include <string>

namespace core {

// select_thread_wait (long-running programs) and select_blas_kernels; when either set a
// variable, the program starts again with it (argv as main got it); then configure_allocator.
void start_runtime(char** argv, bool long_running);

// libgomp's idle threads spin up to GOMP_SPINCOUNT times (300,000 by default) waiting for
// the next parallel region before they sleep. Beside busy programs those spins took the
// cores from the work: beside two busy-spinning processes BLIP-base's answer took 3.8x its
// idle time with the default, 0.96x with 10,000, at the same idle speed (1.88 and 1.82 s).
// libgomp reads it once, as it loads: sets GOMP_SPINCOUNT=10000 and returns true unless it
// or OMP_WAIT_POLICY is set, or off Linux. One-shot commands skip it (a restart reloads
// libtorch: about 0.5 s here).
bool select_thread_wait();

// libtorch intra-op threads (0: all cores), and OpenBLAS single-threaded unless
// OPENBLAS_NUM_THREADS is set: its own pool and libtorch's compete for the
// same cores (measured here: 2 threads each on 2 cores spends most of the time
// spinning in the kernel). Engine::load calls it; the trainer too.
void configure_compute_threads(int threads);

// OpenBLAS 0.3.21 (Debian 12) picks its kernels by CPU model and takes AMD's Zen 4
// and Zen 5 for AVX2 parts: it runs them on its Haswell kernels, where its AVX-512
// (SkylakeX) ones ran the default model's products 1.4-1.7x and the trainer 1.4x
// faster on a Zen 5. It reads OPENBLAS_CORETYPE once, as it loads, so on such a CPU
// this sets it and returns true (start_runtime then starts the program again). False when
// OPENBLAS_CORETYPE is already set, with another BLAS, or off Linux x86-64.
bool select_blas_kernels(char** argv);

// glibc gives blocks over 128 KiB back to the kernel as they are freed and trims the
// heap's top, so each training step and each answer faulted its tensors' pages in
// afresh: a third of the trainer's time went to the kernel (3.3M page faults in a
// 600-step run, 1.2M of them left after this, all in calibration's one-off batch).
// Keeps freed memory for reuse: blocks up to 32 MiB come from the heap and up to
// 256 MiB of free top stays. No-op off glibc, or where the user set the allocator
// through GLIBC_TUNABLES or MALLOC_*_ variables.
void configure_allocator();

// Bytes of memory a program could take now without swapping (Linux: MemAvailable;
// Windows: the available physical memory); 0 where it cannot be told.
uint64_t available_memory();

// "OpenBLAS 0.3.21 ... SkylakeX" (its build and the kernels it chose), "" for other BLAS.
std::string blas_description();

// Whether this CPU does bfloat16 arithmetic natively (x86-64: AVX512_BF16 or AMX-BF16;
// ARM: BF16). Without it libtorch converts every bfloat16 operation to float32 and back:
// measured here (AVX-512 without BF16) BLIP-base's vision encoder took 1.95 s in bfloat16
// against 1.11 s in float32.
bool cpu_has_native_bfloat16();

}  // namespace core
