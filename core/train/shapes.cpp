// The shapes world generator; see shapes.h and shared/spec/shapes-world.md.
#include "core/train/shapes.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

#include "core/error.h"

namespace core::shapes {

namespace fs = std::filesystem;

// ---------------------------------------------------------------- randomness

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

uint64_t mix_seed(uint64_t seed, uint64_t index) {
  uint64_t s = seed ^ 0x5DEECE66Dull;
  s = splitmix64(s) + index * 0xD1B54A32D192ED03ull;
  return splitmix64(s);
}

Rng::Rng(uint64_t seed) {
  uint64_t st = seed;
  for (auto& w : s_) w = splitmix64(st);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Rng::next() {  // xoshiro256**
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }
double Rng::uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
int Rng::below(int n) {
  if (n <= 1) return 0;
  return std::min(n - 1, int(uniform() * n));
}
int Rng::range(int lo, int hi) { return hi <= lo ? lo : lo + below(hi - lo + 1); }

// ---------------------------------------------------------------- vocabulary

const std::vector<std::string>& shape_names() {
  static const std::vector<std::string> v{"circle", "square", "triangle", "star", "hexagon"};
  return v;
}
const std::vector<std::string>& color_names() {
  static const std::vector<std::string> v{"red", "green", "blue", "yellow", "purple", "orange", "gray", "black"};
  return v;
}
const std::vector<cv::Vec3b>& color_rgb() {
  static const std::vector<cv::Vec3b> v{{220, 40, 40},  {40, 170, 60},  {40, 80, 220},   {235, 200, 30},
                                        {140, 60, 180}, {245, 130, 20}, {120, 120, 120}, {20, 20, 20}};
  return v;
}
const std::vector<std::string>& size_names() {
  static const std::vector<std::string> v{"small", "large"};
  return v;
}
const std::vector<std::string>& question_types() {
  static const std::vector<std::string> v{"color",    "shape",    "size",    "count",   "exist",
                                          "position", "relation", "compare", "describe"};
  return v;
}

namespace {

constexpr double kSmallLo = 0.10, kSmallHi = 0.16, kLargeLo = 0.24, kLargeHi = 0.34;
constexpr double kGapFrac = 0.02;  // bbox gap, fraction of the canvas
constexpr int kShift = 8;          // fixed-point bits for cv::fillPoly
constexpr double kPi = 3.14159265358979323846;

// ---------------------------------------------------------------- geometry

// Unit polygon (circumradius 1, centred on the origin) rotated by `deg` degrees.
std::vector<cv::Point2d> unit_polygon(const std::string& shape, double deg) {
  std::vector<cv::Point2d> p;
  auto ring = [&](int n, double start_deg, double r) {
    for (int k = 0; k < n; ++k) {
      const double a = (start_deg + 360.0 * k / n) * kPi / 180.0;
      p.emplace_back(r * std::cos(a), r * std::sin(a));
    }
  };
  if (shape == "circle") {
    ring(128, 0, 1);
  } else if (shape == "square") {
    ring(4, 45, 1);
  } else if (shape == "triangle") {
    ring(3, -90, 1);
  } else if (shape == "hexagon") {
    ring(6, 0, 1);
  } else {  // star: 5 outer points, inner radius 0.42
    for (int k = 0; k < 10; ++k) {
      const double a = (-90.0 + 36.0 * k) * kPi / 180.0;
      const double r = (k % 2 == 0) ? 1.0 : 0.42;
      p.emplace_back(r * std::cos(a), r * std::sin(a));
    }
  }
  if (deg != 0) {
    const double a = deg * kPi / 180.0, c = std::cos(a), s = std::sin(a);
    for (auto& q : p) q = {c * q.x - s * q.y, s * q.x + c * q.y};
  }
  return p;
}

// A shape rasterised once in local coordinates; placing it is an integer
// translation, which leaves the fixed-point rasterisation unchanged.
struct Proto {
  int shape = 0, color = 0, size = 0;
  cv::Vec3b rgb;
  float rotation = 0;
  std::vector<cv::Point> pts;  // local, fixed point (kShift)
  cv::Rect lb;                 // bbox of the rasterised mask in local coordinates
  cv::Rect placed;             // bbox on the canvas once placed
  cv::Point offset;
};

bool size_ok(int w, int h, int size, int S) {
  const double lo = (size == 0 ? kSmallLo : kLargeLo) * S, hi = (size == 0 ? kSmallHi : kLargeHi) * S;
  return w >= lo && w <= hi && h >= lo && h <= hi;
}

void make_proto(Rng& rng, Proto& pr, int S) {
  const std::string& shape = shape_names()[pr.shape];
  const double lo = (pr.size == 0 ? kSmallLo : kLargeLo) * S, hi = (pr.size == 0 ? kSmallHi : kLargeHi) * S;
  for (int attempt = 0; attempt < 64; ++attempt) {
    double rot = 0;
    if (shape != "circle") rot = attempt < 48 ? rng.uniform(0.0, 360.0) : 0.0;
    const auto unit = unit_polygon(shape, rot);
    double x0 = 1e9, y0 = 1e9, x1 = -1e9, y1 = -1e9;
    for (const auto& q : unit) {
      x0 = std::min(x0, q.x), x1 = std::max(x1, q.x);
      y0 = std::min(y0, q.y), y1 = std::max(y1, q.y);
    }
    const double wu = x1 - x0, hu = y1 - y0, mu = std::max(wu, hu), ar = std::min(wu, hu) / mu;
    // The larger bbox side D; the smaller is ar * D. Keep a pixel of slack each way.
    const double dlo = std::max(lo, lo / ar) + 1.0, dhi = hi - 1.0;
    if (dlo > dhi) continue;
    const double D = rng.uniform(dlo, dhi), scale = D / mu;
    pr.pts.clear();
    for (const auto& q : unit) {
      const double x = (q.x - x0) * scale + 1.5, y = (q.y - y0) * scale + 1.5;
      pr.pts.emplace_back(int(std::lround(x * (1 << kShift))), int(std::lround(y * (1 << kShift))));
    }
    cv::Mat local = cv::Mat::zeros(int(std::ceil(hu * scale)) + 4, int(std::ceil(wu * scale)) + 4, CV_8U);
    std::vector<std::vector<cv::Point>> polys{pr.pts};
    cv::fillPoly(local, polys, cv::Scalar(255), cv::LINE_8, kShift);
    pr.lb = cv::boundingRect(local);
    if (pr.lb.width > 0 && size_ok(pr.lb.width, pr.lb.height, pr.size, S)) {
      pr.rotation = float(rot);
      return;
    }
  }
  throw core::Error(core::ErrorCode::Internal, "shapes: cannot draw a " + size_names()[pr.size] + " " + shape +
                                                   " on a canvas of side " + std::to_string(S));
}

bool apart(const cv::Rect& a, const cv::Rect& b, int gap) {
  const int gx = std::max(b.x - (a.x + a.width), a.x - (b.x + b.width));
  const int gy = std::max(b.y - (a.y + a.height), a.y - (b.y + b.height));
  return gx >= gap || gy >= gap;
}

bool close_to_object_colour(const cv::Vec3i& c, const std::vector<cv::Vec3b>& cols) {
  for (const auto& o : cols) {
    bool all = true;
    for (int k = 0; k < 3; ++k) all = all && std::abs(c[k] - int(o[k])) <= 40;
    if (all) return true;
  }
  return false;
}

void paint_background(Rng& rng, cv::Mat& img, const std::vector<cv::Vec3b>& object_cols) {
  std::vector<cv::Vec3b> avoid = color_rgb();
  avoid.insert(avoid.end(), object_cols.begin(), object_cols.end());
  auto pick = [&](const cv::Vec3i* base) {
    cv::Vec3i c;
    for (int t = 0; t < 100; ++t) {
      for (int k = 0; k < 3; ++k)
        c[k] = base ? std::clamp((*base)[k] + rng.range(-30, 30), 170, 255) : rng.range(170, 255);
      if (!close_to_object_colour(c, avoid)) return c;
    }
    return base ? *base : cv::Vec3i(240, 240, 240);
  };
  const cv::Vec3i c1 = pick(nullptr);
  const bool gradient = rng.chance(0.35), noise = rng.chance(0.35);
  const int W = img.cols, H = img.rows;
  if (!gradient) {
    img.setTo(cv::Scalar(c1[0], c1[1], c1[2]));
  } else {
    const cv::Vec3i c2 = pick(&c1);
    const double a = rng.uniform(0.0, 2 * kPi), ca = std::cos(a), sa = std::sin(a);
    const double ext = std::abs(ca) * W / 2.0 + std::abs(sa) * H / 2.0 + 1e-9;
    // value = c1 + (c2 - c1) * t, t linear in x and y (0..1 across the canvas).
    const double tx = 0.5 * ca / ext, ty = 0.5 * sa / ext;
    const double t0 = 0.5 + tx * (0.5 - W / 2.0) + ty * (0.5 - H / 2.0);
    for (int y = 0; y < H; ++y) {
      auto* row = img.ptr<uchar>(y);
      int64_t base[3], step[3];  // 16.16 fixed point, so the inner loop is integer-only
      for (int k = 0; k < 3; ++k) {
        base[k] = std::llround((c1[k] + (c2[k] - c1[k]) * (t0 + ty * y) + 0.5) * 65536.0);
        step[k] = std::llround((c2[k] - c1[k]) * tx * 65536.0);
      }
      for (int x = 0; x < W; ++x)
        for (int k = 0; k < 3; ++k) {
          const int64_t v = (base[k] + step[k] * x) >> 16;
          row[3 * x + k] = uchar(std::clamp<int64_t>(v, 0, 255));
        }
    }
  }
  if (noise) {
    const int amp = rng.range(2, 6), span = 2 * amp + 1;
    int delta[256];
    for (int b = 0; b < 256; ++b) delta[b] = b % span - amp;
    uint64_t bits = 0;
    int left = 0;
    for (int y = 0; y < H; ++y) {
      auto* p = img.ptr<uchar>(y);
      for (int i = 0; i < W * 3; ++i) {
        if (left == 0) bits = rng.next(), left = 8;
        const int d = delta[bits & 0xFF];
        bits >>= 8, --left;
        p[i] = uchar(std::clamp(int(p[i]) + d, 170, 255));
      }
    }
  }
}

}  // namespace

// ---------------------------------------------------------------- scenes

CanvasSize canvas_size(Rng& rng, const GenOptions& opt) {
  int W = 0, H = 0;
  if (opt.fixed_w > 0 && opt.fixed_h > 0) {
    W = opt.fixed_w, H = opt.fixed_h;
  } else if (!opt.vary_size) {
    W = H = opt.min_side;
  } else {
    for (int tries = 0;; ++tries) {
      if (tries == 100000) throw core::Error(core::ErrorCode::BadArgument, "shapes: no canvas size is accepted");
      W = rng.range(opt.min_side, opt.max_side);
      const int hlo = std::max(opt.min_side, (W + 1) / 2), hhi = std::min(opt.max_side, 2 * W);
      H = rng.range(hlo, hhi);
      if (!opt.accept_canvas || opt.accept_canvas(W, H)) break;
    }
  }
  return {W, H};
}

Scene render_scene(uint64_t seed, const GenOptions& opt) {
  if (opt.min_side < 32 || opt.max_side < opt.min_side || opt.max_side > 8192 ||
      (opt.fixed_w > 0) != (opt.fixed_h > 0) ||
      (opt.fixed_w > 0 && (std::min(opt.fixed_w, opt.fixed_h) < 32 || std::max(opt.fixed_w, opt.fixed_h) > 8192)))
    throw core::Error(core::ErrorCode::BadArgument, "shapes: canvas sides must be 32..8192 with min_side <= max_side");
  for (double o : opt.object_odds)
    if (!(o >= 0 && std::isfinite(o)))
      throw core::Error(core::ErrorCode::BadArgument, "shapes: object odds must be finite and >= 0");
  Rng rng(seed);
  const CanvasSize canvas = canvas_size(rng, opt);
  const int W = canvas.width, H = canvas.height;
  const int S = std::min(W, H);
  const int gap = int(std::ceil(kGapFrac * std::max(W, H) - 1e-9));

  int n = 0;
  const double odds = std::accumulate(opt.object_odds.begin(), opt.object_odds.end(), 0.0);
  if (odds > 0) {
    double u = rng.uniform() * odds;
    while (n < 4 && (u -= opt.object_odds[size_t(n)]) >= 0) ++n;
    ++n;
  } else {
    n = rng.range(1, 5);
  }
  std::vector<Proto> protos;
  for (int layout = 0;; ++layout) {
    if (layout > 2000)
      throw core::Error(core::ErrorCode::Internal,
                        "shapes: cannot lay out a " + std::to_string(W) + "x" + std::to_string(H) + " canvas");
    if (layout > 0 && layout % 16 == 0 && n > 1) --n;  // crowded canvas: fewer objects
    protos.assign(size_t(n), Proto{});
    for (auto& p : protos) {
      p.shape = rng.below(5), p.color = rng.below(8), p.size = rng.below(2);
      // Jitter each channel by at most 20; gray and black stay neutral (a shared
      // shift plus a little per channel) so they do not drift towards purple or brown.
      const bool neutral = color_names()[size_t(p.color)] == "gray" || color_names()[size_t(p.color)] == "black";
      const int shared = neutral ? rng.range(-15, 15) : 0;
      for (int k = 0; k < 3; ++k)
        p.rgb[k] = cv::saturate_cast<uchar>(int(color_rgb()[size_t(p.color)][k]) + shared +
                                            (neutral ? rng.range(-5, 5) : rng.range(-20, 20)));
      make_proto(rng, p, S);
    }
    // Place the biggest first; each object gets a bounded number of tries.
    std::vector<int> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) order[size_t(i)] = i;
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return protos[size_t(a)].lb.area() > protos[size_t(b)].lb.area(); });
    std::vector<cv::Rect> placed;
    bool ok = true;
    for (int i : order) {
      Proto& p = protos[size_t(i)];
      const int xmax = W - 1 - p.lb.width, ymax = H - 1 - p.lb.height;
      bool done = false;
      for (int t = 0; t < 200 && !done && xmax >= 1 && ymax >= 1; ++t) {
        const cv::Rect r(rng.range(1, xmax), rng.range(1, ymax), p.lb.width, p.lb.height);
        bool free = true;
        for (const auto& q : placed) free = free && apart(r, q, gap);
        if (free) {
          p.placed = r;
          p.offset = {r.x - p.lb.x, r.y - p.lb.y};
          placed.push_back(r);
          done = true;
        }
      }
      if (!done) {
        ok = false;
        break;
      }
    }
    if (ok) break;
  }

  Scene sc;
  sc.rgb.create(H, W, CV_8UC3);
  std::vector<cv::Vec3b> cols;
  for (const auto& p : protos) cols.push_back(p.rgb);
  paint_background(rng, sc.rgb, cols);
  for (const auto& p : protos) {
    std::vector<std::vector<cv::Point>> poly(1);
    const cv::Point shift(p.offset.x * (1 << kShift), p.offset.y * (1 << kShift));
    for (const auto& q : p.pts) poly[0].push_back(q + shift);
    cv::fillPoly(sc.rgb, poly, cv::Scalar(p.rgb[0], p.rgb[1], p.rgb[2]), cv::LINE_AA, kShift);
    Object o;
    o.shape = shape_names()[size_t(p.shape)];
    o.color = color_names()[size_t(p.color)];
    o.size = size_names()[size_t(p.size)];
    o.mask = cv::Mat::zeros(H, W, CV_8U);
    cv::fillPoly(o.mask, poly, cv::Scalar(255), cv::LINE_8, kShift);
    o.box = p.placed;
    o.cx = float(o.box.x + o.box.width / 2.0);
    o.cy = float(o.box.y + o.box.height / 2.0);
    o.rotation = p.rotation;
    o.rgb = p.rgb;
    sc.objects.push_back(std::move(o));
  }
  return sc;
}

