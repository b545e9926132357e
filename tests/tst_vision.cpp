// Image decoding, PIL-exact preprocessing against the BLIP goldens, hostile
// files, and heatmap rendering.
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <random>

#include "core/error.h"
#include "core/io/safetensors.h"
#include "core/vision/image.h"
#include "testutil.h"

using core::Colormap;
using core::ErrorCode;
using core::Image;

namespace fs = std::filesystem;

namespace {

const char* kGoldenImages[] = {"grad_640x480", "grad_37x53", "pixel_1x1"};

using testutil::be32;
using testutil::crc32;
using testutil::png_chunk;
using testutil::with_exif_orientation;
std::string png_bomb(uint32_t w, uint32_t h) { return testutil::png_declaring(w, h); }

std::string encode(const cv::Mat& m, const std::string& ext, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  if (!cv::imencode(ext, m, buf, params)) return {};
  return std::string(buf.begin(), buf.end());
}

cv::Mat quadrants(int w, int h) {  // BGR: TL red, TR green, BL blue, BR white
  cv::Mat m(h, w, CV_8UC3);
  m(cv::Rect(0, 0, w / 2, h / 2)).setTo(cv::Scalar(0, 0, 255));
  m(cv::Rect(w / 2, 0, w - w / 2, h / 2)).setTo(cv::Scalar(0, 255, 0));
  m(cv::Rect(0, h / 2, w / 2, h - h / 2)).setTo(cv::Scalar(255, 0, 0));
  m(cv::Rect(w / 2, h / 2, w - w / 2, h - h / 2)).setTo(cv::Scalar(255, 255, 255));
  return m;
}

std::array<int, 3> pixel(const Image& img, int x, int y) {
  const uint8_t* p = &img.rgb[(size_t(y) * img.width + x) * 3];
  return {p[0], p[1], p[2]};
}

bool near(std::array<int, 3> a, std::array<int, 3> b, int tol) {
  for (int c = 0; c < 3; ++c)
    if (std::abs(a[c] - b[c]) > tol) return false;
  return true;
}

QString str(std::array<int, 3> p) { return QString("(%1,%2,%3)").arg(p[0]).arg(p[1]).arg(p[2]); }

Image from_bgr(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  Image img;
  img.width = rgb.cols;
  img.height = rgb.rows;
  img.rgb.assign(rgb.data, rgb.data + rgb.total() * 3);
  return img;
}

std::array<int, 3> colormap_rgb(Colormap c, uint8_t v) {
  static const int ids[] = {cv::COLORMAP_TURBO, cv::COLORMAP_JET, cv::COLORMAP_VIRIDIS, cv::COLORMAP_INFERNO};
  cv::Mat in(1, 1, CV_8U, cv::Scalar(v)), out;
  cv::applyColorMap(in, out, ids[int(c)]);
  const cv::Vec3b b = out.at<cv::Vec3b>(0, 0);
  return {b[2], b[1], b[0]};
}

core::Array make_map(int gh, int gw, float fill = 0.f) {
  core::Array a;
  a.shape = {gh, gw};
  a.data.assign(size_t(gh) * gw, fill);
  return a;
}

// Straight transcription of the README's resize description, for random sizes.
Image reference_resize(const Image& src, int out_w, int out_h) {
  auto cubic = [](double x) {
    x = std::fabs(x);
    if (x < 1) return (1.5 * x - 2.5) * x * x + 1;
    if (x < 2) return (((x - 5) * x + 8) * x - 4) * -0.5;
    return 0.0;
  };
  // One pass along an axis: in[n_in][m] -> out[n_out][m], m values per position.
  auto pass = [&](const std::vector<uint8_t>& in, int n_in, int n_out, int m, auto at) {
    std::vector<uint8_t> out(size_t(n_out) * m);
    const double scale = double(n_in) / n_out, fs = std::max(scale, 1.0), support = 2 * fs;
    for (int i = 0; i < n_out; ++i) {
      const double center = (i + 0.5) * scale;
      const int lo = std::max(int(center - support + 0.5), 0);
      const int hi = std::min(int(center + support + 0.5), n_in);
      std::vector<double> w;
      double sum = 0;
      for (int x = lo; x < hi; ++x) sum += w.emplace_back(cubic((x - center + 0.5) * (1.0 / fs)));
      std::vector<int64_t> k;
      for (double v : w) {
        v = sum != 0 ? v / sum : v;
        k.push_back(int64_t(v * (1 << 22) + (v < 0 ? -0.5 : 0.5)));
      }
      for (int j = 0; j < m; ++j) {
        int64_t acc = 1 << 21;
        for (int x = lo; x < hi; ++x) acc += int64_t(in[at(x, j)]) * k[size_t(x - lo)];
        out[size_t(i) * m + j] = uint8_t(std::clamp<int64_t>(acc >> 22, 0, 255));
      }
    }
    return out;
  };
  std::vector<uint8_t> cur = src.rgb;
  int w = src.width;
  if (out_w != w) {  // horizontal: position x, value j = (row, channel)
    std::vector<uint8_t> t =
        pass(cur, w, out_w, src.height * 3, [&](int x, int j) { return (size_t(j / 3) * w + x) * 3 + j % 3; });
    cur.assign(t.size(), 0);
    for (int x = 0; x < out_w; ++x)
      for (int j = 0; j < src.height * 3; ++j)
        cur[(size_t(j / 3) * out_w + x) * 3 + j % 3] = t[size_t(x) * src.height * 3 + j];
    w = out_w;
  }
  if (out_h != src.height)
    cur = pass(cur, src.height, out_h, w * 3, [&](int y, int j) { return size_t(y) * w * 3 + j; });
  Image out;
  out.width = out_w;
  out.height = out_h;
  out.rgb = std::move(cur);
  return out;
}

Image golden_rgb(const core::SafeTensors& st, const std::string& name) {
  const auto& info = st.info(name + ".rgb_u8");
  Image img;
  img.height = int(info.shape.at(0));
  img.width = int(info.shape.at(1));
  const uint8_t* d = st.data(name + ".rgb_u8");
  img.rgb.assign(d, d + info.numel());
  return img;
}

fs::path fixture(const char* name) { return fs::path(AUTOGLM_SOURCE_DIR) / "tests" / "data" / name; }

Image decode_bytes(const std::string& bytes, const std::string& label = "mem") {
  return core::decode_image_memory(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), label, {});
}

std::string le16(int v) { return {char(v & 0xFF), char(v >> 8 & 0xFF)}; }

uint32_t adler32(const std::string& bytes) {
  uint32_t a = 1, b = 0;
  for (unsigned char c : bytes) {
    a = (a + c) % 65521;
    b = (b + a) % 65521;
  }
  return b << 16 | a;
}

