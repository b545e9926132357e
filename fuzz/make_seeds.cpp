// Writes the binary seed files of fuzz/corpus (safetensors files through
// core::write_safetensors, small images through OpenCV plus a few hand-made
// headers). Run once from the source root after changing it:
//   ninja -C build-fuzz fuzz_make_seeds && build-fuzz/fuzz/fuzz_make_seeds fuzz/corpus
// The text seeds (configs, tokenizer strings) are plain files in the corpus.
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/io/safetensors.h"

namespace fs = std::filesystem;

namespace {

void write_file(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), std::streamsize(bytes.size()));
  if (!f) std::fprintf(stderr, "cannot write %s\n", p.string().c_str());
}

std::string read_file(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

void encode(const fs::path& p, const cv::Mat& m, const std::vector<int>& params = {}) {
  std::vector<uchar> buf;
  try {
    if (!cv::imencode(p.extension().string(), m, buf, params)) {
      std::fprintf(stderr, "skipped %s (no encoder)\n", p.string().c_str());
      return;
    }
  } catch (const cv::Exception& e) {
    std::fprintf(stderr, "skipped %s (%s)\n", p.string().c_str(), e.what());
    return;
  }
  write_file(p, std::string(buf.begin(), buf.end()));
}

cv::Mat gradient(int w, int h, int type) {
  cv::Mat m(h, w, type);
  const int cn = m.channels();
  const double scale = m.depth() == CV_16U ? 257.0 : m.depth() == CV_32F ? 1.0 / 255.0 : 1.0;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < cn; ++c) {
        const double v = ((x * 37 + y * 91 + c * 60) % 256) * scale;
        if (m.depth() == CV_8U) m.ptr<uint8_t>(y)[x * cn + c] = uint8_t(v);
        if (m.depth() == CV_16U) m.ptr<uint16_t>(y)[x * cn + c] = uint16_t(v);
        if (m.depth() == CV_32F) m.ptr<float>(y)[x * cn + c] = float(v);
      }
  return m;
}

std::string be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

void safetensors_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const float f32[6] = {0.f, 1.f, -2.5f, 3.25f, 1e-3f, -0.f};
  const uint16_t f16[4] = {0x3C00, 0xC000, 0x7BFF, 0x0001};
  const int64_t i64[2] = {-1, 30522};
  const uint8_t u8[3] = {1, 2, 255};
  const uint8_t b[4] = {1, 0, 0, 1};
  const int32_t i32[2] = {7, -7};
  core::write_safetensors(dir / "empty.safetensors", {});
  core::write_safetensors(dir / "one_f32.safetensors", {{"weight", core::DType::F32, {2, 3}, f32}}, {{"format", "pt"}});
  core::write_safetensors(dir / "mixed.safetensors",
                          {{"a.f16", core::DType::F16, {4}, f16},
                           {"b.i64", core::DType::I64, {2}, i64},
                           {"c.u8", core::DType::U8, {3}, u8},
                           {"d.bool", core::DType::BOOL, {2, 2}, b},
                           {"e.bf16_scalar", core::DType::BF16, {}, f16},
                           {"f.empty", core::DType::F64, {0, 5}, nullptr},
                           {"g.i32", core::DType::I32, {1, 1, 2}, i32},
                           {"h.i8", core::DType::I8, {2}, u8},
                           {"i.i16", core::DType::I16, {1}, i64}},
                          {{"format", "pt"}, {"note", "seed"}});
  core::write_safetensors(dir / "names.safetensors",
                          {{"text_encoder.embeddings.word_embeddings.weight", core::DType::F32, {1, 1}, f32},
                           {"vision_model.encoder.layers.0.self_attn.qkv.bias", core::DType::F32, {3}, f32},
                           {"\xE4\xB8\xAD\xE6\x96\x87", core::DType::U8, {1}, u8}});
}