// ---------------------------------------------------------------- patch labels

cv::Mat cell_coverage(const cv::Mat& mask, int rows, int cols) {
  if (rows < 1 || cols < 1) throw Error(ErrorCode::BadArgument, "cell_coverage: the grid needs at least one cell");
  cv::Mat cover;
  cv::resize(mask, cover, cv::Size(cols, rows), 0, 0, cv::INTER_AREA);
  cover.convertTo(cover, CV_32F, 1.0 / 255.0);
  return cover;
}

PatchLabel object_label(const Scene& sc, int object) {
  if (object < 0 || object >= static_cast<int>(sc.objects.size()))
    throw Error(ErrorCode::BadArgument, "object_label: no object " + std::to_string(object));
  auto index = [](const std::vector<std::string>& v, const std::string& w) {
    return static_cast<int>(std::find(v.begin(), v.end(), w) - v.begin());
  };
  auto third = [](float v, int side) { return v < side / 3.0 ? 0 : v > 2.0 * side / 3.0 ? 2 : 1; };
  const auto& o = sc.objects[static_cast<size_t>(object)];
  return {index(color_names(), o.color), index(shape_names(), o.shape), index(size_names(), o.size),
          third(o.cx, sc.width()), third(o.cy, sc.height())};
}

std::vector<float> grounding_target(const Sample& s, const std::vector<cv::Mat>& covers, double second_share) {
  auto share_of = [&](int object) {
    if (object < 0 || object >= static_cast<int>(covers.size()))
      throw Error(ErrorCode::BadArgument, "grounding_target: no coverage for object " + std::to_string(object));
    const cv::Mat& c = covers[static_cast<size_t>(object)];
    std::vector<float> v(c.begin<float>(), c.end<float>());
    const double total = std::accumulate(v.begin(), v.end(), 0.0);
    for (auto& x : v) x = total > 0 ? static_cast<float>(x / total) : 0.f;
    return v;
  };
  if (s.referred < 0) return {};
  auto out = share_of(s.referred);
  if (s.referred2 < 0 || second_share <= 0) return out;
  const auto second = share_of(s.referred2);
  const double first_peak = *std::max_element(out.begin(), out.end());
  const double second_peak = *std::max_element(second.begin(), second.end());
  if (first_peak <= 0 || second_peak <= 0) return out;
  const double share = std::min(second_share, 0.6 * (1 - second_share) * first_peak / second_peak);
  double total = 0;
  for (size_t i = 0; i < out.size(); ++i)
    total += out[i] = static_cast<float>((1 - second_share) * out[i] + share * second[i]);
  for (auto& x : out) x = static_cast<float>(x / total);
  return out;
}

