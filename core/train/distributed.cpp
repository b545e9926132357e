#include "core/train/distributed.h"

#include <cstdlib>
#include <string>

#include "core/error.h"

#ifdef AUTOGLM_HAVE_C10D
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace core::train {

namespace {

int env_int(const char* name, int def, int lo, int hi) {
  const char* v = std::getenv(name);
  if (!v || !*v) return def;
  char* end = nullptr;
  const long x = std::strtol(v, &end, 10);
  if (*end || x < lo || x > hi)
    throw Error(ErrorCode::BadArgument, std::string(name) + "=" + v + " is not a number from " + std::to_string(lo) +
                                            " to " + std::to_string(hi));
  return static_cast<int>(x);
}

#ifdef AUTOGLM_HAVE_C10D
class GlooDataParallel : public DataParallel {
 public:
  GlooDataParallel(int rank, int world, const std::string& addr, int port, std::chrono::milliseconds timeout)
      : rank_(rank), world_(world) {
    try {
      c10d::TCPStoreOptions so;
      so.port = static_cast<uint16_t>(port);
      so.isServer = rank == 0;
      so.numWorkers = world;
      so.waitWorkers = true;
      so.timeout = timeout;
      store_ = c10::make_intrusive<c10d::TCPStore>(addr, so);
      auto opts = c10d::ProcessGroupGloo::Options::create();
      opts->timeout = timeout;
      opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(addr));
      pg_ = c10::make_intrusive<c10d::ProcessGroupGloo>(store_, rank, world, opts);
    } catch (const std::exception& e) {
      throw Error(ErrorCode::Io, "rank " + std::to_string(rank) + " of " + std::to_string(world) +
                                     ": no rendezvous with the other ranks at " + addr + ":" + std::to_string(port) +
                                     " (" + first_line(e.what()) + ")");
    }
  }
  int rank() const override { return rank_; }
  int world() const override { return world_; }

  // Gloo's list form means one tensor per device; several tensors travel as one flat buffer.
  void sum(std::vector<torch::Tensor>& t) override {
    flat(t, [&](std::vector<torch::Tensor>& one) { run("all-reduce", [&] { pg_->allreduce(one)->wait(); }); });
  }
  void broadcast(std::vector<torch::Tensor>& t) override {
    flat(t, [&](std::vector<torch::Tensor>& one) { run("broadcast", [&] { pg_->broadcast(one)->wait(); }); });
  }
  torch::Tensor all_gather(const torch::Tensor& local) override {
    std::vector<std::vector<torch::Tensor>> out(1);
    for (int i = 0; i < world_; ++i) out[0].push_back(torch::empty_like(local));
    std::vector<torch::Tensor> in{local.contiguous()};
    run("all-gather", [&] { pg_->allgather(out, in)->wait(); });
    return torch::cat(out[0], 0);
  }

 private:
  static std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }
  template <typename F>
  static void flat(std::vector<torch::Tensor>& t, F&& op) {
    if (t.size() == 1 && t[0].is_contiguous()) {
      op(t);
      return;
    }
    std::vector<torch::Tensor> parts;
    for (auto& x : t) parts.push_back(x.reshape({-1}).to(t[0].scalar_type()));
    std::vector<torch::Tensor> one{torch::cat(parts)};
    op(one);
    int64_t off = 0;
    for (auto& x : t) {
      x.copy_(one[0].slice(0, off, off + x.numel()).view(x.sizes()));
      off += x.numel();
    }
  }
  template <typename F>
  void run(const char* what, F&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      throw Error(ErrorCode::Io, "rank " + std::to_string(rank_) + " of " + std::to_string(world_) + ": " + what +
                                     " failed; another rank stopped or is unreachable (" + first_line(e.what()) + ")");
    }
  }
  int rank_, world_;
  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg_;
};
#endif

struct GatherFn : torch::autograd::Function<GatherFn> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor local, DataParallel* dp) {
    ctx->saved_data["rank"] = static_cast<int64_t>(dp->rank());
    ctx->saved_data["rows"] = local.size(0);
    ctx->saved_data["dp"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(dp));
    return dp->all_gather(local.detach());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const int64_t rows = ctx->saved_data["rows"].toInt(), rank = ctx->saved_data["rank"].toInt();
    auto* dp = reinterpret_cast<DataParallel*>(ctx->saved_data["dp"].toInt());
    std::vector<torch::Tensor> g{grad[0].contiguous()};
    dp->sum(g);
    return {g[0].slice(0, rank * rows, (rank + 1) * rows), torch::Tensor()};
  }
};

}  // namespace

std::unique_ptr<DataParallel> DataParallel::from_env(std::chrono::milliseconds timeout) {
  const int world = env_int("WORLD_SIZE", 1, 1, 4096);
  if (world == 1) return nullptr;
  const int rank = env_int("RANK", -1, 0, world - 1);
  if (rank < 0) throw Error(ErrorCode::BadArgument, "WORLD_SIZE is set but RANK is not");
  const char* addr = std::getenv("MASTER_ADDR");
  const int port = env_int("MASTER_PORT", 29500, 1, 65535);
#ifdef AUTOGLM_HAVE_C10D
  return std::make_unique<GlooDataParallel>(rank, world, addr && *addr ? addr : "127.0.0.1", port, timeout);
#else
  (void)addr;
  (void)port;
  (void)timeout;
  throw Error(ErrorCode::BadArgument, "WORLD_SIZE=" + std::to_string(world) +
                                          ", but this build has no distributed training (libtorch without c10d/Gloo)");
#endif
}

bool DataParallel::available() {
#ifdef AUTOGLM_HAVE_C10D
  return true;
#else
  return false;
#endif
}

torch::Tensor gather_with_grad(DataParallel& dp, const torch::Tensor& local) { return GatherFn::apply(local, &dp); }

}  // namespace core::train