// A PNG of packed rows (filter 0) in stored (uncompressed) deflate blocks, for
// the layouts OpenCV cannot write (grey + alpha).
std::string png_raw(uint32_t w, uint32_t h, int depth, int colour_type, const std::string& rows) {
  const size_t stride = rows.size() / h;
  std::string raw;
  for (uint32_t y = 0; y < h; ++y) raw += '\0' + rows.substr(y * stride, stride);
  std::string z("\x78\x01", 2);
  for (size_t at = 0; at < raw.size(); at += 65535) {
    const size_t n = std::min<size_t>(65535, raw.size() - at);
    z += char(at + n == raw.size() ? 1 : 0) + le16(int(n)) + le16(int(~n & 0xFFFF)) + raw.substr(at, n);
  }
  z += be32(adler32(raw));
  const std::string ihdr = be32(w) + be32(h) + char(depth) + char(colour_type) + std::string(3, '\0');
  return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", ihdr) + png_chunk("IDAT", z) + png_chunk("IEND", "");
}

// ---- a small GIF encoder: real LZW, so that the decoder's string table, code
// width growth and clear codes are all exercised.

struct GifSpec {
  const char* name;
  int screen_w, screen_h;
  int left, top, w, h;  // the frame
  int colours;          // table size: a power of two, 2 to 256
  bool global, local;   // which colour tables are present (the frame uses the local one if any)
  bool interlaced;
  int transparent;  // -1: none
  int background;
  bool defer_clear;  // no clear code when the string table is full
};

const GifSpec kGifSpecs[] = {
    {"2 colours", 5, 3, 0, 0, 5, 3, 2, true, false, false, -1, 0, false},
    {"16 colours", 31, 17, 0, 0, 31, 17, 16, true, false, false, -1, 0, false},
    {"interlaced 13x11", 13, 11, 0, 0, 13, 11, 16, true, false, true, -1, 0, false},
    {"interlaced h=1", 7, 1, 0, 0, 7, 1, 4, true, false, true, -1, 0, false},
    {"interlaced h=2", 7, 2, 0, 0, 7, 2, 4, true, false, true, -1, 0, false},
    {"interlaced h=3", 7, 3, 0, 0, 7, 3, 4, true, false, true, -1, 0, false},
    {"interlaced h=5", 7, 5, 0, 0, 7, 5, 4, true, false, true, -1, 0, false},
    {"interlaced h=8", 7, 8, 0, 0, 7, 8, 4, true, false, true, -1, 0, false},
    {"interlaced h=9", 7, 9, 0, 0, 7, 9, 4, true, false, true, -1, 0, false},
    {"transparent index", 9, 7, 0, 0, 9, 7, 8, true, false, false, 3, 0, false},
    {"interlaced, transparent, local table, offset frame", 20, 15, 5, 4, 11, 9, 32, true, true, true, 7, 2, false},
    {"offset frame on the background colour", 12, 10, 3, 2, 5, 4, 8, true, false, false, -1, 6, false},
    {"frame clipped at the screen edge", 10, 8, 7, 6, 6, 5, 4, true, false, false, -1, 1, false},
    {"local table only", 6, 6, 1, 1, 4, 4, 4, false, true, false, -1, 0, false},
    {"background index past the table", 6, 6, 1, 1, 4, 4, 4, true, false, false, -1, 9, false},
    {"256 colours, clear codes", 120, 100, 0, 0, 120, 100, 256, true, false, false, -1, 0, false},
    {"256 colours, deferred clear", 120, 100, 0, 0, 120, 100, 256, true, false, true, 200, 0, true},
};

std::array<int, 3> gif_colour(int i, bool local) {
  return local ? std::array<int, 3>{(i * 53 + 11) & 255, (i * 97 + 3) & 255, (i * 191 + 100) & 255}
               : std::array<int, 3>{(i * 29 + 200) & 255, (i * 71 + 50) & 255, (i * 13 + 7) & 255};
}

// Frame indices, row-major in display order: runs and noise mixed.
std::vector<uint8_t> gif_indices(const GifSpec& s) {
  std::mt19937 rng(uint32_t(s.w * 131 + s.h));
  std::vector<uint8_t> idx(size_t(s.w) * s.h);
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = uint8_t(i > 0 && rng() % 3 == 0 ? idx[i - 1] : rng() % s.colours);
  return idx;
}

std::string gif_lzw(const std::vector<uint8_t>& idx, int min_size, bool defer_clear) {
  const int clear = 1 << min_size, end = clear + 1;
  std::string out;
  uint32_t acc = 0;
  int nacc = 0;
  // width and next follow the decoder: it adds a string for every code it reads
  // but the first after a clear, and reads one bit more once the next free
  // code needs it.
  int width = min_size + 1, next = end + 1;
  bool first = true;
  auto put = [&](int code) {
    acc |= uint32_t(code) << nacc;
    for (nacc += width; nacc >= 8; nacc -= 8, acc >>= 8) out.push_back(char(acc & 0xFF));
  };
  auto emit = [&](int code) {
    put(code);
    if (!first && next < 4096 && ++next == 1 << width && width < 12) ++width;
    first = false;
  };
  std::map<std::pair<int, int>, int> dict;
  int dict_next = end + 1;
  put(clear);
  int cur = idx[0];
  for (size_t i = 1; i < idx.size(); ++i) {
    const auto it = dict.find({cur, idx[i]});
    if (it != dict.end()) {
      cur = it->second;
      continue;
    }
    emit(cur);
    if (dict_next < 4096) {
      dict[{cur, idx[i]}] = dict_next++;
    } else if (!defer_clear) {
      put(clear);
      width = min_size + 1;
      next = dict_next = end + 1;
      first = true;
      dict.clear();
    }
    cur = idx[i];
  }
  emit(cur);
  put(end);
  if (nacc > 0) out.push_back(char(acc & 0xFF));
  return out;
}

std::string gif_sub_blocks(const std::string& data) {
  std::string out;
  for (size_t at = 0; at < data.size(); at += 255) {
    const size_t n = std::min<size_t>(255, data.size() - at);
    out += char(n) + data.substr(at, n);
  }
  return out + '\0';
}

std::string make_gif(const GifSpec& s) {
  int bits = 1;
  while ((1 << bits) < s.colours) ++bits;
  auto table = [&](bool local) {
    std::string t;
    for (int i = 0; i < s.colours; ++i)
      for (int c : gif_colour(i, local)) t += char(c);
    return t;
  };
  std::string g = "GIF89a" + le16(s.screen_w) + le16(s.screen_h);
  g += char(s.global ? 0x80 | (bits - 1) : 0) + std::string{char(s.background), '\0'};
  if (s.global) g += table(false);
  g += std::string("\x21\xFE", 2) + gif_sub_blocks("made by tst_vision");
  g += std::string("\x21\xFF\x0BNETSCAPE2.0\x03\x01\x00\x00\x00", 19);
  if (s.transparent >= 0) g += std::string("\x21\xF9\x04\x01\x00\x00", 6) + char(s.transparent) + '\0';
  g += ',' + le16(s.left) + le16(s.top) + le16(s.w) + le16(s.h);
  g += char((s.local ? 0x80 | (bits - 1) : 0) | (s.interlaced ? 0x40 : 0));
  if (s.local) g += table(true);
  std::vector<uint8_t> idx = gif_indices(s), stream;
  if (s.interlaced) {
    static const int start[] = {0, 4, 2, 1}, step[] = {8, 8, 4, 2};
    for (int pass = 0; pass < 4; ++pass)
      for (int y = start[pass]; y < s.h; y += step[pass])
        stream.insert(stream.end(), idx.begin() + y * s.w, idx.begin() + (y + 1) * s.w);
  } else {
    stream = idx;
  }
  const int min_size = std::max(bits, 2);
  g += char(min_size) + gif_sub_blocks(gif_lzw(stream, min_size, s.defer_clear));
  return g + ';';
}

