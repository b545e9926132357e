// The shapes-world generator against shared/spec/shapes-world.md: determinism,
// geometry (sizes, gaps, canvas), and every answer recomputed by an
// independent oracle written here from the object list alone.
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <numeric>
#include <regex>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/train/shapes.h"
#include "testutil.h"

namespace sh = core::shapes;
namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kShapes{"circle", "square", "triangle", "star", "hexagon"};
const std::vector<std::string> kColors{"red", "green", "blue", "yellow", "purple", "orange", "gray", "black"};
const std::vector<std::string> kSizes{"small", "large"};
const std::vector<std::string> kNumbers{"zero", "one", "two", "three", "four", "five"};
const std::map<std::string, cv::Vec3i> kRgb{
    {"red", {220, 40, 40}},     {"green", {40, 170, 60}},   {"blue", {40, 80, 220}},   {"yellow", {235, 200, 30}},
    {"purple", {140, 60, 180}}, {"orange", {245, 130, 20}}, {"gray", {120, 120, 120}}, {"black", {20, 20, 20}}};

bool in(const std::vector<std::string>& v, const std::string& x) { return std::find(v.begin(), v.end(), x) != v.end(); }

std::vector<std::string> words_of(const std::string& s) {
  std::vector<std::string> out;
  std::string w;
  for (char c : s) {
    if (c == ' ') {
      if (!w.empty()) out.push_back(w);
      w.clear();
    } else if (c == '?' || c == '.' || c == ',') {
      if (!w.empty()) out.push_back(w);
      w.clear();
      out.emplace_back(1, c);
    } else {
      w += c;
    }
  }
  if (!w.empty()) out.push_back(w);
  return out;
}

// ------------------------------------------------------------------ oracle
// Recomputes answers from (shape, color, size, centre) and the canvas size,
// parsing the question text independently of the generator's code.
struct Ref {
  std::string shape, color, size;  // empty: not mentioned
  int index = -1;
};

struct Verdict {
  bool ok = false;
  std::string answer, why;
  int referred = -1, referred2 = -1;
};

class Oracle {
 public:
  explicit Oracle(const sh::Scene& s) : s_(s), W_(s.width()), H_(s.height()) {}

  // Parses "the [size] [color] shape" and resolves it to the unique object.
  bool resolve(const std::string& text, Ref& r, std::string& why) const {
    std::istringstream is(text);
    std::vector<std::string> w;
    for (std::string x; is >> x;) w.push_back(x);
    if (w.size() < 2 || w.size() > 4 || w[0] != "the" || !in(kShapes, w.back())) return fail(why, "bad ref " + text);
    r.shape = w.back();
    for (size_t k = 1; k + 1 < w.size(); ++k) {
      if (in(kSizes, w[k]) && r.size.empty() && r.color.empty())
        r.size = w[k];
      else if (in(kColors, w[k]) && r.color.empty())
        r.color = w[k];
      else
        return fail(why, "bad ref word " + w[k]);
    }
    int hits = 0;
    for (int i = 0; i < int(s_.objects.size()); ++i) {
      const auto& o = s_.objects[size_t(i)];
      if (o.shape == r.shape && (r.color.empty() || o.color == r.color) && (r.size.empty() || o.size == r.size))
        ++hits, r.index = i;
    }
    if (hits != 1) return fail(why, "ref not unique: " + text);
    return true;
  }

  // The spec's preference: the first unique form among those allowed.
  std::string preferred(int i, bool allow_color, bool allow_size) const {
    const auto& a = s_.objects[size_t(i)];
    auto count = [&](bool c, bool z) {
      return std::count_if(s_.objects.begin(), s_.objects.end(), [&](const sh::Object& b) {
        return b.shape == a.shape && (!c || b.color == a.color) && (!z || b.size == a.size);
      });
    };
    if (count(false, false) == 1) return "the " + a.shape;
    if (allow_color && count(true, false) == 1) return "the " + a.color + " " + a.shape;
    if (allow_size && count(false, true) == 1) return "the " + a.size + " " + a.shape;
    if (allow_color && allow_size && count(true, true) == 1) return "the " + a.size + " " + a.color + " " + a.shape;
    return "";
  }

  bool robust_position(int i) const {
    const auto& o = s_.objects[size_t(i)];
    const double mx = 0.03 * W_, my = 0.03 * H_;
    for (double line : {W_ / 3.0, 2.0 * W_ / 3.0})
      if (std::abs(o.cx - line) <= mx) return false;
    for (double line : {H_ / 3.0, 2.0 * H_ / 3.0})
      if (std::abs(o.cy - line) <= my) return false;
    return true;
  }

  std::string position(int i) const {
    const auto& o = s_.objects[size_t(i)];
    const double fx = o.cx / W_, fy = o.cy / H_;
    std::string h = fx < 1.0 / 3 ? "left" : fx > 2.0 / 3 ? "right" : "";
    std::string v = fy < 1.0 / 3 ? "top" : fy > 2.0 / 3 ? "bottom" : "";
    if (h.empty() && v.empty()) return "center";
    if (h.empty()) return v;
    if (v.empty()) return h;
    return v + " " + h;
  }

  // Relation answer, or "" when the spec forbids asking; `named`: the answer's object (-1: nothing).
  std::string relation(int i, const std::string& dir, int* named = nullptr) const {
    if (named) *named = -1;
    const auto& r = s_.objects[size_t(i)];
    std::vector<double> d;
    std::vector<int> who;
    for (int j = 0; j < int(s_.objects.size()); ++j) {
      if (j == i) continue;
      const auto& o = s_.objects[size_t(j)];
      const bool horiz = dir == "left of" || dir == "right of";
      const double delta = horiz ? o.cx - r.cx : o.cy - r.cy;
      if (std::abs(delta) <= 0.03 * (horiz ? W_ : H_)) return "";
      const bool inside = (dir == "left of" || dir == "above") ? delta < 0 : delta > 0;
      if (inside) {
        d.push_back(std::sqrt(double(o.cx - r.cx) * (o.cx - r.cx) + double(o.cy - r.cy) * (o.cy - r.cy)));
        who.push_back(j);
      }
    }
    if (d.empty()) return "nothing";
    std::vector<size_t> ord(d.size());
    for (size_t k = 0; k < ord.size(); ++k) ord[k] = k;
    std::sort(ord.begin(), ord.end(), [&](size_t a, size_t b) { return d[a] < d[b]; });
    if (ord.size() >= 2 && d[ord[0]] > 0.88 * d[ord[1]]) return "";
    const auto& o = s_.objects[size_t(who[ord[0]])];
    if (named) *named = who[ord[0]];
    return o.color + " " + o.shape;
  }

