// The shapes world's language and questions; see shapes.h and shared/spec/shapes-world.md.
#include "core/train/shapes.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "core/error.h"

namespace core::shapes {

namespace {

const char* kNumbers[] = {"zero", "one", "two", "three", "four", "five"};
const char* kPositions[] = {"center",   "left",      "right",       "top",         "bottom",
                            "top left", "top right", "bottom left", "bottom right"};
constexpr double kRobust = 0.03;  // position / relation robustness, fraction of the axis
constexpr double kCloser = 0.88;  // nearest <= 0.88 * next

std::string plural(const std::string& shape) { return shape + "s"; }

}  // namespace

// ---------------------------------------------------------------- language

std::string referring_expression(const Scene& s, int i, bool no_color, bool no_size) {
  const auto& objs = s.objects;
  const Object& a = objs[size_t(i)];
  auto unique = [&](bool c, bool z) {
    int n = 0;
    for (const auto& b : objs) n += b.shape == a.shape && (!c || b.color == a.color) && (!z || b.size == a.size);
    return n == 1;
  };
  if (unique(false, false)) return "the " + a.shape;
  if (!no_color && unique(true, false)) return "the " + a.color + " " + a.shape;
  if (!no_size && unique(false, true)) return "the " + a.size + " " + a.shape;
  if (!no_color && !no_size && unique(true, true)) return "the " + a.size + " " + a.color + " " + a.shape;
  return {};
}

std::string position_words(float x, float y, int width, int height) {
  const char* h = x < width / 3.0 ? "left" : x > 2.0 * width / 3.0 ? "right" : "center";
  const char* v = y < height / 3.0 ? "top" : y > 2.0 * height / 3.0 ? "bottom" : "center";
  const std::string hs = h, vs = v;
  if (hs == "center" && vs == "center") return "center";
  if (vs == "center") return hs;
  if (hs == "center") return vs;
  return vs + " " + hs;
}

std::string caption(const Scene& s) {
  std::vector<int> idx;
  for (int i = 0; i < int(s.objects.size()); ++i) idx.push_back(i);
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) {
    const auto &A = s.objects[size_t(a)], &B = s.objects[size_t(b)];
    return A.cx != B.cx ? A.cx < B.cx : A.cy < B.cy;
  });
  std::string out;
  for (size_t k = 0; k < idx.size(); ++k) {
    const auto& o = s.objects[size_t(idx[k])];
    if (k > 0) out += (k + 1 == idx.size()) ? " and " : ", ";
    out += "a " + o.size + " " + o.color + " " + o.shape;
  }
  return out;
}

namespace {

// Parses a caption into sorted (size, color, shape) triples; false on any
// word outside the caption grammar.
bool parse_caption(const std::string& text, std::vector<std::string>& out) {
  std::vector<std::string> words;
  std::string w;
  for (char ch : text + " ") {
    const char c = char(std::tolower(static_cast<unsigned char>(ch)));
    if (c >= 'a' && c <= 'z') {
      w += c;
    } else {
      if (!w.empty()) words.push_back(w);
      w.clear();
      if (!(c == ' ' || c == ',' || c == '.' || c == '\n' || c == '\t' || c == '\r')) return false;
    }
  }
  auto in = [](const std::vector<std::string>& v, const std::string& x) {
    return std::find(v.begin(), v.end(), x) != v.end();
  };
  std::string size, color;
  for (const auto& x : words) {
    if (x == "a" || x == "an" || x == "and") {
      if (!size.empty() || !color.empty()) return false;
    } else if (in(size_names(), x)) {
      if (!size.empty() || !color.empty()) return false;
      size = x;
    } else if (in(color_names(), x)) {
      if (!color.empty()) return false;
      color = x;
    } else if (in(shape_names(), x)) {
      if (size.empty() || color.empty()) return false;
      out.push_back(size + " " + color + " " + x);
      size.clear(), color.clear();
    } else {
      return false;
    }
  }
  if (!size.empty() || !color.empty()) return false;
  std::sort(out.begin(), out.end());
  return true;
}

}  // namespace

bool caption_matches(const std::string& a, const std::string& b) {
  std::vector<std::string> ta, tb;
  if (!parse_caption(a, ta) || !parse_caption(b, tb)) return false;
  return !ta.empty() && ta == tb;
}