// What the decoder must produce: the screen on white (transparent index) or the
// background colour, the frame on it, clipped to the screen.
Image gif_expected(const GifSpec& s) {
  Image img;
  img.width = s.screen_w;
  img.height = s.screen_h;
  std::array<int, 3> fill{255, 255, 255};
  if (s.transparent < 0 && s.global && s.background < s.colours) fill = gif_colour(s.background, false);
  for (int i = 0; i < s.screen_w * s.screen_h; ++i) img.rgb.insert(img.rgb.end(), fill.begin(), fill.end());
  const std::vector<uint8_t> idx = gif_indices(s);
  for (int y = 0; y < s.h; ++y)
    for (int x = 0; x < s.w; ++x) {
      const int sx = s.left + x, sy = s.top + y, i = idx[size_t(y) * s.w + x];
      if (sx >= s.screen_w || sy >= s.screen_h) continue;
      const auto c = i == s.transparent ? std::array<int, 3>{255, 255, 255} : gif_colour(i, s.local);
      std::copy(c.begin(), c.end(), &img.rgb[(size_t(sy) * s.screen_w + sx) * 3]);
    }
  return img;
}

// The 7x6 frame of tests/data/im_interlaced_transparent.gif (see README there).
std::array<int, 3> im_frame_colour(int x, int y) {
  static const int cols[8][3] = {{255, 0, 0},   {0, 255, 0},   {0, 0, 255},   {255, 255, 0},
                                 {0, 255, 255}, {255, 0, 255}, {128, 64, 32}, {0, 0, 0}};
  if ((x == 3 && y == 2) || (x == 0 && y == 5) || (x == 6 && y == 0)) return {255, 255, 255};
  const int* c = cols[(x + 2 * y) % 8];
  return {c[0], c[1], c[2]};
}

// {probed width, height, decoded width, height} of an encoded image ({-1, -1, ...} when the probe fails).
QList<int> probed_and_decoded(const std::string& bytes, const char* name) {
  const auto* d = reinterpret_cast<const uint8_t*>(bytes.data());
  int w = -1, h = -1;
  if (!core::probe_image_size(d, bytes.size(), &w, &h)) w = h = -1;
  const Image img = core::decode_image_memory(d, bytes.size(), name);
  return {w, h, img.width, img.height};
}

}  // namespace

class TstVision : public QObject {
  Q_OBJECT

  QTemporaryDir tmp_;

  fs::path write(const std::string& name, const std::string& bytes) {
    const fs::path p = fs::u8path(tmp_.path().toStdString()) / fs::u8path(name);
    testutil::write_file(p, bytes);
    return p;
  }

 private Q_SLOTS:
  void initTestCase() { QVERIFY(tmp_.isValid()); }

  // ---- goldens -----------------------------------------------------------

  void golden_decode_data() {
    QTest::addColumn<QString>("name");
    for (const char* n : kGoldenImages) QTest::newRow(n) << n;
  }
  void golden_decode() {
    REQUIRE_GOLDEN();
    QFETCH(QString, name);
    const auto dir = testutil::blip_dir();
    const auto st = core::SafeTensors::open(dir / "image_preprocess.safetensors");
    const Image want = golden_rgb(st, name.toStdString());
    const Image got = core::decode_image_file(dir / "images" / (name.toStdString() + ".png"));
    QCOMPARE(got.width, want.width);
    QCOMPARE(got.height, want.height);
    QVERIFY(got.rgb == want.rgb);
  }

