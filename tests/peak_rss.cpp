// tst_peak_rss REPORT LIMIT_MB PROGRAM [ARGS...]  (POSIX)
//
// Runs PROGRAM as its child, its address space limited to LIMIT_MB (0: no
// limit), waits for it and writes the child's peak resident set in kilobytes
// to the file REPORT; exits with the child's status (128 + the signal if one
// ended it). The limit turns a regression that allocates without bound (a
// model of terabytes) into an allocation error instead of the OOM killer. tst_hostile measures the command line's
// memory this way: a child spawned straight from the test starts on the test's own memory (vfork or fork), and Linux
// counts that memory's high-water mark into the child's ru_maxrss when it execs; this small program's is a few
// megabytes.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: tst_peak_rss REPORT LIMIT_MB PROGRAM [ARGS...]\n");
    return 2;
  }
  const long limit_mb = std::strtol(argv[2], nullptr, 10);
  const pid_t pid = fork();
  if (pid < 0) return 127;
  if (pid == 0) {
    if (limit_mb > 0) {
      const rlimit lim{rlim_t(limit_mb) << 20, rlim_t(limit_mb) << 20};
      setrlimit(RLIMIT_AS, &lim);
    }
    execv(argv[3], argv + 3);
    std::perror("tst_peak_rss: exec");
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  while (wait4(pid, &status, 0, &usage) < 0)
    if (errno != EINTR) return 127;
  if (FILE* f = std::fopen(argv[1], "w")) {
#ifdef __APPLE__
    usage.ru_maxrss /= 1024;  // bytes there, kilobytes on Linux
#endif
    std::fprintf(f, "%ld\n", usage.ru_maxrss);
    std::fclose(f);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 127;
}
