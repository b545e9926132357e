#pragma once
// The shapes world (shared/spec/shapes-world.md): a deterministic generator of
// scenes with 1-5 coloured shapes, the questions the spec allows about them,
// their answers and the ground truth (boxes, masks, referred object).
//
// Torch-free and Qt-free (OpenCV + nlohmann-json). Randomness comes only from
// the Rng below (splitmix64-seeded xoshiro256**), never from <random>'s
// distributions, so a seed gives the same data with every standard library.
#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

namespace core::shapes {

// xoshiro256** seeded through splitmix64; identical output on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  double uniform();                      // [0, 1), 53 random bits
  double uniform(double lo, double hi);  // [lo, hi)
  int below(int n);                      // 0 .. n-1 (n >= 1)
  int range(int lo, int hi);             // lo .. hi inclusive
  bool chance(double p) { return uniform() < p; }

 private:
  uint64_t s_[4];
};
uint64_t splitmix64(uint64_t& state);              // advances state, returns the next output
uint64_t mix_seed(uint64_t seed, uint64_t index);  // independent sub-seed for item `index`

// Vocabulary of the world, in the spec's order.
const std::vector<std::string>& shape_names();     // circle square triangle star hexagon
const std::vector<std::string>& color_names();     // red green blue yellow purple orange gray black
const std::vector<cv::Vec3b>& color_rgb();         // the spec's RGB values, same order
const std::vector<std::string>& size_names();      // small large
const std::vector<std::string>& question_types();  // color shape size count exist position relation compare describe

struct Object {
  std::string shape, color, size;
  float cx = 0, cy = 0;  // centre of `box` (continuous pixel coordinates: box.x + box.width / 2)
  cv::Rect box;          // axis-aligned bbox of the mask's non-zero pixels
  cv::Mat mask;          // CV_8U, canvas size, 255 inside the shape (not antialiased)
  float rotation = 0;    // degrees; 0 for circles
  cv::Vec3b rgb;         // the jittered colour actually drawn
};

struct Scene {
  cv::Mat rgb;  // CV_8UC3, RGB channel order
  std::vector<Object> objects;
  int width() const { return rgb.cols; }
  int height() const { return rgb.rows; }
};

struct Sample {
  Scene scene;
  std::string question, type, answer;
  std::string tmpl;    // template id, e.g. "count_color_shape", "relation_left"
  int referred = -1;   // object asked about: color/shape/size/position, relation subject, compare first
  int referred2 = -1;  // compare's second object, the object a relation's answer names
};

struct GenOptions {
  int min_side = 64, max_side = 1024;  // canvas sides when vary_size (aspect 1:2 .. 2:1)
  bool vary_size = true;
  int fixed_w = 0, fixed_h = 0;  // both > 0: always this size (overrides vary_size)
  // When set, varied canvas sizes are drawn again until it accepts one (the trainer
  // keeps a batch's images to one patch grid).
  std::function<bool(int width, int height)> accept_canvas;
  // Relative odds of 1..5 objects; all 0 (the default): uniform, as the spec draws them.
  std::array<double, 5> object_odds{};
  // Neither vary_size nor fixed_*: min_side x min_side.
};

Scene render_scene(uint64_t seed, const GenOptions& = {});
// A canvas size drawn as render_scene draws it.
struct CanvasSize {
  int width = 0, height = 0;
};
CanvasSize canvas_size(Rng& rng, const GenOptions& = {});

// Every valid question for the scene (spec rules: unique referring expressions,
// the 3% robustness rule, the 12%-closer rule, sizes differing for "larger").
// Count/exist questions are listed for every colour/shape, present or not.
// The returned samples have an empty `scene` (it is the argument).
std::vector<Sample> questions_for(const Scene&);

// One sample. The type is drawn uniformly from the 9 types; scenes are redrawn
// (type kept) until one has a question of that type, so types stay balanced.
// Within the type the template is uniform; then, when the template has both,
// a "negative" answer (no / zero / nothing) and any other answer are equally likely
// (relations: an object 3 times in 4, since one-object scenes can only say "nothing").
Sample make_sample(uint64_t seed, const GenOptions& = {});
// The same with the type chosen by the caller (the trainer's curriculum).
Sample make_sample_of_type(uint64_t seed, const std::string& type, const GenOptions& = {});
// Several questions about one scene: the first as make_sample_of_type(seed, types[0]),
// each other of its type when the scene has one, else again of types[0]. The
// samples share the scene's pixels (cv::Mat headers of the same data).
std::vector<Sample> make_samples_of_types(uint64_t seed, const std::vector<std::string>& types, const GenOptions& = {});

// Referring expression for object i by the spec's order of preference, skipping
// expressions with a colour word (no_color) or a size word (no_size); "" if none is unique.
std::string referring_expression(const Scene&, int i, bool no_color = false, bool no_size = false);
// Position words of a point ("top left", "center", "right", ...).
std::string position_words(float x, float y, int width, int height);

// The share (0..1, CV_32F) of each cell of a rows x cols division of the canvas
// that a mask covers: the model's vision tokens (PreprocessSpec::input_size in patches).
cv::Mat cell_coverage(const cv::Mat& mask, int rows, int cols);

// Ground truth per cell of that grid. Row-major; for each cell {colour, shape,
// size} indices into color_names/shape_names/size_names of the object covering
// most of it (at least 20%), and that object's centre's column and row third
// (0 left/top, 1 centre, 2 right/bottom: the spec's position words); each is the
// list's size (3 for thirds) for background (under 2% covered), -1 for a cell
// only grazed by an object.
struct PatchLabel {
  int color, shape, size, column, row;
};
std::vector<PatchLabel> patch_labels(const Scene&, int rows, int cols);
// The same from each object's cell_coverage (in the scene's order), when the caller needs them too.
std::vector<PatchLabel> patch_labels(const Scene&, const std::vector<cv::Mat>& covers, int rows, int cols);
PatchLabel object_label(const Scene&, int object);  // the labels of one object's cells

// Where the heatmap of a question should lie, over the grid of `covers` (each
// object's cell_coverage, in the scene's order): the referred object's share of
// each cell, summing to 1, with `second_share` of it on the question's second
// object (referred2: a relation's answer, a comparison's other one), whose peak
// cell is kept at most 0.6 of the referred object's peak. Empty when the question
// refers to no object.
std::vector<float> grounding_target(const Sample&, const std::vector<cv::Mat>& covers, double second_share = 0);

std::string caption(const Scene&);  // "a large red circle, a small blue square and a small yellow star"
// True when both captions name the same multiset of (size, color, shape);
// order, punctuation, articles and "and" are ignored; any other word fails.
bool caption_matches(const std::string& a, const std::string& b);

std::vector<std::string> vocabulary();      // every word of questions/answers/captions + "?" "." ","
std::vector<std::string> closed_answers();  // every answer except captions

// {question, type, template, answer, referred, referred2, width, height,
//  objects: [{shape, color, size, center:[x,y], bbox:[x,y,w,h], rotation, rgb:[r,g,b]}]}
nlohmann::json to_json(const Sample&);

// DIR/images/000000.png, DIR/masks/000000_k.png (object k) and DIR/requests.jsonl,
// one to_json() line per sample plus "image" and "masks" (paths relative to DIR).
// Sample i uses make_sample(mix_seed(seed, i), opt). Throws core::Error (Io).
void write_dataset(const std::filesystem::path& dir, uint64_t seed, int count, const GenOptions& = {});

}  // namespace core::shapes