  std::string caption_multiset() const {
    std::vector<std::string> t;
    for (const auto& o : s_.objects) t.push_back(o.size + " " + o.color + " " + o.shape);
    std::sort(t.begin(), t.end());
    std::string out;
    for (const auto& x : t) out += x + ";";
    return out;
  }

  Verdict answer(const std::string& q) const {
    Verdict v;
    std::smatch m;
    const auto& objs = s_.objects;
    auto count = [&](const std::string& shape, const std::string& color) {
      return int(std::count_if(objs.begin(), objs.end(), [&](const sh::Object& o) {
        return (shape.empty() || o.shape == shape) && (color.empty() || o.color == color);
      }));
    };
    auto single = [&](const std::string& text, bool allow_color, bool allow_size, Ref& r) {
      if (!resolve(text, r, v.why)) return false;
      if (!allow_color && !r.color.empty()) return fail(v.why, "colour word in ref: " + text);
      if (!allow_size && !r.size.empty()) return fail(v.why, "size word in ref: " + text);
      if (preferred(r.index, allow_color, allow_size) != text)
        return fail(v.why, "not the preferred ref: " + text + " vs " + preferred(r.index, allow_color, allow_size));
      return true;
    };
    Ref r, r2;
    if (std::regex_match(q, m, std::regex("what color is (the [a-z ]+)\\?"))) {
      if (!single(m[1], false, true, r)) return v;
      v.answer = objs[size_t(r.index)].color, v.referred = r.index;
    } else if (std::regex_match(q, m, std::regex("what shape is the ([a-z]+) object\\?"))) {
      const std::string a = m[1];
      int hits = 0;
      for (int i = 0; i < int(objs.size()); ++i)
        if (objs[size_t(i)].color == a || objs[size_t(i)].size == a) ++hits, v.referred = i;
      if (hits != 1) return fail(v), v.why = "shape question not unique", v;
      v.answer = objs[size_t(v.referred)].shape;
    } else if (std::regex_match(q, m, std::regex("what size is (the [a-z ]+)\\?")) ||
               std::regex_match(q, m, std::regex("is (the [a-z ]+) small or large\\?"))) {
      if (!single(m[1], true, false, r)) return v;
      v.answer = objs[size_t(r.index)].size, v.referred = r.index;
    } else if (q == "how many objects are there?") {
      v.answer = kNumbers[objs.size()];
    } else if (std::regex_match(q, m, std::regex("how many ([a-z]+) objects are there\\?"))) {
      if (!in(kColors, m[1])) return fail(v), v.why = "bad colour", v;
      v.answer = kNumbers[size_t(count("", m[1]))];
    } else if (std::regex_match(q, m, std::regex("how many ([a-z]+)s are there\\?"))) {
      if (!in(kShapes, m[1])) return fail(v), v.why = "bad shape", v;
      v.answer = kNumbers[size_t(count(m[1], ""))];
    } else if (std::regex_match(q, m, std::regex("how many ([a-z]+) ([a-z]+)s are there\\?"))) {
      if (!in(kColors, m[1]) || !in(kShapes, m[2])) return fail(v), v.why = "bad count words", v;
      v.answer = kNumbers[size_t(count(m[2], m[1]))];
    } else if (std::regex_match(q, m, std::regex("is there a ([a-z]+)\\?"))) {
      if (!in(kShapes, m[1])) return fail(v), v.why = "bad shape", v;
      v.answer = count(m[1], "") ? "yes" : "no";
    } else if (std::regex_match(q, m, std::regex("is there a ([a-z]+) ([a-z]+)\\?"))) {
      if (!in(kColors, m[1]) || !in(kShapes, m[2])) return fail(v), v.why = "bad exist words", v;
      v.answer = count(m[2], m[1]) ? "yes" : "no";
    } else if (std::regex_match(q, m, std::regex("are there any ([a-z]+) objects\\?"))) {
      if (!in(kColors, m[1])) return fail(v), v.why = "bad colour", v;
      v.answer = count("", m[1]) ? "yes" : "no";
    } else if (std::regex_match(q, m, std::regex("where is (the [a-z ]+)\\?"))) {
      if (!single(m[1], true, true, r)) return v;
      if (!robust_position(r.index)) return fail(v), v.why = "position not robust", v;
      v.answer = position(r.index), v.referred = r.index;
    } else if (std::regex_match(q, m, std::regex("what is (left of|right of|above|below) (the [a-z ]+)\\?"))) {
      if (!single(m[2], true, true, r)) return v;
      v.answer = relation(r.index, m[1], &v.referred2), v.referred = r.index;
      if (v.answer.empty()) return fail(v), v.why = "relation not robust / not 12% closer", v;
    } else if (std::regex_match(q, m, std::regex("is (the [a-z ]+) larger than (the [a-z ]+)\\?"))) {
      if (!single(m[1], true, false, r) || !single(m[2], true, false, r2)) return v;
      const auto &a = objs[size_t(r.index)], &b = objs[size_t(r2.index)];
      if (a.size == b.size || r.index == r2.index) return fail(v), v.why = "larger with equal sizes", v;
      v.answer = a.size == "large" ? "yes" : "no", v.referred = r.index, v.referred2 = r2.index;
    } else if (std::regex_match(q, m, std::regex("are (the [a-z ]+) and (the [a-z ]+) the same (color|shape)\\?"))) {
      const bool col = m[3] == "color";
      if (!single(m[1], !col, true, r) || !single(m[2], !col, true, r2)) return v;
      if (r.index == r2.index) return fail(v), v.why = "same object twice", v;
      const auto &a = objs[size_t(r.index)], &b = objs[size_t(r2.index)];
      v.answer = (col ? a.color == b.color : a.shape == b.shape) ? "yes" : "no";
      v.referred = r.index, v.referred2 = r2.index;
    } else if (q == "describe the image." || q == "what is in the picture?") {
      v.answer = "<caption>";
    } else {
      return fail(v), v.why = "no template matches: " + q, v;
    }
    v.ok = true;
    return v;
  }

