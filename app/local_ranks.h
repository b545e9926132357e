#pragma once
// One command, every core: this process becomes rank 0 of a data-parallel job
// on this machine and starts the same command again as ranks 1..n-1 (setting
// WORLD_SIZE, RANK, MASTER_ADDR and a free MASTER_PORT, as torchrun does).
#include <memory>
#include <string>
#include <vector>

class LocalRanks {
 public:
  // Null when n < 2 or the platform cannot start processes this way (`why`
  // says so), or when WORLD_SIZE is already set (this is a rank; `why` untouched). Throws core::Error
  // when a rank cannot be started.
  static std::unique_ptr<LocalRanks> start(int n, char** argv, std::string* why);
  ~LocalRanks();  // stops ranks still running (rank 0 failed)
  // Waits for ranks 1..n-1; true when all of them exited with 0.
  bool wait(std::string* failure);

 private:
  std::vector<long> pids_;
};
