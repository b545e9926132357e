#include "app/local_ranks.h"

#include <cstdlib>
#include <cstring>

#include "core/error.h"

#ifndef _WIN32
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;
#endif

namespace {

#ifndef _WIN32
// A port the kernel reports free on loopback (there is a short window before rank 0 binds it).
int free_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  ::close(s);
  return port;
}
#endif

}  // namespace

std::unique_ptr<LocalRanks> LocalRanks::start(int n, char** argv, std::string* why) {
  const char* ws = std::getenv("WORLD_SIZE");
  if (n < 2) {
    if (why) *why = "one process";
    return nullptr;
  }
  if (ws && *ws) return nullptr;  // this process is one rank of a job started elsewhere: nothing to say
#ifdef _WIN32
  (void)argv;
  if (why) *why = "this platform trains on one process (start ranks with WORLD_SIZE and RANK)";
  return nullptr;
#else
  const int port = free_port();
  if (port == 0) throw core::Error(core::ErrorCode::Io, "no free loopback port for the ranks' rendezvous");
  const std::string world = std::to_string(n), port_s = std::to_string(port);
  ::setenv("WORLD_SIZE", world.c_str(), 1);
  ::setenv("MASTER_ADDR", "127.0.0.1", 1);
  ::setenv("MASTER_PORT", port_s.c_str(), 1);
  std::unique_ptr<LocalRanks> out(new LocalRanks);
  for (int r = 1; r < n; ++r) {
    const std::string rank = std::to_string(r);
    ::setenv("RANK", rank.c_str(), 1);
    pid_t pid = 0;
    const int rc = ::posix_spawn(&pid, "/proc/self/exe", nullptr, nullptr, argv, environ);
    if (rc != 0) throw core::Error(core::ErrorCode::Io, "cannot start rank " + rank + ": " + std::strerror(rc));
    out->pids_.push_back(pid);
  }
  ::setenv("RANK", "0", 1);
  if (why) *why = std::to_string(n) + " processes on this machine (rendezvous on port " + port_s + ")";
  return out;
#endif
}

bool LocalRanks::wait(std::string* failure) {
  bool ok = true;
#ifndef _WIN32
  for (size_t i = 0; i < pids_.size(); ++i) {
    int status = 0;
    if (::waitpid(static_cast<pid_t>(pids_[i]), &status, 0) < 0) continue;
    const bool good = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!good && failure && ok)
      *failure = "rank " + std::to_string(i + 1) +
                 (WIFSIGNALED(status) ? " was killed by signal " + std::to_string(WTERMSIG(status))
                                      : " exited with " + std::to_string(WEXITSTATUS(status)));
    ok = ok && good;
  }
#endif
  pids_.clear();
  return ok;
}

LocalRanks::~LocalRanks() {
#ifndef _WIN32
  for (long pid : pids_) ::kill(static_cast<pid_t>(pid), SIGTERM);
  for (long pid : pids_) ::waitpid(static_cast<pid_t>(pid), nullptr, 0);
#endif
}