 private:
  static bool fail(std::string& why, const std::string& msg) {
    why = msg;
    return false;
  }
  static void fail(Verdict& v) { v.ok = false; }
  const sh::Scene& s_;
  const int W_, H_;
};

std::string type_of_template(const std::string& q) {
  if (q.rfind("what color is", 0) == 0) return "color";
  if (q.rfind("what shape is", 0) == 0) return "shape";
  if (q.rfind("what size is", 0) == 0 || q.find("small or large?") != std::string::npos) return "size";
  if (q.rfind("how many", 0) == 0) return "count";
  if (q.rfind("is there", 0) == 0 || q.rfind("are there any", 0) == 0) return "exist";
  if (q.rfind("where is", 0) == 0) return "position";
  if (q.rfind("what is left", 0) == 0 || q.rfind("what is right", 0) == 0 || q.rfind("what is above", 0) == 0 ||
      q.rfind("what is below", 0) == 0)
    return "relation";
  if (q.find("larger than") != std::string::npos || q.find("the same") != std::string::npos) return "compare";
  if (q == "describe the image." || q == "what is in the picture?") return "describe";
  return "?";
}

// Checks one sample against the oracle; returns "" when fine.
std::string check_question(const sh::Scene& sc, const sh::Sample& s) {
  Oracle o(sc);
  const Verdict v = o.answer(s.question);
  if (!v.ok) return v.why;
  if (type_of_template(s.question) != s.type) return "type " + s.type + " for " + s.question;
  if (s.type == "describe") {
    if (!sh::caption_matches(s.answer, sh::caption(sc))) return "caption mismatch";
    // Multiset recomputed here, and left-to-right order.
    std::vector<std::string> names;
    std::string cap = s.answer;
    for (auto& c : cap)
      if (c == ',') c = ' ';
    std::istringstream is(cap);
    std::vector<std::string> w;
    for (std::string x; is >> x;)
      if (x != "a" && x != "and") w.push_back(x);
    if (w.size() != 3 * sc.objects.size()) return "caption length";
    std::vector<std::string> trip;
    for (size_t k = 0; k < w.size(); k += 3) trip.push_back(w[k] + " " + w[k + 1] + " " + w[k + 2]);
    std::vector<size_t> idx(sc.objects.size());
    for (size_t k = 0; k < idx.size(); ++k) idx[k] = k;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      const auto &A = sc.objects[a], &B = sc.objects[b];
      return A.cx != B.cx ? A.cx < B.cx : A.cy < B.cy;
    });
    for (size_t k = 0; k < idx.size(); ++k) {
      const auto& ob = sc.objects[idx[k]];
      if (trip[k] != ob.size + " " + ob.color + " " + ob.shape) return "caption order: " + s.answer;
    }
    std::sort(trip.begin(), trip.end());
    std::string ms;
    for (const auto& t : trip) ms += t + ";";
    if (ms != o.caption_multiset()) return "caption multiset: " + s.answer;
    return "";
  }
  if (v.answer != s.answer) return "answer '" + s.answer + "' expected '" + v.answer + "' for " + s.question;
  if (v.referred != s.referred) return "referred mismatch for " + s.question;
  if (v.referred2 != s.referred2) return "referred2 mismatch for " + s.question;
  if (s.type == "color" || s.type == "size") {
    // The answer word may only appear in the template ("small or large"), never in the ref.
    std::string q = s.question;
    const auto p = q.find(" small or large?");
    if (p != std::string::npos) q = q.substr(0, p);
    for (const auto& w : words_of(q))
      if (w == s.answer) return "question contains its answer: " + s.question;
  }
  return "";
}

// Geometry of a scene; returns "" when fine.
std::string check_scene(const sh::Scene& sc) {
  const int W = sc.width(), H = sc.height(), S = std::min(W, H);
  if (sc.rgb.type() != CV_8UC3) return "rgb type";
  if (W < 64 || H < 64 || W > 1024 || H > 1024) return "canvas size";
  if (W > 2 * H || H > 2 * W) return "aspect";
  if (sc.objects.empty() || sc.objects.size() > 5) return "object count";
  cv::Mat far(H, W, CV_8U, cv::Scalar(255));
  for (size_t i = 0; i < sc.objects.size(); ++i) {
    const auto& o = sc.objects[i];
    if (!in(kShapes, o.shape) || !in(kColors, o.color) || !in(kSizes, o.size)) return "attribute";
    if (o.mask.type() != CV_8U || o.mask.size() != sc.rgb.size()) return "mask format";
    const cv::Rect b = cv::boundingRect(o.mask);
    if (b != o.box) return "box differs from mask bbox";
    if (b.x < 0 || b.y < 0 || b.x + b.width > W || b.y + b.height > H) return "outside canvas";
    const double lo = (o.size == "small" ? 0.10 : 0.24) * S, hi = (o.size == "small" ? 0.16 : 0.34) * S;
    if (b.width < lo || b.width > hi || b.height < lo || b.height > hi)
      return "size rule: " + o.size + " " + o.shape + " " + std::to_string(b.width) + "x" + std::to_string(b.height) +
             " on side " + std::to_string(S);
    if (std::abs(o.cx - (b.x + b.width / 2.0)) > 1e-3 || std::abs(o.cy - (b.y + b.height / 2.0)) > 1e-3)
      return "centre";
    if (o.shape == "circle" && o.rotation != 0) return "rotated circle";
    for (size_t j = 0; j < i; ++j) {
      const cv::Rect& c = sc.objects[j].box;
      const int gx = std::max(c.x - (b.x + b.width), b.x - (c.x + c.width));
      const int gy = std::max(c.y - (b.y + b.height), b.y - (c.y + c.height));
      if (std::max(gx, gy) < 0.02 * W) return "objects closer than 2% of the width";
    }
    // Drawn colour: the mask's interior averages to the spec colour (jitter <= 20).
    cv::Mat inner;
    cv::erode(o.mask, inner, cv::Mat::ones(3, 3, CV_8U));
    if (cv::countNonZero(inner) >= 4) {
      const cv::Scalar mean = cv::mean(sc.rgb, inner);
      const cv::Vec3i ref = kRgb.at(o.color);
      for (int k = 0; k < 3; ++k)
        if (std::abs(mean[k] - ref[k]) > 22) return "colour of " + o.color + " " + o.shape;
    }
    far(cv::Rect(b.x - 3, b.y - 3, b.width + 6, b.height + 6) & cv::Rect(0, 0, W, H)).setTo(0);
  }
  if (cv::countNonZero(far) > 0) {
    std::vector<cv::Mat> ch;
    cv::split(sc.rgb, ch);
    for (const auto& c : ch) {
      double mn = 0, mx = 0;
      cv::minMaxLoc(c, &mn, &mx, nullptr, nullptr, far);
      if (mn < 170 || mx > 255) return "background outside 170..255";
    }
  }
  return "";
}