  void golden_preprocess_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<int>("size");
    for (const char* n : kGoldenImages)
      for (int s : {32, 384}) QTest::newRow(qPrintable(QString("%1@%2").arg(n).arg(s))) << n << s;
  }
  void golden_preprocess() {
    REQUIRE_GOLDEN();
    QFETCH(QString, name);
    QFETCH(int, size);
    const auto st = core::SafeTensors::open(testutil::blip_dir() / "image_preprocess.safetensors");
    const std::string prefix = name.toStdString() + ".size" + std::to_string(size);
    const Image src = golden_rgb(st, name.toStdString());

    const Image resized = core::resize_pil_bicubic(src, size, size);
    QCOMPARE(resized.width, size);
    QCOMPARE(resized.height, size);
    const auto& ri = st.info(prefix + ".resized_u8");
    QCOMPARE(ri.shape, (std::vector<int64_t>{size, size, 3}));
    const uint8_t* want_u8 = st.data(prefix + ".resized_u8");
    int max_u8 = 0;
    for (size_t i = 0; i < resized.rgb.size(); ++i)
      max_u8 = std::max(max_u8, std::abs(int(resized.rgb[i]) - int(want_u8[i])));
    qInfo("%s resized_u8 max |diff| = %d", prefix.c_str(), max_u8);
    QCOMPARE(max_u8, 0);

    core::PreprocessSpec spec;
    spec.size = size;
    const std::vector<float> pv = core::preprocess(src, spec);
    const auto& pi = st.info(prefix + ".pixel_values");
    QCOMPARE(pi.shape, (std::vector<int64_t>{1, 3, size, size}));
    QCOMPARE(int64_t(pv.size()), pi.numel());
    std::vector<float> want(pv.size());
    std::memcpy(want.data(), st.data(prefix + ".pixel_values"), want.size() * sizeof(float));
    double max_pv = 0;
    for (size_t i = 0; i < pv.size(); ++i) max_pv = std::max(max_pv, double(std::fabs(pv[i] - want[i])));
    qInfo("%s pixel_values max |diff| = %g", prefix.c_str(), max_pv);
    QVERIFY(max_pv <= 1e-6);
  }

  // ---- resize ------------------------------------------------------------

  void resize_edge_cases() {
    Image one;
    one.width = one.height = 1;
    one.rgb = {200, 30, 90};
    const Image up = core::resize_pil_bicubic(one, 5, 3);
    QCOMPARE(up.width, 5);
    QCOMPARE(up.height, 3);
    for (int y = 0; y < 3; ++y)
      for (int x = 0; x < 5; ++x) QCOMPARE(pixel(up, x, y), (std::array<int, 3>{200, 30, 90}));
    const Image same = core::resize_pil_bicubic(one, 1, 1);
    QVERIFY(same.rgb == one.rgb);
    VERIFY_THROWS_MSG(core::resize_pil_bicubic(one, 0, 4), "bad output size");
    VERIFY_THROWS_MSG(core::resize_pil_bicubic(Image{}, 4, 4), "empty image");
    Image broken = one;
    broken.rgb.pop_back();
    VERIFY_THROWS_MSG(core::preprocess(broken, {}), "wrong size");
  }

  // keep_aspect: a grid of whole patches shaped like the image, about as many cells as
  // the square's (8 x 8 here), the aspect clamped to 1:4..4:1; otherwise always square.
  void preprocess_keep_aspect() {
    core::PreprocessSpec spec;
    spec.size = 96;
    spec.patch = 12;
    auto size_of = [&](int w, int h) {
      const auto s = spec.input_size(w, h);
      return std::array<int, 2>{s.width, s.height};
    };
    QCOMPARE(size_of(200, 100), (std::array<int, 2>{96, 96}));
    spec.keep_aspect = true;
    const int cases[][4] = {{500, 500, 96, 96},   {200, 100, 132, 72}, {100, 200, 72, 132}, {801, 506, 120, 72},
                            {3000, 100, 192, 48}, {1, 1000, 48, 192},  {65, 64, 96, 96}};
    for (const auto& c : cases) QCOMPARE(size_of(c[0], c[1]), (std::array<int, 2>{c[2], c[3]}));
    for (int w = 1; w <= 400; w += 7)
      for (int h = 1; h <= 400; h += 11) {
        const auto [ow, oh] = size_of(w, h);
        QVERIFY(ow % 12 == 0 && oh % 12 == 0);
        const int cells = ow / 12 * (oh / 12);
        QVERIFY2(cells >= 54 && cells <= 72, qPrintable(QString("%1x%2: %3 cells").arg(w).arg(h).arg(cells)));
      }
    Image img;
    img.width = 200;
    img.height = 100;
    img.rgb.assign(200 * 100 * 3, 128);
    QCOMPARE(core::preprocess(img, spec).size(), size_t(3 * 132 * 72));
    spec.patch = 7;
    VERIFY_THROWS_MSG(core::preprocess(img, spec), "not a multiple of the patch");
  }

  void resize_random_sizes() {
    std::mt19937 rng(3);
    const int sizes[][4] = {{5000, 7, 3, 7},      {7, 5000, 7, 2},  {1, 1, 384, 384},    {3, 2, 1, 1},
                            {640, 480, 384, 384}, {37, 53, 32, 32}, {100, 100, 99, 101}, {2, 300, 300, 2},
                            {1200, 900, 31, 17},  {30000, 2, 1, 1}};
    for (const auto& sz : sizes) {
      Image src;
      src.width = sz[0];
      src.height = sz[1];
      src.rgb.resize(size_t(sz[0]) * sz[1] * 3);
      for (auto& v : src.rgb) v = uint8_t(rng() % 2 ? 255 * (rng() % 2) : rng());  // harsh edges
      const Image got = core::resize_pil_bicubic(src, sz[2], sz[3]);
      const Image want = reference_resize(src, sz[2], sz[3]);
      QVERIFY2(got.rgb == want.rgb, qPrintable(QString("%1x%2 -> %3x%4").arg(sz[0]).arg(sz[1]).arg(sz[2]).arg(sz[3])));
    }
  }

  void resize_large_image() {
    Image big;
    big.width = 4000;
    big.height = 3000;
    big.rgb.resize(size_t(big.width) * big.height * 3);
    std::mt19937 rng(1);
    for (auto& v : big.rgb) v = uint8_t(rng());
    const Image out = core::resize_pil_bicubic(big, 384, 384);
    QCOMPARE(out.width, 384);
    QCOMPARE(out.height, 384);
    QCOMPARE(out.rgb.size(), size_t(384 * 384 * 3));
  }

  // ---- decoding ----------------------------------------------------------

  void formats_data() {
    QTest::addColumn<QString>("ext");
    QTest::addColumn<int>("quality");  // -1: the encoder's default
    QTest::addColumn<int>("tolerance");
    QTest::newRow("png") << ".png" << -1 << 0;
    QTest::newRow("bmp") << ".bmp" << -1 << 0;
    QTest::newRow("tiff") << ".tiff" << -1 << 0;
    QTest::newRow("webp lossless") << ".webp" << 101 << 0;
    QTest::newRow("webp lossy") << ".webp" << 75 << 40;
    QTest::newRow("ppm") << ".ppm" << -1 << 0;
    QTest::newRow("sunraster") << ".ras" << -1 << 0;
    QTest::newRow("jpeg") << ".jpg" << -1 << 40;
  }
  void formats() {
    QFETCH(QString, ext);
    QFETCH(int, quality);
    QFETCH(int, tolerance);
    if (!cv::haveImageWriter(ext.toStdString())) QSKIP("no OpenCV encoder for this format");
    const cv::Mat bgr = quadrants(38, 24);
    std::vector<int> params;
    if (quality >= 0) params = {ext == ".webp" ? cv::IMWRITE_WEBP_QUALITY : cv::IMWRITE_JPEG_QUALITY, quality};
    const std::string bytes = encode(bgr, ext.toStdString(), params);
    QVERIFY(!bytes.empty());
    if (ext == ".webp") QCOMPARE(bytes.substr(12, 4), std::string(quality > 100 ? "VP8L" : "VP8 "));
    int w = 0, h = 0;
    QVERIFY(core::probe_image_size(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &w, &h));
    QCOMPARE(w, 38);
    QCOMPARE(h, 24);
    const Image img = core::decode_image_file(write("fmt" + ext.toStdString(), bytes));
    QCOMPARE(img.width, 38);
    QCOMPARE(img.height, 24);
    const Image want = from_bgr(bgr);
    if (tolerance == 0) {
      QVERIFY(img.rgb == want.rgb);
      return;
    }
    for (int y : {2, 7, 17, 21})  // away from the quadrant edges that JPEG blurs
      for (int x : {2, 8, 14, 24, 30, 35})
        QVERIFY2(
            near(pixel(img, x, y), pixel(want, x, y), tolerance),
            qPrintable(QString("at %1,%2: %3 vs %4").arg(x).arg(y).arg(str(pixel(img, x, y)), str(pixel(want, x, y)))));
  }

  void png_16bit() {
    cv::Mat m(2, 3, CV_16UC3);
    const uint16_t vals[] = {0, 25700, 65535, 32896, 257, 65280};
    for (int i = 0; i < 6; ++i) m.at<cv::Vec3w>(i / 3, i % 3) = cv::Vec3w(vals[i], vals[i], vals[(i + 1) % 6]);
    const Image img = core::decode_image_file(write("deep.png", encode(m, ".png")));
    QCOMPARE(img.width, 3);
    QCOMPARE(img.height, 2);
    const int want[] = {0, 100, 255, 128, 1, 254};
    for (int i = 0; i < 6; ++i) {
      const auto p = pixel(img, i % 3, i / 3);
      QCOMPARE(p[2], want[i]);  // B, G = vals[i]; R = vals[i+1]
      QCOMPARE(p[1], want[i]);
      QCOMPARE(p[0], want[(i + 1) % 6]);
    }
  }

  void png_grey() {
    cv::Mat m(3, 4, CV_8UC1);
    for (int i = 0; i < 12; ++i) m.at<uint8_t>(i / 4, i % 4) = uint8_t(i * 20 + 7);
    const Image img = core::decode_image_file(write("grey.png", encode(m, ".png")));
    QCOMPARE(img.width, 4);
    QCOMPARE(img.height, 3);
    for (int i = 0; i < 12; ++i) {
      const int v = i * 20 + 7;
      QCOMPARE(pixel(img, i % 4, i / 4), (std::array<int, 3>{v, v, v}));
    }
  }

  void png_alpha_on_white() {
    cv::Mat m(1, 4, CV_8UC4);
    m.at<cv::Vec4b>(0, 0) = {10, 20, 30, 0};   // fully transparent
    m.at<cv::Vec4b>(0, 1) = {0, 0, 200, 255};  // opaque red
    m.at<cv::Vec4b>(0, 2) = {0, 0, 0, 128};    // half black
    m.at<cv::Vec4b>(0, 3) = {255, 0, 100, 51};
    const Image img = core::decode_image_file(write("alpha.png", encode(m, ".png")));
    QCOMPARE(img.width, 4);
    QCOMPARE(pixel(img, 0, 0), (std::array<int, 3>{255, 255, 255}));
    QCOMPARE(pixel(img, 1, 0), (std::array<int, 3>{200, 0, 0}));
    QCOMPARE(pixel(img, 2, 0), (std::array<int, 3>{127, 127, 127}));
    QCOMPARE(pixel(img, 3, 0), (std::array<int, 3>{224, 204, 255}));
  }

  void png_grey_alpha_data() {
    QTest::addColumn<int>("depth");
    QTest::newRow("8-bit") << 8;
    QTest::newRow("16-bit") << 16;
  }
  void png_grey_alpha() {
    QFETCH(int, depth);
    const int px[4][2] = {{10, 0}, {200, 255}, {0, 128}, {100, 51}};  // grey, alpha
    std::string rows;
    for (const auto& p : px)
      for (int v : p) rows += depth == 8 ? std::string(1, char(v)) : std::string{char(v), char(v)};  // v * 257
    const Image img = core::decode_image_file(write("grey_alpha.png", png_raw(4, 1, depth, 4, rows)));
    QCOMPARE(img.width, 4);
    QCOMPARE(img.height, 1);
    const int want[] = {255, 200, 127, 224};  // on white, as png_alpha_on_white
    for (int x = 0; x < 4; ++x) QCOMPARE(pixel(img, x, 0), (std::array<int, 3>{want[x], want[x], want[x]}));
  }

  // tests/data/cmyk.jpg: ImageMagick's CMYK conversion (Adobe, inverted) of
  // four 8x8 quadrants.
  void cmyk_jpeg() {
    const Image img = core::decode_image_file(fixture("cmyk.jpg"));
    QCOMPARE(img.width, 16);
    QCOMPARE(img.height, 16);
    const std::array<int, 3> want[4] = {{255, 0, 0}, {0, 160, 0}, {30, 60, 200}, {255, 255, 255}};
    for (int q = 0; q < 4; ++q) {
      const auto got = pixel(img, q % 2 ? 12 : 3, q / 2 ? 12 : 3);
      QVERIFY2(near(got, want[q], 12), qPrintable(QString("quadrant %1: %2").arg(q).arg(str(got))));
    }
  }

  void exif_orientation_data() {
    QTest::addColumn<int>("orientation");
    QTest::addColumn<bool>("little_endian");
    QTest::addColumn<bool>("swapped");
    // Expected colours at TL, TR, BL, BR of the displayed image (r, g, b, w).
    QTest::addColumn<QString>("corners");
    QTest::newRow("1") << 1 << false << false << "rgbw";
    QTest::newRow("3") << 3 << true << false << "wbgr";
    QTest::newRow("6 big-endian") << 6 << false << true << "brwg";
    QTest::newRow("6 little-endian") << 6 << true << true << "brwg";
    QTest::newRow("8") << 8 << false << true << "gwrb";
  }
  void exif_orientation() {
    QFETCH(int, orientation);
    QFETCH(bool, little_endian);
    QFETCH(bool, swapped);
    QFETCH(QString, corners);
    const std::string jpeg = with_exif_orientation(encode(quadrants(40, 20), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95}),
                                                   orientation, little_endian);
    const Image img = core::decode_image_file(write("exif.jpg", jpeg));
    QCOMPARE(img.width, swapped ? 20 : 40);
    QCOMPARE(img.height, swapped ? 40 : 20);
    const int qx = img.width / 4, qy = img.height / 4;
    const std::array<int, 3> pts[4] = {pixel(img, qx, qy), pixel(img, 3 * qx, qy), pixel(img, qx, 3 * qy),
                                       pixel(img, 3 * qx, 3 * qy)};
    for (int i = 0; i < 4; ++i) {
      std::array<int, 3> want{};
      switch (corners[i].toLatin1()) {
        case 'r':
          want = {255, 0, 0};
          break;
        case 'g':
          want = {0, 255, 0};
          break;
        case 'b':
          want = {0, 0, 255};
          break;
        default:
          want = {255, 255, 255};
      }
      QVERIFY2(near(pts[i], want, 30), qPrintable(QString("corner %1: %2").arg(i).arg(str(pts[i]))));
    }
  }

  void unicode_path() {
    const fs::path dir = fs::u8path(tmp_.path().toStdString()) / fs::u8path(u8"图片 目录");
    fs::create_directories(dir);
    const fs::path p = dir / fs::u8path(u8"测试 图像 1.png");
    testutil::write_file(p, encode(quadrants(6, 4), ".png"));
    const Image img = core::decode_image_file(p);
    QCOMPARE(img.width, 6);
    QCOMPARE(pixel(img, 0, 0), (std::array<int, 3>{255, 0, 0}));

    const fs::path out = dir / fs::u8path(u8"热图 输出.png");
    core::save_png(img, out);
    const Image back = core::decode_image_file(out);
    QVERIFY(back.rgb == img.rgb);

    VERIFY_THROWS_MSG(core::decode_image_file(dir / fs::u8path(u8"不存在.png")), u8"不存在.png: no such file");
  }

  void hostile_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("needle");

    QTest::newRow("zero bytes") << QByteArray() << int(ErrorCode::BadImage) << "empty file (0 bytes)";
    std::mt19937 rng(7);
    QByteArray garbage(5000, '\0');
    for (auto& c : garbage) c = char(rng());
    garbage[0] = 'x';
    QTest::newRow("garbage") << garbage << int(ErrorCode::BadImage) << "not an image or corrupt";

    const std::string png = encode(quadrants(300, 200), ".png", {cv::IMWRITE_PNG_COMPRESSION, 0});
    QTest::newRow("truncated png") << QByteArray::fromStdString(png.substr(0, png.size() / 2))
                                   << int(ErrorCode::BadImage) << "not an image or corrupt";
    QTest::newRow("png signature only") << QByteArray::fromStdString(png.substr(0, 12)) << int(ErrorCode::BadImage)
                                        << "unreadable PNG header";
    const std::string jpg = encode(quadrants(300, 200), ".jpg");
    QTest::newRow("truncated jpeg") << QByteArray::fromStdString(jpg.substr(0, jpg.size() * 2 / 3))
                                    << int(ErrorCode::BadImage) << "truncated JPEG";

    QTest::newRow("png 30000x30000") << QByteArray::fromStdString(png_bomb(30000, 30000))
                                     << int(ErrorCode::ImageTooLarge) << "30000x30000";
    QTest::newRow("png 2^31-1 wide") << QByteArray::fromStdString(png_bomb(0x7FFFFFFF, 1))
                                     << int(ErrorCode::ImageTooLarge) << "above the limit of 64000000";

    std::string jbomb = jpg;  // patch the SOF0 frame size to 65535x65535
    const size_t sof = jbomb.find("\xFF\xC0");
    QVERIFY(sof != std::string::npos);
    jbomb.replace(sof + 5, 4, "\xFF\xFF\xFF\xFF");
    QTest::newRow("jpeg 65535x65535") << QByteArray::fromStdString(jbomb) << int(ErrorCode::ImageTooLarge)
                                      << "65535x65535";

    QByteArray gif("GIF89a\x30\x75\x30\x75\x00\x00\x00", 13);  // 30000 x 30000
    QTest::newRow("gif 30000x30000") << gif << int(ErrorCode::ImageTooLarge) << "30000x30000";
    QByteArray bmp = QByteArray::fromStdString(encode(quadrants(4, 4), ".bmp"));
    bmp.replace(18, 8, QByteArray("\x40\x9c\x00\x00\xc0\x63\xff\xff", 8));  // 40000 x -40000
    QTest::newRow("bmp 40000x40000") << bmp << int(ErrorCode::ImageTooLarge) << "40000x40000";
  }
  void hostile() {
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    QFETCH(QString, needle);
    const fs::path p = write("hostile input.png", bytes.toStdString());
    bool thrown = false;
    try {
      core::decode_image_file(p);
    } catch (const core::Error& e) {
      thrown = true;
      const QString msg = QString::fromUtf8(e.what());
      QVERIFY2(msg.contains(needle), qPrintable(msg));
      QVERIFY2(msg.contains("hostile input.png"), qPrintable(msg));
      QCOMPARE(int(e.code()), code);
    }
    QVERIFY(thrown);
    // The same bytes from memory behave the same.
    try {
      core::decode_image_memory(reinterpret_cast<const uint8_t*>(bytes.constData()), size_t(bytes.size()), "mem", {});
      QFAIL("decode_image_memory accepted it");
    } catch (const core::Error& e) {
      QCOMPARE(int(e.code()), code);
    }
  }

  void jpeg_probe_skips_ff00_like_libjpeg() {
    // Found by fuzz_image: "FF 00" before the first segment is stray bytes to libjpeg.
    // Read as a marker with a length, it made the probe jump into a comment's payload
    // and take a fake 16x9 frame header there for the size of a 40x30 image, so the
    // pixel limit was judged on the wrong size.
    std::string bytes = encode(quadrants(40, 30), ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
    const std::string fake_sof("\xFF\xC0\x00\x11\x08\x00\x09\x00\x10\x03\x01\x22\x00\x02\x11\x01\x03", 17);
    const std::string junk = std::string("\xFF\x00\x00\x06", 4) + std::string("\xFF\xFE\x00\x13", 4) + fake_sof;
    bytes.insert(2, junk);
    QCOMPARE(probed_and_decoded(bytes, "junk.jpg"), (QList<int>{40, 30, 40, 30}));
  }

  void pnm_probe_reads_numbers_like_opencv() {
    // Found by fuzz_image: OpenCV consumes the byte after a number whatever it is,
    // so in "P6\n1#6\n3 " the '#' starts no comment: 1 wide, 6 high, maxval 3.
    // The probe took 1x3 and judged the pixel limit on half the image.
    const std::string header("P6\n1#6\n3 ", 9);
    QCOMPARE(probed_and_decoded(header + std::string(1 * 6 * 3, '\x02'), "hash.ppm"), (QList<int>{1, 6, 1, 6}));
    // A comment where a number may start is still skipped, up to the end of its line.
    const std::string commented =
        std::string("P6\n# made by hand\n2 # width\n3\n255\n") + std::string(2 * 3 * 3, '\x40');
    QCOMPARE(probed_and_decoded(commented, "c.ppm"), (QList<int>{2, 3, 2, 3}));
  }

  void png_bomb_probe() {
    const std::string bomb = png_bomb(30000, 30000);
    int w = 0, h = 0;
    QVERIFY(core::probe_image_size(reinterpret_cast<const uint8_t*>(bomb.data()), bomb.size(), &w, &h));
    QCOMPARE(w, 30000);
    QCOMPARE(h, 30000);
    core::DecodeLimits lim;
    lim.max_pixels = 100;
    const std::string small = encode(quadrants(20, 10), ".png");
    VERIFY_THROWS_MSG(
        core::decode_image_memory(reinterpret_cast<const uint8_t*>(small.data()), small.size(), "small.png", lim),
        "20x10 pixels (200), above the limit of 100 pixels");
  }

  void file_limits() {
    const fs::path p = write("big.png", encode(quadrants(20, 10), ".png"));
    core::DecodeLimits lim;
    lim.max_file_bytes = 50;
    try {
      core::decode_image_file(p, lim);
      QFAIL("accepted");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::ImageTooLarge);
      QVERIFY2(std::string(e.what()).find("above the limit of 50 bytes") != std::string::npos, e.what());
    }
  }

  void gif_pixel_data() {
    QTest::addColumn<QByteArray>("hex");
    QTest::addColumn<int>("rgb");
    // 1x1, global table {red, black}, the pixel index 0; a Graphic Control
    // Extension with and without the transparent flag.
    QTest::newRow("GIF89a")
        << QByteArray("47494638396101000100800000ff000000000021f90400000000002c00000000010001000002024401003b")
        << 0xFF0000;
    QTest::newRow("GIF89a, index 0 transparent")
        << QByteArray("47494638396101000100800000ff000000000021f90401000000002c00000000010001000002024401003b")
        << 0xFFFFFF;
    QTest::newRow("GIF87a") << QByteArray(
                                   "47494638376101000100800000ff0000000000"
                                   "2c00000000010001000002024401003b")
                            << 0xFF0000;
  }
  void gif_pixel() {
    QFETCH(QByteArray, hex);
    QFETCH(int, rgb);
    const QByteArray gif = QByteArray::fromHex(hex);
    int w = 0, h = 0;
    QVERIFY(core::probe_image_size(reinterpret_cast<const uint8_t*>(gif.constData()), size_t(gif.size()), &w, &h));
    QCOMPARE(w, 1);
    QCOMPARE(h, 1);
    const Image img = core::decode_image_file(write("pixel.gif", gif.toStdString()));
    QCOMPARE(img.width, 1);
    QCOMPARE(img.height, 1);
    QCOMPARE(pixel(img, 0, 0), (std::array<int, 3>{rgb >> 16, rgb >> 8 & 255, rgb & 255}));
  }

  void gif_encoded_data() {
    QTest::addColumn<int>("spec");
    for (const GifSpec& s : kGifSpecs) QTest::newRow(s.name) << int(&s - kGifSpecs);
  }
  void gif_encoded() {
    QFETCH(int, spec);
    const GifSpec& s = kGifSpecs[spec];
    const Image got = decode_bytes(make_gif(s));
    const Image want = gif_expected(s);
    QCOMPARE(got.width, want.width);
    QCOMPARE(got.height, want.height);
    for (int y = 0; y < want.height; ++y)
      for (int x = 0; x < want.width; ++x)
        if (pixel(got, x, y) != pixel(want, x, y))
          QFAIL(qPrintable(
              QString("at %1,%2: %3, expected %4").arg(x).arg(y).arg(str(pixel(got, x, y)), str(pixel(want, x, y)))));
  }

  // Files written by ImageMagick (tests/data/README.md says how).
  void gif_imagemagick() {
    const Image a = core::decode_image_file(fixture("im_interlaced_transparent.gif"));
    QCOMPARE(a.width, 10);  // the logical screen; the 7x6 frame is at (2, 1)
    QCOMPARE(a.height, 8);
    for (int y = 0; y < 8; ++y)
      for (int x = 0; x < 10; ++x) {
        const bool in = x >= 2 && x < 9 && y >= 1 && y < 7;
        const auto want = in ? im_frame_colour(x - 2, y - 1) : std::array<int, 3>{255, 255, 255};
        QVERIFY2(pixel(a, x, y) == want, qPrintable(QString("at %1,%2: %3").arg(x).arg(y).arg(str(pixel(a, x, y)))));
      }

    const Image b = core::decode_image_file(fixture("im_251_colours.gif"));
    QCOMPARE(b.width, 96);
    QCOMPARE(b.height, 64);
    for (int y = 0; y < 64; ++y)
      for (int x = 0; x < 96; ++x) {
        const int i = (x * x * 31 + y * 17 + x * y * 7 + (x ^ y) * 3) % 251;
        const std::array<int, 3> want{i, i * 37 % 256, (i * 101 + 7) % 256};
        QVERIFY2(pixel(b, x, y) == want, qPrintable(QString("at %1,%2: %3").arg(x).arg(y).arg(str(pixel(b, x, y)))));
      }

    const Image c = core::decode_image_file(fixture("im_animated.gif"));  // the first frame of two
    QCOMPARE(c.width, 8);
    QCOMPARE(c.height, 4);
    for (int y = 0; y < 4; ++y)
      for (int x = 0; x < 8; ++x)
        QCOMPARE(pixel(c, x, y), (x < 4 ? std::array<int, 3>{255, 0, 0} : std::array<int, 3>{0, 0, 255}));
  }

  void gif_truncated_data() {
    QTest::addColumn<QString>("file");
    QTest::addColumn<int>("cut");
    QTest::addColumn<QString>("needle");
    // im_interlaced_transparent.gif: header 0-12, colour table 13-60, graphic
    // control extension 61-68, image descriptor 69-78, LZW code size 79, one
    // data sub-block 80-99, terminator 100, trailer 101.
    const QString f = "im_interlaced_transparent.gif";
    QTest::newRow("before the screen size") << f << 8 << "unreadable GIF header";
    QTest::newRow("in the screen descriptor") << f << 12 << "corrupt GIF (truncated header)";
    QTest::newRow("in the colour table") << f << 30 << "corrupt GIF (truncated colour table)";
    QTest::newRow("after the colour table") << f << 61 << "corrupt GIF (truncated file before the first image)";
    QTest::newRow("in an extension") << f << 64 << "corrupt GIF (truncated extension)";
    QTest::newRow("in the image descriptor") << f << 72 << "corrupt GIF (truncated image descriptor)";
    QTest::newRow("before the LZW code size") << f << 79 << "corrupt GIF (truncated image data)";
    QTest::newRow("in the first sub-block") << f << 85 << "corrupt GIF (truncated image data)";
    QTest::newRow("2 bytes before the terminator") << f << 98 << "corrupt GIF (truncated image data)";
    QTest::newRow("251 colours, half the data") << "im_251_colours.gif" << 4500 << "corrupt GIF (truncated image data)";
  }
  void gif_truncated() {
    QFETCH(QString, file);
    QFETCH(int, cut);
    QFETCH(QString, needle);
    const std::string bytes = testutil::read_file(fixture(file.toStdString().c_str()));
    QVERIFY(bytes.size() > size_t(cut));
    try {
      decode_bytes(bytes.substr(0, size_t(cut)), "cut.gif");
      QFAIL("decoded a truncated GIF");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::BadImage);
      const QString msg = QString::fromUtf8(e.what());
      QVERIFY2(msg.startsWith("cut.gif: ") && msg.contains(needle), qPrintable(msg));
    }
  }

  // Every prefix of the files above and of the small generated ones: an error
  // or the whole image, never a crash; once a prefix decodes, the longer ones
  // do too, and only the last bytes (end code, block terminator, trailer) may
  // be missing from one that decodes.
  void gif_every_cut() {
    std::vector<std::string> files = {testutil::read_file(fixture("im_interlaced_transparent.gif")),
                                      testutil::read_file(fixture("im_251_colours.gif"))};
    for (const GifSpec& s : kGifSpecs)
      if (s.w * s.h <= 400) files.push_back(make_gif(s));
    for (const std::string& bytes : files) {
      QVERIFY(!bytes.empty());
      const Image whole = decode_bytes(bytes);
      size_t first_ok = bytes.size();
      for (size_t cut = 0; cut < bytes.size(); ++cut) {
        try {
          const Image img = decode_bytes(bytes.substr(0, cut), "cut.gif");
          first_ok = std::min(first_ok, cut);
          QVERIFY(img.rgb == whole.rgb);
        } catch (const core::Error& e) {
          QVERIFY2(first_ok == bytes.size(),
                   qPrintable(QString("a cut at %1 fails, one at %2 decoded").arg(cut).arg(first_ok)));
          QCOMPARE(e.code(), ErrorCode::BadImage);
          QVERIFY2(std::string(e.what()).rfind("cut.gif: ", 0) == 0, e.what());
        }
      }
      QVERIFY2(bytes.size() - first_ok >= 1 && bytes.size() - first_ok <= 4,
               qPrintable(QString("%1 bytes, the first decoding prefix has %2").arg(bytes.size()).arg(first_ok)));
    }
  }

  void gif_corrupt_data() {
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("needle");
    GifSpec wide{"", 4, 4, 0, 0, 5, 4, 4, true, false, false, -1, 0, false};
    QTest::newRow("frame wider than the screen")
        << QByteArray::fromStdString(make_gif(wide)) << "corrupt GIF (frame of 5x4 pixels larger than the 4x4 screen)";
    GifSpec tall = wide;
    tall.w = 4;
    tall.h = 5;
    QTest::newRow("frame taller than the screen")
        << QByteArray::fromStdString(make_gif(tall)) << "corrupt GIF (frame of 4x5 pixels larger than the 4x4 screen)";
    // 1x1, table {red, black}; then what follows.
    const QByteArray head = QByteArray::fromHex("47494638396101000100800000ff0000000000");
    const QByteArray desc = QByteArray::fromHex(
        "2c0000000001000100"
        "00");
    QTest::newRow("code above the next free code")
        << head + desc + QByteArray::fromHex("02013c003b") << "corrupt GIF (bad LZW code)";
    QTest::newRow("LZW code size 12") << head + desc + QByteArray::fromHex("0c024401003b")
                                      << "corrupt GIF (LZW code size 12)";
    QTest::newRow("LZW code size 0") << head + desc + QByteArray::fromHex("00024401003b")
                                     << "corrupt GIF (LZW code size 0)";
    QTest::newRow("trailer before any image") << head + ";"
                                              << "corrupt GIF (no image)";
    QTest::newRow("unknown block") << head + "\x99"
                                   << "corrupt GIF (unknown block type 153)";
    QTest::newRow("no colour table") << QByteArray::fromHex(
                                            "474946383961010001000000002c00000000010001000002024401003b")
                                     << "corrupt GIF (no colour table)";
  }
  void gif_corrupt() {
    QFETCH(QByteArray, bytes);
    QFETCH(QString, needle);
    try {
      decode_bytes(bytes.toStdString(), "bad.gif");
      QFAIL("decoded");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::BadImage);
      const QString msg = QString::fromUtf8(e.what());
      QVERIFY2(msg.startsWith("bad.gif: ") && msg.contains(needle), qPrintable(msg));
    }
  }

  void not_files() {
    const fs::path root = fs::u8path(tmp_.path().toStdString());
    const fs::path dir = root / "a folder.png";
    fs::create_directories(dir);
    try {
      core::decode_image_file(dir);
      QFAIL("accepted a directory");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::Io);
      QVERIFY2(std::string(e.what()).find("a folder.png: is a directory") != std::string::npos, e.what());
    }
    try {
      core::decode_image_file(root / "missing.jpg");
      QFAIL("accepted a missing file");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::Io);
      QVERIFY2(std::string(e.what()).find("missing.jpg: no such file") != std::string::npos, e.what());
    }
  }

  // ---- heatmaps ----------------------------------------------------------

  void heatmap_size_and_peak_data() {
    QTest::addColumn<int>("cmap");
    for (Colormap c : {Colormap::Turbo, Colormap::Jet, Colormap::Viridis, Colormap::Inferno})
      QTest::newRow(core::colormap_name(c)) << int(c);
  }
  void heatmap_size_and_peak() {
    QFETCH(int, cmap);
    const Colormap c = Colormap(cmap);
    core::Array map = make_map(5, 5, 0.1f);
    map.data[1 * 5 + 3] = 0.9f;  // row 1, column 3
    // Scale 5: output pixel (5i + 2) samples cell i exactly.
    const Image h = core::render_heatmap(map, 25, 25, c);
    QCOMPARE(h.width, 25);
    QCOMPARE(h.height, 25);
    QCOMPARE(h.rgb.size(), size_t(25 * 25 * 3));
    QCOMPARE(pixel(h, 17, 7), colormap_rgb(c, 255));
    QCOMPARE(pixel(h, 2, 22), colormap_rgb(c, 0));

    const Image wide = core::render_heatmap(map, 640, 480, c);
    QCOMPARE(wide.width, 640);
    QCOMPARE(wide.height, 480);
  }

  void heatmap_constant_and_nan() {
    const auto lowest = colormap_rgb(Colormap::Turbo, 0);
    for (float v : {0.f, 3.5f, -1e30f}) {
      const Image h = core::render_heatmap(make_map(3, 4, v), 7, 5, Colormap::Turbo);
      for (int y = 0; y < 5; ++y)
        for (int x = 0; x < 7; ++x) QCOMPARE(pixel(h, x, y), lowest);
    }
    core::Array map = make_map(2, 2, std::nanf(""));
    const Image all_nan = core::render_heatmap(map, 4, 4, Colormap::Jet);
    QCOMPARE(pixel(all_nan, 1, 1), colormap_rgb(Colormap::Jet, 0));
    map.data = {0.f, std::nanf(""), INFINITY, 1.f};
    const Image mixed = core::render_heatmap(map, 2, 2, Colormap::Jet);
    QCOMPARE(pixel(mixed, 1, 0), colormap_rgb(Colormap::Jet, 0));
    QCOMPARE(pixel(mixed, 1, 1), colormap_rgb(Colormap::Jet, 255));
  }

  void overlay() {
    const Image base = from_bgr(quadrants(30, 20));
    core::Array map = make_map(2, 3);
    map.data = {0, 1, 2, 3, 4, 5};
    const Image o0 = core::render_overlay(base, map, Colormap::Viridis, 0.f);
    QVERIFY(o0.rgb == base.rgb);
    QVERIFY(core::render_overlay(base, map, Colormap::Viridis, -2.f).rgb == base.rgb);
    const Image heat = core::render_heatmap(map, 30, 20, Colormap::Viridis);
    QVERIFY(core::render_overlay(base, map, Colormap::Viridis, 1.f).rgb == heat.rgb);
    QVERIFY(core::render_overlay(base, map, Colormap::Viridis, 7.f).rgb == heat.rgb);
    const Image half = core::render_overlay(base, map, Colormap::Viridis, 0.5f);
    QCOMPARE(half.width, 30);
    QCOMPARE(half.height, 20);
    for (size_t i = 0; i < half.rgb.size(); ++i)
      QVERIFY(std::abs(int(half.rgb[i]) - (int(base.rgb[i]) + int(heat.rgb[i])) / 2) <= 1);
  }

  void bad_maps() {
    core::Array rank1;
    rank1.shape = {4};
    rank1.data.assign(4, 1.f);
    VERIFY_THROWS_MSG(core::render_heatmap(rank1, 4, 4, Colormap::Turbo), "[h, w] map");
    VERIFY_THROWS_MSG(core::render_heatmap(core::Array{}, 4, 4, Colormap::Turbo), "[h, w] map");
    VERIFY_THROWS_MSG(core::render_heatmap(make_map(0, 3), 4, 4, Colormap::Turbo), "[h, w] map");
    core::Array short_data = make_map(3, 3);
    short_data.data.pop_back();
    VERIFY_THROWS_MSG(core::render_heatmap(short_data, 4, 4, Colormap::Turbo), "8 values for a map of shape [3, 3]");
    VERIFY_THROWS_MSG(core::render_heatmap(make_map(2, 2), 0, 4, Colormap::Turbo), "bad output size");
    VERIFY_THROWS_MSG(core::render_overlay(Image{}, make_map(2, 2), Colormap::Turbo, 0.5f), "empty image");
    try {
      core::render_heatmap(rank1, 4, 4, Colormap::Turbo);
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::BadArgument);
    }
  }

  void colormap_names() {
    for (Colormap c : {Colormap::Turbo, Colormap::Jet, Colormap::Viridis, Colormap::Inferno}) {
      Colormap back = Colormap::Turbo;
      QVERIFY(core::colormap_from_name(core::colormap_name(c), &back));
      QCOMPARE(back, c);
    }
    QCOMPARE(std::string(core::colormap_name(Colormap::Inferno)), std::string("inferno"));
    Colormap c = Colormap::Turbo;
    QVERIFY(core::colormap_from_name("JET", &c));
    QCOMPARE(c, Colormap::Jet);
    QVERIFY(!core::colormap_from_name("plasma", &c));
    QVERIFY(!core::colormap_from_name("", &c));
  }

  void save_png_errors() {
    const Image img = from_bgr(quadrants(4, 4));
    const fs::path dir = fs::u8path(tmp_.path().toStdString()) / "out dir";
    fs::create_directories(dir);
    try {
      core::save_png(img, dir);
      QFAIL("wrote over a directory");
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), ErrorCode::Io);
      QVERIFY2(std::string(e.what()).find("out dir: cannot write") != std::string::npos, e.what());
    }
    VERIFY_THROWS_MSG(core::save_png(Image{}, dir / "x.png"), "empty image");
    core::save_png(img, dir / "x.png");
    QVERIFY(core::decode_image_file(dir / "x.png").rgb == img.rgb);
  }
};

QTEST_APPLESS_MAIN(TstVision)
#include "tst_vision.moc"