std::vector<std::string> vocabulary() {
  std::set<std::string> v{"what",    "color",    "is",      "the",   "shape",   "object", "size",   "or",
                          "how",     "many",     "objects", "are",   "there",   "a",      "any",    "where",
                          "left",    "right",    "of",      "above", "below",   "larger", "than",   "and",
                          "same",    "describe", "image",   "in",    "picture", "top",    "bottom", "center",
                          "nothing", "yes",      "no",      "?",     ".",       ","};
  for (const auto& s : shape_names()) v.insert(s), v.insert(plural(s));
  for (const auto& s : color_names()) v.insert(s);
  for (const auto& s : size_names()) v.insert(s);
  for (const char* s : kNumbers) v.insert(s);
  return {v.begin(), v.end()};
}

std::vector<std::string> closed_answers() {
  std::vector<std::string> v;
  for (const auto& s : color_names()) v.push_back(s);
  for (const auto& s : shape_names()) v.push_back(s);
  for (const auto& s : size_names()) v.push_back(s);
  for (const char* s : kNumbers) v.push_back(s);
  v.push_back("yes");
  v.push_back("no");
  for (const char* s : kPositions) v.push_back(s);
  for (const auto& c : color_names())
    for (const auto& s : shape_names()) v.push_back(c + " " + s);
  v.push_back("nothing");
  return v;
}

// ---------------------------------------------------------------- questions

namespace {

// questions_for's templates, each adding its questions in the spec's order.
class Questions {
 public:
  explicit Questions(const Scene& sc)
      : sc_(sc), objs_(sc.objects), n_(int(objs_.size())), W_(sc.width()), H_(sc.height()) {
    ref_.resize(static_cast<size_t>(n_));
    ref_nc_ = ref_ns_ = ref_;
    for (int i = 0; i < n_; ++i) {
      ref_[size_t(i)] = referring_expression(sc, i);
      ref_nc_[size_t(i)] = referring_expression(sc, i, true, false);
      ref_ns_[size_t(i)] = referring_expression(sc, i, false, true);
    }
  }

  std::vector<Sample> take() { return std::move(out_); }

  void color() {
    for (int i = 0; i < n_; ++i)
      if (!ref_nc_[size_t(i)].empty())
        add("color", "color", "what color is " + ref_nc_[size_t(i)] + "?", objs_[size_t(i)].color, i);
  }

  void shape() {
    for (const auto& c : color_names()) {
      int k = -1, cnt = 0;
      for (int i = 0; i < n_; ++i)
        if (objs_[size_t(i)].color == c) k = i, ++cnt;
      if (cnt == 1) add("shape", "shape_color", "what shape is the " + c + " object?", objs_[size_t(k)].shape, k);
    }
    for (const auto& z : size_names()) {
      int k = -1, cnt = 0;
      for (int i = 0; i < n_; ++i)
        if (objs_[size_t(i)].size == z) k = i, ++cnt;
      if (cnt == 1) add("shape", "shape_size", "what shape is the " + z + " object?", objs_[size_t(k)].shape, k);
    }
  }

  void size() {
    for (int i = 0; i < n_; ++i)
      if (!ref_ns_[size_t(i)].empty()) {
        add("size", "size_what", "what size is " + ref_ns_[size_t(i)] + "?", objs_[size_t(i)].size, i);
        add("size", "size_or", "is " + ref_ns_[size_t(i)] + " small or large?", objs_[size_t(i)].size, i);
      }
  }

  void count_and_exist() {
    add("count", "count_all", "how many objects are there?", kNumbers[n_]);
    for (const auto& s : shape_names())
      add("count", "count_shape", "how many " + plural(s) + " are there?", kNumbers[count_if(&s, nullptr)]);
    for (const auto& c : color_names())
      add("count", "count_color", "how many " + c + " objects are there?", kNumbers[count_if(nullptr, &c)]);
    for (const auto& c : color_names())
      for (const auto& s : shape_names())
        add("count", "count_color_shape", "how many " + c + " " + plural(s) + " are there?",
            kNumbers[count_if(&s, &c)]);
    for (const auto& c : color_names())
      for (const auto& s : shape_names())
        add("exist", "exist_color_shape", "is there a " + c + " " + s + "?", count_if(&s, &c) ? "yes" : "no");
    for (const auto& s : shape_names())
      add("exist", "exist_shape", "is there a " + s + "?", count_if(&s, nullptr) ? "yes" : "no");
    for (const auto& c : color_names())
      add("exist", "exist_color", "are there any " + c + " objects?", count_if(nullptr, &c) ? "yes" : "no");
  }