bool same_scene(const sh::Scene& a, const sh::Scene& b) {
  if (a.rgb.size() != b.rgb.size() || cv::norm(a.rgb, b.rgb, cv::NORM_INF) != 0) return false;
  if (a.objects.size() != b.objects.size()) return false;
  for (size_t i = 0; i < a.objects.size(); ++i) {
    const auto &x = a.objects[i], &y = b.objects[i];
    if (x.shape != y.shape || x.color != y.color || x.size != y.size || x.box != y.box || x.cx != y.cx ||
        x.rotation != y.rotation || cv::norm(x.mask, y.mask, cv::NORM_INF) != 0)
      return false;
  }
  return true;
}

}  // namespace

class TestShapes : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void rngReference() {
    uint64_t st = 0;  // published splitmix64 outputs for state 0
    QCOMPARE(sh::splitmix64(st), 0xE220A8397B1DCDAFull);
    QCOMPARE(sh::splitmix64(st), 0x6E789E6AA1B965F4ull);
    QCOMPARE(sh::splitmix64(st), 0x06C45D188009454Full);
    sh::Rng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
      const uint64_t x = a.next();
      QCOMPARE(x, b.next());
      differs = differs || x != c.next();
      const int r = a.range(-3, 4);
      b.range(-3, 4);
      QVERIFY(r >= -3 && r <= 4);
      const double u = a.uniform();
      b.uniform();
      QVERIFY(u >= 0 && u < 1);
    }
    QVERIFY(differs);
    QVERIFY(sh::mix_seed(1, 0) != sh::mix_seed(1, 1));
    QVERIFY(sh::mix_seed(1, 0) != sh::mix_seed(2, 0));
  }

  // The trainer's object-count curriculum: odds for 1..5 objects choose the count (a
  // crowded canvas may still hold fewer); the default stays the spec's uniform draw.
  void object_odds_choose_the_count() {
    auto counts = [](const std::array<double, 5>& odds) {
      sh::GenOptions opt;
      opt.object_odds = odds;
      std::array<int, 6> n{};
      for (uint64_t i = 0; i < 400; ++i) ++n[sh::render_scene(sh::mix_seed(77, i), opt).objects.size()];
      return n;
    };
    const auto five = counts({0, 0, 0, 0, 1}), one = counts({1, 0, 0, 0, 0}), uniform = counts({});
    const auto skewed = counts({1, 0, 0, 0, 3});
    qInfo("5 objects: %d of 400 with odds for five only, %d uniform; 1 object: %d with odds for one only", five[5],
          uniform[5], one[1]);
    QCOMPARE(one[1], 400);
    QVERIFY2(five[5] >= 340, qPrintable(QString::number(five[5])));
    QVERIFY(five[1] + five[2] + five[3] == 0 || five[5] > 10 * (five[1] + five[2] + five[3]));
    for (int k = 1; k <= 5; ++k) QVERIFY2(uniform[k] >= 50, qPrintable(QString::number(uniform[k])));
    QVERIFY2(skewed[2] + skewed[3] == 0 && skewed[1] >= 70 && skewed[1] <= 130,
             qPrintable(QString("%1 %2 %3").arg(skewed[1]).arg(skewed[2]).arg(skewed[3])));
    // all zero is the spec's draw, the same scenes as without the field
    sh::GenOptions zero;
    zero.object_odds = {0, 0, 0, 0, 0};
    QVERIFY(same_scene(sh::render_scene(5, zero), sh::render_scene(5)));
    sh::GenOptions bad;
    bad.object_odds = {1, -1, 0, 0, 0};
    QVERIFY_THROWS_EXCEPTION(core::Error, sh::render_scene(1, bad));
  }

  void determinism_data() {
    QTest::addColumn<quint64>("seed");
    QTest::addColumn<int>("fixed");
    QTest::newRow("seed 0 varied") << quint64(0) << 0;
    QTest::newRow("seed 12345 varied") << quint64(12345) << 0;
    QTest::newRow("seed 99 at 64") << quint64(99) << 64;
    QTest::newRow("seed huge at 384") << quint64(0xFFFFFFFFFFFFull) << 384;
  }
  void determinism() {
    QFETCH(quint64, seed);
    QFETCH(int, fixed);
    sh::GenOptions opt;
    if (fixed) opt.fixed_w = opt.fixed_h = fixed;
    const sh::Sample a = sh::make_sample(seed, opt), b = sh::make_sample(seed, opt);
    QVERIFY(same_scene(a.scene, b.scene));
    QCOMPARE(a.question, b.question);
    QCOMPARE(a.answer, b.answer);
    QCOMPARE(a.referred, b.referred);
    QCOMPARE(sh::to_json(a).dump(), sh::to_json(b).dump());
    const sh::Sample c = sh::make_sample(seed + 1, opt);
    QVERIFY(!same_scene(a.scene, c.scene));
    QVERIFY(same_scene(sh::render_scene(seed, opt), sh::render_scene(seed, opt)));
    QVERIFY(!same_scene(sh::render_scene(seed, opt), sh::render_scene(seed + 1, opt)));
  }

  void canvasSizes() {
    sh::GenOptions opt;
    int w_small = 0, w_big = 0, tall = 0, wide = 0;
    for (uint64_t s = 0; s < 300; ++s) {
      const sh::Scene sc = sh::render_scene(sh::mix_seed(5, s), opt);
      const int W = sc.width(), H = sc.height();
      QVERIFY(W >= 64 && W <= 1024 && H >= 64 && H <= 1024);
      QVERIFY(W <= 2 * H && H <= 2 * W);
      w_small += W<200, w_big += W> 900, tall += H > 1.5 * W, wide += W > 1.5 * H;
    }
    QVERIFY(w_small > 0 && w_big > 0 && tall > 0 && wide > 0);  // the range is actually covered
    opt.fixed_w = 320, opt.fixed_h = 200;
    for (uint64_t s = 0; s < 20; ++s) {
      const sh::Scene sc = sh::render_scene(s, opt);
      QCOMPARE(sc.width(), 320);
      QCOMPARE(sc.height(), 200);
      QCOMPARE(check_scene(sc), std::string());
    }
    sh::GenOptions sq;
    sq.vary_size = false;
    sq.min_side = 96;
    QCOMPARE(sh::render_scene(3, sq).rgb.size(), cv::Size(96, 96));

    // canvas_size draws what render_scene draws; accept_canvas redraws until it accepts
    opt = {};
    for (uint64_t s = 0; s < 30; ++s) {
      sh::Rng rng(sh::mix_seed(5, s));
      const auto c = sh::canvas_size(rng, opt);
      const sh::Scene sc = sh::render_scene(sh::mix_seed(5, s), opt);
      QCOMPARE(c.width, sc.width());
      QCOMPARE(c.height, sc.height());
    }
    opt.accept_canvas = [](int w, int h) { return w > 1.5 * h; };
    for (uint64_t s = 0; s < 30; ++s) {
      const sh::Scene sc = sh::render_scene(sh::mix_seed(6, s), opt);
      QVERIFY(sc.width() > 1.5 * sc.height());
      QCOMPARE(check_scene(sc), std::string());
    }
    opt.accept_canvas = [](int, int) { return false; };
    VERIFY_THROWS_MSG(sh::render_scene(1, opt), "no canvas size");
  }

  void badOptions() {
    sh::GenOptions opt;
    opt.min_side = 10;
    VERIFY_THROWS_MSG(sh::render_scene(1, opt), "canvas");
    opt = {};
    opt.min_side = 500, opt.max_side = 400;
    VERIFY_THROWS_MSG(sh::render_scene(1, opt), "canvas");
    opt = {};
    opt.fixed_w = 100;
    VERIFY_THROWS_MSG(sh::render_scene(1, opt), "canvas");
  }

  // 2000 samples as a trainer draws them: geometry, oracle answers, vocabulary, balance.
  void generatedSamples() {
    const auto vocab = sh::vocabulary();
    const std::set<std::string> vocab_set(vocab.begin(), vocab.end());
    const auto closed = sh::closed_answers();
    const std::set<std::string> closed_set(closed.begin(), closed.end());
    std::map<std::string, int> per_type, per_answer;
    std::map<int, int> per_count;
    const int N = 2000;
    for (int i = 0; i < N; ++i) {
      const sh::Sample s = sh::make_sample(sh::mix_seed(2024, uint64_t(i)));
      const std::string g = check_scene(s.scene);
      if (!g.empty()) QFAIL(qPrintable(QString("sample %1: %2").arg(i).arg(QString::fromStdString(g))));
      const std::string e = check_question(s.scene, s);
      if (!e.empty()) QFAIL(qPrintable(QString("sample %1: %2").arg(i).arg(QString::fromStdString(e))));
      for (const auto& w : words_of(s.question + " " + s.answer))
        if (!vocab_set.count(w)) QFAIL(qPrintable(QString("word outside vocabulary: ") + w.c_str()));
      QVERIFY(s.question.back() == '?' || s.question == "describe the image.");
      if (s.type != "describe") QVERIFY2(closed_set.count(s.answer), s.answer.c_str());
      ++per_type[s.type];
      ++per_answer[s.type + ":" + s.answer];
      ++per_count[int(s.scene.objects.size())];
    }
    QCOMPARE(int(per_type.size()), 9);
    for (const auto& [t, c] : per_type) {
      const double f = double(c) / N;
      QVERIFY2(f > 0.111 - 0.03 && f < 0.111 + 0.03, qPrintable(QString("%1: %2").arg(t.c_str()).arg(f)));
    }
    for (int n = 1; n <= 5; ++n) QVERIFY2(per_count[n] > N / 10, qPrintable(QString::number(n)));
    // Both answers of yes/no types occur reasonably often.
    QVERIFY(per_answer["exist:yes"] > per_type["exist"] / 4 && per_answer["exist:no"] > per_type["exist"] / 4);
    QVERIFY(per_answer["compare:yes"] > 10 && per_answer["compare:no"] > 10);
    QVERIFY(per_answer["relation:nothing"] > 5 && per_answer["relation:nothing"] < per_type["relation"]);
  }

  // Several questions about one scene (the trainer's questions per image): the first is
  // make_sample_of_type's, the others are right about the same pixels, of the asked
  // type where the scene has one, else of the first's type.
  void samplesAboutOneScene() {
    const std::vector<std::string> types{"compare", "relation", "color", "describe", "count", "compare"};
    std::map<std::string, int> asked, got;
    int shared = 0, fallback = 0;
    for (uint64_t i = 0; i < 300; ++i) {
      const uint64_t seed = sh::mix_seed(77, i);
      std::vector<std::string> ts{sh::question_types()[i % 9]};
      for (int k = 0; k < 3; ++k) ts.push_back(types[(i + static_cast<uint64_t>(k)) % types.size()]);
      const auto group = sh::make_samples_of_types(seed, ts);
      QCOMPARE(group.size(), ts.size());
      const sh::Sample first = sh::make_sample_of_type(seed, ts[0]);
      QCOMPARE(sh::to_json(group[0]).dump(), sh::to_json(first).dump());
      QVERIFY(same_scene(group[0].scene, first.scene));
      std::set<std::string> present;
      for (const auto& q : sh::questions_for(first.scene)) present.insert(q.type);
      for (size_t k = 0; k < group.size(); ++k) {
        const auto& s = group[k];
        shared += s.scene.rgb.data == group[0].scene.rgb.data;
        const std::string e = check_question(s.scene, s);
        if (!e.empty())
          QFAIL(qPrintable(QString("group %1, question %2: %3").arg(i).arg(k).arg(QString::fromStdString(e))));
        if (present.count(ts[k])) {
          QCOMPARE(s.type, ts[k]);
        } else {
          QCOMPARE(s.type, ts[0]);
          ++fallback;
        }
        ++asked[ts[k]], ++got[s.type];
      }
    }
    QCOMPARE(shared, 1200);
    qInfo("fell back to the first question's type %d times in 900", fallback);
    QVERIFY(fallback > 0 && fallback < 300);  // one-object scenes have no comparison
    for (const auto& [t, n] : asked) QVERIFY2(got[t] > n / 2, t.c_str());
    VERIFY_THROWS_MSG(sh::make_samples_of_types(1, {"color", "colour"}), "unknown question type");
    VERIFY_THROWS_MSG(sh::make_samples_of_types(1, {}), "no question types");
  }

  // Every question questions_for lists is right, and none that the spec allows is missing.
  void allQuestionsOfScenes() {
    std::map<std::string, int> templates;
    for (uint64_t k = 0; k < 300; ++k) {
      sh::GenOptions opt;
      opt.max_side = 400;
      const sh::Scene sc = sh::render_scene(sh::mix_seed(77, k), opt);
      QCOMPARE(check_scene(sc), std::string());
      const auto qs = sh::questions_for(sc);
      std::set<std::string> asked;
      for (const auto& q : qs) {
        const std::string e = check_question(sc, q);
        if (!e.empty()) QFAIL(e.c_str());
        QVERIFY2(asked.insert(q.question).second, q.question.c_str());  // no duplicates
        ++templates[q.tmpl];
      }
      // Completeness, recomputed from the objects.
      Oracle o(sc);
      const int n = int(sc.objects.size());
      int expect_color = 0, expect_size = 0, expect_pos = 0, expect_rel = 0, expect_cmp_shape = 0;
      for (int i = 0; i < n; ++i) {
        expect_color += !o.preferred(i, false, true).empty();
        expect_size += 2 * !o.preferred(i, true, false).empty();
        const bool ref = !o.preferred(i, true, true).empty();
        expect_pos += ref && o.robust_position(i);
        for (const char* d : {"left of", "right of", "above", "below"}) expect_rel += ref && !o.relation(i, d).empty();
        for (int j = 0; j < n; ++j) expect_cmp_shape += ref && j != i && !o.preferred(j, true, true).empty();
      }
      auto count_type = [&](const std::string& t) {
        return int(std::count_if(qs.begin(), qs.end(), [&](const sh::Sample& q) { return q.type == t; }));
      };
      auto count_tmpl = [&](const std::string& t) {
        return int(std::count_if(qs.begin(), qs.end(), [&](const sh::Sample& q) { return q.tmpl == t; }));
      };
      QCOMPARE(count_type("color"), expect_color);
      QCOMPARE(count_type("size"), expect_size);
      QCOMPARE(count_type("position"), expect_pos);
      QCOMPARE(count_type("relation"), expect_rel);
      QCOMPARE(count_tmpl("compare_shape"), expect_cmp_shape);
      QCOMPARE(count_type("count"), 1 + 5 + 8 + 40);
      QCOMPARE(count_type("exist"), 40 + 5 + 8);
      QCOMPARE(count_type("describe"), 2);
    }
    for (const char* t :
         {"color",          "shape_color",     "shape_size",     "size_what",         "size_or",
          "count_all",      "count_shape",     "count_color",    "count_color_shape", "exist_color_shape",
          "exist_shape",    "exist_color",     "position",       "relation_left",     "relation_right",
          "relation_above", "relation_below",  "compare_larger", "compare_color",     "compare_shape",
          "describe_image", "describe_picture"})
      QVERIFY2(templates[t] > 0, t);
  }

  void captionMatches_data() {
    QTest::addColumn<QString>("a");
    QTest::addColumn<QString>("b");
    QTest::addColumn<bool>("match");
    const QString base = "a large red circle, a small blue square and a small yellow star";
    QTest::newRow("identical") << base << base << true;
    QTest::newRow("reordered") << base << "a small yellow star, a large red circle and a small blue square" << true;
    QTest::newRow("no punctuation") << base << "a small blue square a small yellow star a large red circle" << true;
    QTest::newRow("trailing period") << base << base + "." << true;
    QTest::newRow("changed colour") << base << "a large red circle, a small green square and a small yellow star"
                                    << false;
    QTest::newRow("changed size") << base << "a large red circle, a large blue square and a small yellow star" << false;
    QTest::newRow("changed shape") << base << "a large red circle, a small blue hexagon and a small yellow star"
                                   << false;
    QTest::newRow("missing object") << base << "a large red circle and a small blue square" << false;
    QTest::newRow("extra object") << base << base + " and a small black star" << false;
    QTest::newRow("duplicate vs single") << "a small red star and a small red star"
                                         << "a small red star" << false;
    QTest::newRow("duplicates reordered") << "a small red star, a large red star and a small red star"
                                          << "a large red star, a small red star and a small red star" << true;
    QTest::newRow("missing size") << "a red circle"
                                  << "a large red circle" << false;
    QTest::newRow("unknown word") << "a large red circle"
                                  << "a large red ball" << false;
    QTest::newRow("empty") << ""
                           << "" << false;
  }
  void captionMatches() {
    QFETCH(QString, a);
    QFETCH(QString, b);
    QFETCH(bool, match);
    QCOMPARE(sh::caption_matches(a.toStdString(), b.toStdString()), match);
    QCOMPARE(sh::caption_matches(b.toStdString(), a.toStdString()), match);
  }

  void captionFormat() {
    sh::Scene sc;
    sc.rgb = cv::Mat(100, 100, CV_8UC3, cv::Scalar(200, 200, 200));
    auto obj = [](const char* size, const char* color, const char* shape, float cx) {
      sh::Object o;
      o.size = size, o.color = color, o.shape = shape, o.cx = cx, o.cy = 50;
      return o;
    };
    sc.objects = {obj("small", "blue", "square", 50), obj("large", "red", "circle", 10),
                  obj("small", "yellow", "star", 90)};
    QCOMPARE(sh::caption(sc), std::string("a large red circle, a small blue square and a small yellow star"));
    sc.objects.resize(1);
    QCOMPARE(sh::caption(sc), std::string("a small blue square"));
    QCOMPARE(sh::position_words(10, 10, 90, 90), std::string("top left"));
    QCOMPARE(sh::position_words(45, 45, 90, 90), std::string("center"));
    QCOMPARE(sh::position_words(80, 45, 90, 90), std::string("right"));
    QCOMPARE(sh::position_words(45, 80, 90, 90), std::string("bottom"));
  }

  void vocabularyAndAnswers() {
    const auto vocab = sh::vocabulary();
    const std::set<std::string> vs(vocab.begin(), vocab.end());
    QCOMPARE(vs.size(), vocab.size());
    for (const char* p : {"?", ".", ","}) QVERIFY(vs.count(p));
    for (const char* w : {"squares", "hexagons", "above", "below", "nothing", "picture", "describe"})
      QVERIFY2(vs.count(w), w);
    QVERIFY(!vs.count("boxes"));
    const auto ans = sh::closed_answers();
    const std::set<std::string> as(ans.begin(), ans.end());
    QCOMPARE(as.size(), ans.size());
    QCOMPARE(int(ans.size()), 8 + 5 + 2 + 6 + 2 + 9 + 40 + 1);
    for (const auto& a : ans)
      for (const auto& w : words_of(a)) QVERIFY2(vs.count(w), w.c_str());
    QCOMPARE(int(sh::question_types().size()), 9);
  }

  // Per-cell labels recomputed here by counting mask pixels per cell (not by
  // resizing); cells near the two thresholds are skipped.
  void patchLabels() {
    int object_cells = 0, background_cells = 0, large_seen = 0;
    // Sides divisible by both grids, so that cells have whole pixels.
    const std::vector<cv::Size> canvases{{64, 64}, {128, 128}, {200, 200}, {320, 320}, {96, 192}, {256, 128}};
    for (int k = 0; k < 60; ++k) {
      sh::GenOptions opt;
      opt.fixed_w = canvases[size_t(k) % canvases.size()].width;
      opt.fixed_h = canvases[size_t(k) % canvases.size()].height;
      const auto sc = sh::render_scene(sh::mix_seed(21, uint64_t(k)), opt);
      // square grids, and grids shaped like a wide or a tall image (rows x cols)
      for (auto [rows, cols] : {std::pair{4, 4}, {8, 8}, {4, 8}, {8, 4}}) {
        const auto labels = sh::patch_labels(sc, rows, cols);
        QCOMPARE(int(labels.size()), rows * cols);
        std::vector<cv::Mat> covers;
        for (const auto& o : sc.objects) covers.push_back(sh::cell_coverage(o.mask, rows, cols));
        QCOMPARE(covers.front().rows, rows);
        QCOMPARE(covers.front().cols, cols);
        const auto reused = sh::patch_labels(sc, covers, rows, cols);  // the trainer's path: coverages made once
        for (size_t c = 0; c < labels.size(); ++c)
          QVERIFY(reused[c].color == labels[c].color && reused[c].shape == labels[c].shape &&
                  reused[c].size == labels[c].size && reused[c].column == labels[c].column &&
                  reused[c].row == labels[c].row);
        std::vector<bool> labelled(sc.objects.size(), false);
        for (int cell = 0; cell < rows * cols; ++cell) {
          const int gx = cell % cols, gy = cell / cols;
          const int x0 = gx * sc.width() / cols, x1 = (gx + 1) * sc.width() / cols;
          const int y0 = gy * sc.height() / rows, y1 = (gy + 1) * sc.height() / rows;
          double best = 0;
          int who = -1;
          for (size_t o = 0; o < sc.objects.size(); ++o) {
            const double c = cv::countNonZero(sc.objects[o].mask(cv::Rect(x0, y0, x1 - x0, y1 - y0))) /
                             double((x1 - x0) * (y1 - y0));
            if (c > best) best = c, who = int(o);
          }
          const auto& l = labels[size_t(cell)];
          if (best > 0.25) {
            const auto& obj = sc.objects[size_t(who)];
            auto at = [](const std::vector<std::string>& v, const std::string& w) {
              return int(std::find(v.begin(), v.end(), w) - v.begin());
            };
            QCOMPARE(l.color, at(kColors, obj.color));
            QCOMPARE(l.shape, at(kShapes, obj.shape));
            QCOMPARE(l.size, at(kSizes, obj.size));
            // The thirds, read back from the spec's position words.
            const std::string where = sh::position_words(obj.cx, obj.cy, sc.width(), sc.height());
            auto says = [&](const char* w) { return where.find(w) != std::string::npos; };
            QCOMPARE(l.column, says("left") ? 0 : says("right") ? 2 : 1);
            QCOMPARE(l.row, says("top") ? 0 : says("bottom") ? 2 : 1);
            labelled[size_t(who)] = true;
            ++object_cells;
          } else if (best == 0) {
            QCOMPARE(l.color, int(kColors.size()));
            QCOMPARE(l.shape, int(kShapes.size()));
            QCOMPARE(l.size, int(kSizes.size()));
            QCOMPARE(l.column, 3);
            QCOMPARE(l.row, 3);
            ++background_cells;
          } else if (best > 0.03 && best < 0.15) {
            QCOMPARE(l.color, -1);
          }
        }
        // A large object is at least 24% of the shorter side: at 8 cells a side it covers one cell well.
        if (rows == 8 && cols == 8)
          for (size_t o = 0; o < sc.objects.size(); ++o)
            if (sc.objects[o].size == "large" && sc.width() == sc.height()) {
              QVERIFY2(labelled[o], "a large object has no cell of its own");
              ++large_seen;
            }
      }
    }
    QVERIFY(object_cells > 100);
    QVERIFY(background_cells > 1000);
    QVERIFY(large_seen > 5);
    QVERIFY_THROWS_EXCEPTION(core::Error, sh::patch_labels(sh::render_scene(1), 0, 8));
    QVERIFY_THROWS_EXCEPTION(core::Error, sh::patch_labels(sh::render_scene(1), std::vector<cv::Mat>{}, 8, 8));
    {  // coverages of another grid than the one asked for
      const auto sc = sh::render_scene(1);
      std::vector<cv::Mat> covers;
      for (const auto& o : sc.objects) covers.push_back(sh::cell_coverage(o.mask, 8, 4));
      QVERIFY_THROWS_EXCEPTION(core::Error, sh::patch_labels(sc, covers, 4, 8));
    }
    QVERIFY_THROWS_EXCEPTION(core::Error, sh::object_label(sh::render_scene(1), 5));
    QVERIFY_THROWS_EXCEPTION(core::Error, sh::object_label(sh::render_scene(1), -1));
  }

  // The grounding loss's target: the referred object alone, or, for relations and
  // comparisons, shared with the second object without moving the heatmap's peak off the first.
  void groundingTarget() {
    int second_seen = 0, capped = 0, plain = 0;
    for (int k = 0; k < 80; ++k) {
      const auto sc = sh::render_scene(sh::mix_seed(31, uint64_t(k)));
      std::vector<cv::Mat> covers;
      for (const auto& o : sc.objects) covers.push_back(sh::cell_coverage(o.mask, 8, 8));
      for (const auto& q : sh::questions_for(sc)) {
        const auto alone = sh::grounding_target(q, covers, 0);
        const auto shared = sh::grounding_target(q, covers, 0.4);
        if (q.referred < 0) {
          QVERIFY(alone.empty() && shared.empty());
          continue;
        }
        QCOMPARE(int(alone.size()), 64);
        const cv::Mat& first = covers[size_t(q.referred)];
        const double first_total = cv::sum(first)[0];
        for (int c = 0; c < 64; ++c) QVERIFY(std::abs(alone[size_t(c)] - first.at<float>(c) / first_total) < 1e-6);
        QVERIFY(std::abs(std::accumulate(shared.begin(), shared.end(), 0.0) - 1) < 1e-5);
        if (q.referred2 < 0) {
          QVERIFY(shared == alone);
          ++plain;
          continue;
        }
        ++second_seen;
        const cv::Mat& second = covers[size_t(q.referred2)];
        double on_second_only = 0, on_neither = 0;
        for (int c = 0; c < 64; ++c) {
          const bool a = first.at<float>(c) > 0, b = second.at<float>(c) > 0;
          if (b && !a) on_second_only += shared[size_t(c)];
          if (!a && !b) on_neither += shared[size_t(c)];
        }
        QVERIFY2(on_second_only > 0.02, q.question.c_str());
        QVERIFY(on_neither < 1e-6);
        // At most 0.4 of the target, less where the second object's cells would outweigh the first's.
        QVERIFY(on_second_only < 0.4 + 1e-5);
        capped += on_second_only < 0.3;
        const auto peak = std::max_element(shared.begin(), shared.end()) - shared.begin();
        QVERIFY2(first.at<float>(int(peak)) > 0, q.question.c_str());
      }
    }
    QVERIFY(second_seen > 100);
    QVERIFY(capped > 0);
    QVERIFY(plain > 500);
    auto q = sh::questions_for(sh::render_scene(1)).front();
    q.referred = 7;
    QVERIFY_THROWS_EXCEPTION(core::Error, sh::grounding_target(q, {}, 0.4));
  }

  void writeDataset() {
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const fs::path dir = tmp.path().toStdString();
    sh::GenOptions opt;
    opt.max_side = 300;
    sh::write_dataset(dir / "ds", 11, 6, opt);
    std::ifstream f(dir / "ds" / "requests.jsonl");
    std::string line;
    int n = 0;
    while (std::getline(f, line)) {
      const auto j = nlohmann::json::parse(line);
      for (const char* k : {"image", "question", "answer", "type", "referred", "objects", "masks"})
        QVERIFY2(j.contains(k), k);
      const cv::Mat img = cv::imread((dir / "ds" / j["image"].get<std::string>()).string(), cv::IMREAD_UNCHANGED);
      QVERIFY(!img.empty());
      QCOMPARE(img.type(), CV_8UC3);
      QCOMPARE(img.cols, j["width"].get<int>());
      QCOMPARE(img.rows, j["height"].get<int>());
      QCOMPARE(j["masks"].size(), j["objects"].size());
      // The file matches the sample (RGB written as a normal PNG).
      const sh::Sample s = sh::make_sample(sh::mix_seed(11, uint64_t(n)), opt);
      cv::Mat rgb;
      cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
      QCOMPARE(cv::norm(rgb, s.scene.rgb, cv::NORM_INF), 0.0);
      QCOMPARE(j["question"].get<std::string>(), s.question);
      for (size_t k = 0; k < j["masks"].size(); ++k) {
        const cv::Mat m = cv::imread((dir / "ds" / j["masks"][k].get<std::string>()).string(), cv::IMREAD_UNCHANGED);
        QCOMPARE(m.type(), CV_8U);
        const auto& b = j["objects"][k]["bbox"];
        QCOMPARE(cv::boundingRect(m), cv::Rect(b[0].get<int>(), b[1].get<int>(), b[2].get<int>(), b[3].get<int>()));
        QVERIFY(j["objects"][k]["center"].is_array());
      }
      ++n;
    }
    QCOMPARE(n, 6);
  }

  void speed_data() {
    QTest::addColumn<int>("side");
    QTest::addColumn<int>("count");
    QTest::newRow("64x64") << 64 << 400;
    QTest::newRow("512x512") << 512 << 200;
  }
  void speed() {
    QFETCH(int, side);
    QFETCH(int, count);
    sh::GenOptions opt;
    opt.fixed_w = opt.fixed_h = side;
    QElapsedTimer t;
    t.start();
    size_t sink = 0;
    for (int i = 0; i < count; ++i) sink += sh::make_sample(sh::mix_seed(3, uint64_t(i)), opt).answer.size();
    const double s = std::max<qint64>(1, t.elapsed()) / 1000.0;
    qInfo("%dx%d: %.0f samples/s (%zu)", side, side, count / s, sink);
  }
};

QTEST_APPLESS_MAIN(TestShapes)
#include "tst_shapes.moc"