std::vector<PatchLabel> patch_labels(const Scene& sc, int rows, int cols) {
  if (rows < 1 || cols < 1) throw Error(ErrorCode::BadArgument, "patch_labels: the grid needs at least one cell");
  std::vector<cv::Mat> covers;
  for (const auto& o : sc.objects) covers.push_back(cell_coverage(o.mask, rows, cols));
  return patch_labels(sc, covers, rows, cols);
}

std::vector<PatchLabel> patch_labels(const Scene& sc, const std::vector<cv::Mat>& covers, int rows, int cols) {
  if (rows < 1 || cols < 1) throw Error(ErrorCode::BadArgument, "patch_labels: the grid needs at least one cell");
  if (covers.size() != sc.objects.size())
    throw Error(ErrorCode::BadArgument, "patch_labels: one coverage per object is needed");
  const size_t cells = static_cast<size_t>(rows) * static_cast<size_t>(cols);
  std::vector<float> best(cells, 0.f);
  std::vector<int> who(cells, -1);
  for (size_t k = 0; k < sc.objects.size(); ++k) {
    const cv::Mat& cover = covers[k];
    if (cover.rows != rows || cover.cols != cols || cover.type() != CV_32F)
      throw Error(ErrorCode::BadArgument, "patch_labels: a coverage is not a rows x cols float map");
    for (size_t i = 0; i < cells; ++i) {
      const float c = cover.at<float>(static_cast<int>(i) / cols, static_cast<int>(i) % cols);
      if (c > best[i]) best[i] = c, who[i] = static_cast<int>(k);
    }
  }
  std::vector<PatchLabel> out(cells);
  for (size_t i = 0; i < cells; ++i) {
    if (best[i] >= 0.2f) {
      out[i] = object_label(sc, who[i]);
    } else if (best[i] < 0.02f) {
      out[i] = {static_cast<int>(color_names().size()), static_cast<int>(shape_names().size()),
                static_cast<int>(size_names().size()), 3, 3};
    } else {
      out[i] = {-1, -1, -1, -1, -1};
    }
  }
  return out;
}