  void position() {
    for (int i = 0; i < n_; ++i) {
      const auto& o = objs_[size_t(i)];
      if (ref_[size_t(i)].empty()) continue;
      const double mx = kRobust * W_, my = kRobust * H_;
      const bool robust = std::abs(o.cx - W_ / 3.0) > mx && std::abs(o.cx - 2.0 * W_ / 3.0) > mx &&
                          std::abs(o.cy - H_ / 3.0) > my && std::abs(o.cy - 2.0 * H_ / 3.0) > my;
      if (robust)
        add("position", "position", "where is " + ref_[size_t(i)] + "?", position_words(o.cx, o.cy, W_, H_), i);
    }
  }

  void relation() {
    const Dir dirs[] = {{"relation_left", "left of", true, -1},
                        {"relation_right", "right of", true, +1},
                        {"relation_above", "above", false, -1},
                        {"relation_below", "below", false, +1}};
    for (int i = 0; i < n_; ++i) {
      if (ref_[size_t(i)].empty()) continue;
      for (const auto& d : dirs) relation_towards(i, d);
    }
  }

  void compare() {
    for (int i = 0; i < n_; ++i)
      for (int j = 0; j < n_; ++j) {
        if (i == j) continue;
        const auto &a = objs_[size_t(i)], &b = objs_[size_t(j)];
        if (a.size != b.size && !ref_ns_[size_t(i)].empty() && !ref_ns_[size_t(j)].empty())
          add("compare", "compare_larger", "is " + ref_ns_[size_t(i)] + " larger than " + ref_ns_[size_t(j)] + "?",
              a.size == "large" ? "yes" : "no", i, j);
        if (!ref_nc_[size_t(i)].empty() && !ref_nc_[size_t(j)].empty())
          add("compare", "compare_color",
              "are " + ref_nc_[size_t(i)] + " and " + ref_nc_[size_t(j)] + " the same color?",
              a.color == b.color ? "yes" : "no", i, j);
        if (!ref_[size_t(i)].empty() && !ref_[size_t(j)].empty())
          add("compare", "compare_shape", "are " + ref_[size_t(i)] + " and " + ref_[size_t(j)] + " the same shape?",
              a.shape == b.shape ? "yes" : "no", i, j);
      }
  }

  void describe() {
    const std::string cap = caption(sc_);
    add("describe", "describe_image", "describe the image.", cap);
    add("describe", "describe_picture", "what is in the picture?", cap);
  }

 private:
  struct Dir {
    const char* tmpl;
    const char* words;
    bool horizontal;
    int sign;
  };

  void add(const std::string& type, const std::string& tmpl, const std::string& q, const std::string& a, int ref = -1,
           int ref2 = -1) {
    Sample s;
    s.type = type, s.tmpl = tmpl, s.question = q, s.answer = a, s.referred = ref, s.referred2 = ref2;
    out_.push_back(std::move(s));
  }

  int count_if(const std::string* shape, const std::string* color) const {
    int c = 0;
    for (const auto& o : objs_) c += (!shape || o.shape == *shape) && (!color || o.color == *color);
    return c;
  }

  // What is in direction `d` of object i: its nearest neighbour there, or nothing.
  void relation_towards(int i, const Dir& d) {
    const auto& r = objs_[size_t(i)];
    bool robust = true;
    std::vector<std::pair<double, int>> cand;
    for (int j = 0; j < n_; ++j) {
      if (j == i) continue;
      const auto& o = objs_[size_t(j)];
      const double delta = d.horizontal ? o.cx - r.cx : o.cy - r.cy;
      if (std::abs(delta) <= kRobust * (d.horizontal ? W_ : H_)) robust = false;
      if (delta * d.sign > 0) cand.emplace_back(std::hypot(double(o.cx - r.cx), double(o.cy - r.cy)), j);
    }
    if (!robust) return;
    std::sort(cand.begin(), cand.end());
    if (cand.size() >= 2 && !(cand[0].first <= kCloser * cand[1].first)) return;
    const std::string ans =
        cand.empty() ? "nothing" : objs_[size_t(cand[0].second)].color + " " + objs_[size_t(cand[0].second)].shape;
    add("relation", d.tmpl, std::string("what is ") + d.words + " " + ref_[size_t(i)] + "?", ans, i,
        cand.empty() ? -1 : cand[0].second);
  }

