#include <algorithm>
#include <cmath>
#include <thread>

#include "core/error.h"
#include "core/train/distributed.h"
#include "core/train/trainer.h"

namespace core::train {

double label_smoothing_floor(int64_t vocab, double eps) {
  // The entropy of the smoothed target: (1 - eps + eps/V) on the answer, eps/V elsewhere.
  const double v = static_cast<double>(vocab), hit = 1 - eps + eps / v, miss = eps / v;
  return -hit * std::log(hit) - (v - 1) * (miss > 0 ? miss * std::log(miss) : 0.0);
}

bool data_parallel_available() { return DataParallel::available(); }

TrainOptions preset(const std::string& name) {
  TrainOptions o;
  if (name != "default") throw Error(ErrorCode::BadArgument, "unknown preset '" + name + "' (known: default)");
  o.seed = 7;
  // The whole command stays within 45 minutes: start-up, the training loop, and the
  // calibration fit on 1500 held-out questions (about 15 s).
  o.minutes = 44.5;
  o.calibration_samples = 1500;
  // Four questions about each rendered image after stage 1: one vision pass (the larger
  // part of a step) serves all four. Measured side by side: 525 questions/s against 270
  // with one question an image and a batch of 32. 45 minutes: 1,332,192 questions about
  // 393,360 images answered 0.886 (relations 0.78, captions 0.60, shapes 0.88); the
  // previous preset's model answered 0.792 from 457,536 (on a slower machine, 170/s).
  // Eight questions an image (batch 128, 16 images a step): 785 questions/s but 0.869,
  // relations 0.70 and captions 0.58 (fewer images: 211k in stage 2 against 313k).
  o.batch = 64;
  o.questions_per_image = 4;
  o.lr = 1e-3;
  o.hidden = 96;
  // Measured over 45 minutes (one process each, side by side): a conv stem
  // (three stride-2 3x3 convolutions to the same 8-px tokens) answered 0.558
  // against 0.517 for the linear patch projection, and pointed at 0.73 against
  // 0.67, for about 1 ms more per image. At 128 px with 16-px tokens it did worse, twice:
  // 21% fewer samples a second and higher losses at every step (last tried with the refer head; killed after 20 minutes).
  // 96 px through strides 2, 2 and 3 to the same 8x8 tokens: a small object is 10 to 15
  // pixels wide instead of 6 to 10. With the faster step (2026-12-01), 45 minutes each,
  // seed 7: 96 px saw 1,529,504 questions and answered 0.886 (shapes 0.93, captions 0.65,
  // relations 0.61); 64 px saw 1,498,080 and answered 0.877 (shapes 0.87, captions 0.61,
  // relations 0.72). The 64-px model shipped before (slower step, 1.33 million questions)
  // also answered 0.886, with relations 0.78 and shapes 0.88. Runs of one preset differ by
  // up to 0.06 (0.886, 0.877 and 0.821 for 64 px, the last with seed 8), relations most
  // (0.54 to 0.78): compare presets over two seeds. Three fusion layers instead of two:
  // 22% fewer questions a second and 0.811 (relations 0.48, captions 0.45).
  // With relation grounding, most wrong captions name a small object's shape wrongly
  // (circle/hexagon, triangle/star, square/triangle), worst below 8 model pixels; but
  // 144 px through strides 2, 3 and 3 (seed 7, 45 minutes) saw 10% fewer questions and
  // answered 0.860 (shapes 0.87, captions 0.51) against 0.918.
  o.image_size = 96;
  o.patch = 12;
  o.stem = "conv";
  // The stride-3 convolution 5x5, padded, so each token reads its neighbours' edges
  // (3x3 tiles): lower losses at every step for 0.6% fewer questions a second. Seed 7,
  // 45 minutes, on days this machine ran about 10% slower than for the 3x3 model shipped
  // before (0.918 from 1,558,800 questions): 0.917 and 0.924 (shapes 0.955 and 0.945,
  // relations 0.807 and 0.835, captions 0.688 and 0.711, pointing 0.917/0.832 and
  // 0.919/0.835), where 3x3 answered 0.912 on the first of those days. Seed 8: 0.924
  // (relations 0.807, captions 0.725; 3x3 had answered 0.903). 7x7: 9% fewer questions
  // a second and no lower losses than 5x5 (stopped after 8,000 steps).
  o.stem_tile_kernel = 5;
  // The input keeps the image's aspect ratio: about 64 tokens in a grid shaped like the
  // canvas (11x6 for 2:1) instead of a squeezed 8x8. The 5x5 model's captions had been
  // right on 0.86 of near-square canvases but 0.53 of canvases 1.6:1 or longer, where
  // a small object was 5 model pixels across. Seed 7, 45 minutes (27,293 steps and
  // 1,493,264 questions, on a day about 8% faster than the 5x5 run's 25,343 steps;
  // 54 to 72 tokens cost what 64 did): 0.932 against 0.924, captions 0.71 -> 0.75,
  // shapes 0.945 -> 0.959, pointing 0.919/0.835 -> 0.956/0.860, zero-shot 0.94 -> 0.95;
  // on the analysis set's long canvases, shapes 0.885 -> 0.943 and captions 0.53 -> 0.64.
  // Seed 8 (1,444,848 questions): 0.932 where 5x5 answered 0.924 (relations 0.853, shapes
  // 0.973, captions 0.743).
  o.keep_aspect = true;
  // Training canvases of 64 to 192 pixels, where most of the evaluation's are larger and
  // downscaled (a small object's shape was wrong a little more often on canvases over
  // 400 pixels). Canvases up to 400 (seed 7, 45 minutes): rendering took 18% of the
  // questions a second (1,297,200 in all) and the model answered 0.889 (shapes 0.90,
  // captions 0.64, relations 0.69) against 0.918.
  o.canvas_max = 192;
  o.threads = 1;  // measured: 144 samples/s with one thread, 133 with two (the ops are small)
  // ... so the cores go to data-parallel processes instead: one per core, up to two
  // (each of two ranks takes 8 of a step's 16 images).
  o.ranks = DataParallel::available() ? static_cast<int>(std::clamp(std::thread::hardware_concurrency(), 1u, 2u)) : 1;
  // Per-patch attributes and positions (a training-only head), and the heatmap
  // grounding loss from the start: 0.447 -> 0.517 accuracy and pointing 0.39 -> 0.67.
  o.dense_weight = 1;
  // ... with object cells and background weighed alike: a small object covers one or
  // two of the 64 cells, so a plain mean taught mostly "background". Two ranks, 45 minutes:
  // 0.741 -> 0.792 accuracy, shape 0.70 -> 0.77, pointing 0.87 -> 0.90.
  o.dense_object_share = 0.5;
  // A cell is an object's only where it covers 20%: 10% of small objects (stars 25%,
  // triangles 16%) have no such cell at 8x8. Labelling each object's fullest cell as
  // well (from 4%) left 0.2% without one but answered 0.896 (captions 0.61, shapes
  // 0.923; 1,420,976 questions, the same slow day): reverted.
  o.ground_weight = 1;
  // The fused question names the referred object (a training-only head): one process,
  // 45 minutes, 280k samples: held-out accuracy 0.655 against 0.582 without it (294k).
  // For relations, naming the answer's object instead (or "none") took them from 0.46 to
  // 0.52 but captions from 0.38 to 0.34 and shapes from 0.77 to 0.75: 0.790 in all
  // against 0.792, so it was left out. Letting the decoder also read the image tokens
  // did worse: 0.766, relations 0.33, 2% fewer samples.
  o.refer_weight = 1;
  // The grounding target put all of a relation's heatmap on its subject, so the fusion
  // layer that should find the object in that direction was penalised for looking at
  // it. 0.4 of the target on the answer's object (its peak below the subject's): seed 7,
  // 45 minutes, 0.886 -> 0.918, relations 0.61 -> 0.77 (five-object scenes 0.29 -> 0.63),
  // captions 0.65 -> 0.74, pointing 0.921 -> 0.916; seed 8: 0.903, relations 0.78,
  // captions 0.64. The same for a comparison's second
  // object as well (--ground-compare 0.4): 0.905, comparisons 0.89 -> 0.92 but captions
  // 0.68 and counting 0.92; left out.
  o.ground_relation_share = 0.4;
  // Tried on a day this machine ran about 20% slower than for the shipped run (seed 7,
  // 45 minutes each, against its 0.932 from 27,293 steps), and left out: 8 learned query
  // tokens after the question (--queries 8; 21,006 steps, 2% fewer a minute than without):
  // 0.918, captions 0.78 but 0.726 on the analysis set (0.741), relations 0.73, counting
  // 0.93, ask p50 5.8 ms against 4.1; and drawing types by their loss above label
  // smoothing's floor (--curriculum excess; 22,593 steps): 0.926, relations 0.867 (the
  // best yet) but captions 0.71 (0.68 on the analysis set). On a slower day (AVX2 kernels
  // on a Zen 5), --curriculum-alpha 0.3 with excess: 17,458 steps, 0.893; --curriculum error
  // (by each type's running share of wrong answers): 19,180 steps, 0.907, relations 0.78,
  // captions 0.71. No same-day run of the preset itself. Those slow days were largely
  // page faults (configure_allocator, engine.h): with freed memory kept, the preset got
  // 28,642 steps on the same Zen 5 and answered 0.941 (3 beams; captions 0.77, relations
  // 0.86, shapes 0.99, ECE 0.014). The same day and code with types drawn by their
  // running share of wrong answers (--curriculum error) got 28,422 steps and 0.954:
  // relations 0.90, captions 0.85, ECE 0.017 (shipped). A type's loss stays near label
  // smoothing's floor once its answers are right, so drawing by loss spent steps on types
  // that were done; the error rate goes to zero with them. Run again: 27,761 steps, 0.932.
  // On 3000 other questions the three answer 0.945, 0.943 and (by loss) 0.948, captions
  // 0.83, 0.82 and 0.82: within a run's spread, not a proven gain. Scenes drawn by each
  // object count's error within a type as well (--curriculum-objects 0.6; 27,487 steps):
  // 0.942, captions 0.83; 0.949 and captions 0.86 on the 3000: left off.
  o.curriculum = "error";
  return o;
}

}  // namespace core::train