// ---------------------------------------------------------------- output

nlohmann::json to_json(const Sample& s) {
  nlohmann::json objs = nlohmann::json::array();
  for (const auto& o : s.scene.objects)
    objs.push_back({{"shape", o.shape},
                    {"color", o.color},
                    {"size", o.size},
                    {"center", {o.cx, o.cy}},
                    {"bbox", {o.box.x, o.box.y, o.box.width, o.box.height}},
                    {"rotation", o.rotation},
                    {"rgb", {o.rgb[0], o.rgb[1], o.rgb[2]}}});
  return {
      {"question", s.question}, {"type", s.type},           {"template", s.tmpl},       {"answer", s.answer},
      {"referred", s.referred}, {"referred2", s.referred2}, {"width", s.scene.width()}, {"height", s.scene.height()},
      {"objects", objs}};
}

void write_dataset(const fs::path& dir, uint64_t seed, int count, const GenOptions& opt) {
  if (count < 0) throw core::Error(core::ErrorCode::BadArgument, "shapes: negative sample count");
  std::error_code ec;
  fs::create_directories(dir / "images", ec);
  fs::create_directories(dir / "masks", ec);
  if (!fs::is_directory(dir / "images") || !fs::is_directory(dir / "masks"))
    throw core::Error(core::ErrorCode::Io, "shapes: cannot create " + (dir / "images").string());
  std::ofstream jl(dir / "requests.jsonl", std::ios::binary | std::ios::trunc);
  if (!jl) throw core::Error(core::ErrorCode::Io, "shapes: cannot write " + (dir / "requests.jsonl").string());
  for (int i = 0; i < count; ++i) {
    const Sample s = make_sample(mix_seed(seed, uint64_t(i)), opt);
    char name[32];
    std::snprintf(name, sizeof name, "%06d", i);
    const std::string img_rel = std::string("images/") + name + ".png";
    cv::Mat bgr;
    cv::cvtColor(s.scene.rgb, bgr, cv::COLOR_RGB2BGR);
    if (!cv::imwrite((dir / img_rel).string(), bgr))
      throw core::Error(core::ErrorCode::Io, "shapes: cannot write " + (dir / img_rel).string());
    nlohmann::json j = to_json(s);
    nlohmann::json masks = nlohmann::json::array();
    for (size_t k = 0; k < s.scene.objects.size(); ++k) {
      const std::string m_rel = std::string("masks/") + name + "_" + std::to_string(k) + ".png";
      if (!cv::imwrite((dir / m_rel).string(), s.scene.objects[k].mask))
        throw core::Error(core::ErrorCode::Io, "shapes: cannot write " + (dir / m_rel).string());
      masks.push_back(m_rel);
    }
    j["image"] = img_rel;
    j["masks"] = masks;
    jl << j.dump() << '\n';
  }
  jl.flush();
  if (!jl) throw core::Error(core::ErrorCode::Io, "shapes: cannot write " + (dir / "requests.jsonl").string());
}

}  // namespace core::shapes