  const Scene& sc_;
  const std::vector<Object>& objs_;
  const int n_, W_, H_;
  std::vector<std::string> ref_, ref_nc_, ref_ns_;
  std::vector<Sample> out_;
};

}  // namespace

std::vector<Sample> questions_for(const Scene& sc) {
  Questions q(sc);
  q.color();
  q.shape();
  q.size();
  q.count_and_exist();
  q.position();
  q.relation();
  q.compare();
  q.describe();
  return q.take();
}

namespace {

// One of the scene's questions of `type` (nullptr: none): the template uniform, then
// the answers that would otherwise dominate ("no", "zero", "nothing") balanced;
// relations lean to objects because one-object scenes can only answer "nothing".
const Sample* pick_question(const std::vector<Sample>& qs, const std::string& type, Rng& rng) {
  std::vector<std::string> tmpls;
  for (const auto& q : qs)
    if (q.type == type && std::find(tmpls.begin(), tmpls.end(), q.tmpl) == tmpls.end()) tmpls.push_back(q.tmpl);
  if (tmpls.empty()) return nullptr;
  const std::string tmpl = tmpls[size_t(rng.below(int(tmpls.size())))];
  std::vector<const Sample*> pool, pos, neg;
  for (const auto& q : qs)
    if (q.tmpl == tmpl) {
      pool.push_back(&q);
      (q.answer == "no" || q.answer == "zero" || q.answer == "nothing" ? neg : pos).push_back(&q);
    }
  if (!pos.empty() && !neg.empty()) pool = rng.chance(type == "relation" ? 0.75 : 0.5) ? pos : neg;
  return pool[size_t(rng.below(int(pool.size())))];
}

void check_type(const std::string& type) {
  if (std::find(question_types().begin(), question_types().end(), type) == question_types().end())
    throw core::Error(core::ErrorCode::BadArgument, "shapes: unknown question type '" + type + "'");
}

// A scene with a question of `type`, that question, and (on request) all of the scene's.
Sample sample_of_type(Rng& rng, const std::string& type, const GenOptions& opt, std::vector<Sample>* all = nullptr) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Scene sc = render_scene(rng.next(), opt);
    std::vector<Sample> qs = questions_for(sc);
    const Sample* q = pick_question(qs, type, rng);
    if (!q) continue;
    Sample s = *q;
    s.scene = std::move(sc);
    if (all) *all = std::move(qs);
    return s;
  }
  throw core::Error(core::ErrorCode::Internal, "shapes: no scene with a '" + type + "' question");
}

}  // namespace

Sample make_sample(uint64_t seed, const GenOptions& opt) {
  Rng rng(seed);
  const std::string& type = question_types()[size_t(rng.below(int(question_types().size())))];
  return sample_of_type(rng, type, opt);
}

Sample make_sample_of_type(uint64_t seed, const std::string& type, const GenOptions& opt) {
  check_type(type);
  Rng rng(seed);
  return sample_of_type(rng, type, opt);
}

std::vector<Sample> make_samples_of_types(uint64_t seed, const std::vector<std::string>& types, const GenOptions& opt) {
  if (types.empty()) throw core::Error(core::ErrorCode::BadArgument, "shapes: no question types asked for");
  for (const auto& t : types) check_type(t);
  Rng rng(seed);
  std::vector<Sample> all;
  std::vector<Sample> out{sample_of_type(rng, types[0], opt, &all)};
  for (size_t i = 1; i < types.size(); ++i) {
    const Sample* q = pick_question(all, types[i], rng);
    if (!q) q = pick_question(all, types[0], rng);
    out.push_back(*q);
    out.back().scene = out[0].scene;
  }
  return out;
}

}  // namespace core::shapes