void image_seeds(const fs::path& dir) {
  fs::create_directories(dir);
  const cv::Mat rgb = gradient(7, 5, CV_8UC3);
  encode(dir / "rgb.png", rgb);
  encode(dir / "grey.png", gradient(5, 4, CV_8UC1));
  encode(dir / "rgba.png", gradient(4, 4, CV_8UC4));
  encode(dir / "rgb16.png", gradient(3, 3, CV_16UC3));
  encode(dir / "rgb.jpg", gradient(16, 9, CV_8UC3), {cv::IMWRITE_JPEG_QUALITY, 50});
  encode(dir / "grey.jpg", gradient(8, 8, CV_8UC1), {cv::IMWRITE_JPEG_QUALITY, 50});
  encode(dir / "progressive.jpg", gradient(9, 7, CV_8UC3),
         {cv::IMWRITE_JPEG_QUALITY, 40, cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  encode(dir / "rgb.bmp", gradient(3, 2, CV_8UC3));
  encode(dir / "grey.bmp", gradient(4, 2, CV_8UC1));
  encode(dir / "lossy.webp", gradient(8, 8, CV_8UC3), {cv::IMWRITE_WEBP_QUALITY, 50});
  encode(dir / "lossless.webp", gradient(5, 3, CV_8UC4), {cv::IMWRITE_WEBP_QUALITY, 101});
  encode(dir / "rgb.tiff", gradient(4, 3, CV_8UC3));
  encode(dir / "rgb16.tiff", gradient(2, 2, CV_16UC3));
  encode(dir / "rgb.ppm", gradient(3, 2, CV_8UC3));
  encode(dir / "grey.pgm", gradient(3, 2, CV_8UC1));
  encode(dir / "ascii.pgm", gradient(2, 2, CV_8UC1), {cv::IMWRITE_PXM_BINARY, 0});
  encode(dir / "rgb.pam", gradient(2, 2, CV_8UC3));
  encode(dir / "rgb.pfm", gradient(2, 2, CV_32FC3));
  encode(dir / "rgb.sr", gradient(3, 2, CV_8UC3));
  encode(dir / "rgb.hdr", gradient(4, 3, CV_32FC3));
  encode(dir / "rgb.jp2", gradient(40, 40, CV_8UC3), {cv::IMWRITE_JPEG2000_COMPRESSION_X1000, 50});

  // JPEG with an Exif APP1 (big-endian TIFF, orientation 6) after SOI.
  std::vector<uchar> jpg;
  cv::imencode(".jpg", gradient(6, 4, CV_8UC3), jpg, {cv::IMWRITE_JPEG_QUALITY, 50});
  std::string tiff = std::string("MM\0\x2A", 4) + be32(8) + std::string("\0\x01", 2) +
                     std::string("\x01\x12\0\x03", 4) + be32(1) + std::string("\0\x06\0\0", 4) + be32(0);
  std::string app1 = std::string("Exif\0\0", 6) + tiff;
  const size_t len = app1.size() + 2;
  std::string exif_jpg = std::string("\xFF\xD8\xFF\xE1", 4) + char(len >> 8) + char(len & 0xFF) + app1 +
                         std::string(jpg.begin() + 2, jpg.end());
  write_file(dir / "exif_rot6.jpg", exif_jpg);

  // 1x1 GIF89a, its one pixel transparent (more GIF seeds, written by ImageMagick, sit beside it).
  write_file(dir / "pixel.gif", std::string("GIF89a\x01\0\x01\0\x80\0\0\xFF\xFF\xFF\0\0\0!\xF9\x04\x01\0\0\0\0,"
                                            "\0\0\0\0\x01\0\x01\0\0\x02\x02\x44\x01\0;",
                                            43));
  // A PNG whose header declares 30000x30000 (a decompression bomb's header).
  std::vector<uchar> png;
  cv::imencode(".png", gradient(1, 1, CV_8UC3), png);
  std::string bomb(png.begin(), png.end());
  bomb.replace(16, 8, be32(30000) + be32(30000));
  write_file(dir / "bomb_header.png", bomb);
}

}  // namespace

int main(int argc, char** argv) {
  const fs::path root = argc > 1 ? argv[1] : "fuzz/corpus";
  safetensors_seeds(root / "fuzz_safetensors");
  image_seeds(root / "fuzz_image");
  return 0;
}
