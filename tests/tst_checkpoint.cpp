// Published checkpoints as they come: PyTorch .bin files read by the weights-only
// pickle machine, shards with their index, F16/BF16. Every good variant of
// golden/pickle holds exactly the tensors of the BLIP goldens' safetensors, and
// every hostile file is refused with a message naming what it tried, its file
// and, for the pickle, the offset; nothing in it ever runs.
#include <QtTest>
#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/error.h"
#include "core/io/checkpoint.h"
#include "core/io/safetensors_torch.h"
#include "core/io/torch_zip.h"
#include "testutil.h"

namespace fs = std::filesystem;
using core::Checkpoint;

namespace {

fs::path pickle_dir() { return testutil::golden_dir() / "pickle"; }

#define REQUIRE_PICKLE_GOLDEN()                                                                                 \
  do {                                                                                                          \
    if (!fs::exists(pickle_dir() / "manifest.json")) QSKIP("golden/pickle not found (set AUTOGLM_GOLDEN_DIR)"); \
  } while (0)

// Tensors of `got` equal `want`'s bit for bit, by name; `got` may add the tied alias.
void compare_bitwise(const Checkpoint& got, const Checkpoint& want) {
  for (const auto& name : want.names()) {
    QVERIFY2(got.contains(name), name.c_str());
    auto a = core::tensor_view(got, name), b = core::tensor_view(want, name);
    QCOMPARE(a.scalar_type(), b.scalar_type());
    QVERIFY2(a.sizes() == b.sizes(), name.c_str());
    QVERIFY2(torch::equal(a.contiguous().view(torch::kByte), b.contiguous().view(torch::kByte)), name.c_str());
  }
  for (const auto& name : got.names())
    QVERIFY2(want.contains(name) || name == "text_decoder.cls.predictions.decoder.bias", name.c_str());
}

}  // namespace

class TstCheckpoint : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() { fs::remove(testutil::kGoldenPickleMarker); }
  void cleanupTestCase() { QVERIFY(!fs::exists(testutil::kGoldenPickleMarker)); }

  void f32_variants_are_bit_identical_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("source");
    QTest::addColumn<QString>("format");
    QTest::addColumn<int>("files");
    QTest::newRow("lone .bin") << "vqa_bin"
                               << "vqa_model"
                               << "pytorch" << 1;
    QTest::newRow(".bin shards") << "caption_bin_sharded"
                                 << "caption_model"
                                 << "pytorch" << 2;
    QTest::newRow("safetensors shards") << "caption_st_sharded"
                                        << "caption_model"
                                        << "safetensors" << 2;
    QTest::newRow(".bin views") << "caption_bin_views"
                                << "caption_model"
                                << "pytorch" << 1;
  }
  void f32_variants_are_bit_identical() {
    REQUIRE_PICKLE_GOLDEN();
    QFETCH(QString, folder);
    QFETCH(QString, source);
    QFETCH(QString, format);
    QFETCH(int, files);
    auto got = Checkpoint::from_folder(pickle_dir() / folder.toStdString());
    QCOMPARE(QString::fromStdString(got.format()), format);
    QCOMPARE(int(got.files()), files);
    QCOMPARE(got.stored_dtype(), core::DType::F32);
    compare_bitwise(got, Checkpoint::open(testutil::blip_dir() / source.toStdString() / "model.safetensors"));
  }

  // The views file keeps its storages' layout: offsets into a shared storage,
  // transposed and interleaved views, a tied alias on the same bytes.
  void views_keep_their_layout() {
    REQUIRE_PICKLE_GOLDEN();
    auto ck = Checkpoint::from_folder(pickle_dir() / "caption_bin_views");
    const auto& key = ck.info("text_decoder.bert.encoder.layer.0.attention.self.key.weight");
    QCOMPARE(key.offset, int64_t(1029));
    QCOMPARE(key.storage_bytes, uint64_t(3176 * 4));
    const auto& fc1 = ck.info("vision_model.encoder.layers.0.mlp.fc1.weight");
    QVERIFY(!fc1.contiguous());
    QCOMPARE(fc1.stride, (std::vector<int64_t>{1, 41}));
    const auto& bias = ck.info("vision_model.post_layernorm.bias");
    QCOMPARE(bias.offset, int64_t(1));
    QCOMPARE(bias.stride, (std::vector<int64_t>{2}));
    QCOMPARE(ck.info("text_decoder.cls.predictions.decoder.bias").storage,
             ck.info("text_decoder.cls.predictions.bias").storage);
  }

  // Running in float32, a 16-bit folder gives exactly its F32 twin's tensors.
  void half_precision_upcasts_exactly_data() {
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QString>("twin");
    QTest::addColumn<int>("dtype");
    QTest::newRow("F16") << "caption_f16"
                         << "caption_f16_as_f32" << int(core::DType::F16);
    QTest::newRow("BF16") << "caption_bf16"
                          << "caption_bf16_as_f32" << int(core::DType::BF16);
    QTest::newRow(".bin BF16") << "caption_bin_bf16"
                               << "caption_bf16_as_f32" << int(core::DType::BF16);
  }
  void half_precision_upcasts_exactly() {
    REQUIRE_PICKLE_GOLDEN();
    QFETCH(QString, folder);
    QFETCH(QString, twin);
    QFETCH(int, dtype);
    auto half = Checkpoint::from_folder(pickle_dir() / folder.toStdString());
    auto f32 = Checkpoint::from_folder(pickle_dir() / twin.toStdString());
    QCOMPARE(int(half.stored_dtype()), dtype);
    QVERIFY(half.stored_bytes() * 2 <= f32.stored_bytes() + 1024);
    for (const auto& name : f32.names()) {
      auto a = core::tensor_view(half, name).to(torch::kFloat32), b = core::tensor_view(f32, name);
      QVERIFY2(torch::equal(a.view(torch::kInt), b.contiguous().view(torch::kInt)), name.c_str());
    }
  }

  void bin_bf16_holds_the_safetensors_bits() {
    REQUIRE_PICKLE_GOLDEN();
    compare_bitwise(Checkpoint::from_folder(pickle_dir() / "caption_bin_bf16"),
                    Checkpoint::from_folder(pickle_dir() / "caption_bf16"));
  }

  // Each hostile file of golden/pickle is refused with a message naming what it
  // tried (hostile.json's groups), the file, and nothing runs.
  void hostile_files_are_refused_data() {
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("groups");
    if (!fs::exists(pickle_dir() / "hostile.json")) {
      QTest::newRow("absent") << QString() << QString();
      return;
    }
    const auto j = nlohmann::json::parse(testutil::read_file(pickle_dir() / "hostile.json"));
    for (const auto& c : j["cases"])
      QTest::newRow(c["name"].get<std::string>().c_str()) << QString::fromStdString(c["name"].get<std::string>())
                                                          << QString::fromStdString(c["message_must_contain"].dump());
  }
  void hostile_files_are_refused() {
    REQUIRE_PICKLE_GOLDEN();
    QFETCH(QString, name);
    QFETCH(QString, groups);
    const fs::path dir = pickle_dir() / "hostile" / name.toStdString();
    QString msg;
    try {
      Checkpoint::from_folder(dir);
      QFAIL("a hostile file was accepted");
    } catch (const core::Error& e) {
      msg = QString::fromUtf8(e.what());
      QVERIFY2(e.code() == core::ErrorCode::PickleRefused || e.code() == core::ErrorCode::BadWeights, e.what());
    }
    QVERIFY2(msg.contains(QString::fromStdString((dir / "pytorch_model.bin").u8string())), qPrintable(msg));
    for (const auto& group : nlohmann::json::parse(groups.toStdString())) {
      bool any = false;
      for (const auto& alt : group)
        any = any || msg.contains(QString::fromStdString(alt.get<std::string>()), Qt::CaseInsensitive);
      QVERIFY2(any, qPrintable(msg + " lacks one of " + QString::fromStdString(group.dump())));
    }
    QVERIFY(!fs::exists(testutil::kGoldenPickleMarker));
  }

  // Where the refusal comes from the pickle, the message gives the opcode's offset.
  void refusals_name_the_offset() {
    REQUIRE_PICKLE_GOLDEN();
    const auto j = nlohmann::json::parse(testutil::read_file(pickle_dir() / "hostile.json"));
    int checked = 0;
    for (const auto& c : j["cases"]) {
      if (!c.contains("trigger") || !c["trigger"].contains("offset")) continue;
      try {
        Checkpoint::from_folder(pickle_dir() / c["folder"].get<std::string>());
      } catch (const core::Error& e) {
        const std::string want = "offset " + std::to_string(c["trigger"]["offset"].get<int>()) + " of data.pkl";
        QVERIFY2(std::string(e.what()).find(want) != std::string::npos, e.what());
        ++checked;
      }
    }
    QVERIFY(checked >= 9);
  }

  // model.safetensors wins over pytorch_model.bin: the .bin is never read.
  void safetensors_preferred_over_bin() {
    REQUIRE_PICKLE_GOLDEN();
    QTemporaryDir tmp;
    const fs::path dir = tmp.path().toStdString();
    fs::copy(testutil::blip_dir() / "vqa_model", dir,
             fs::copy_options::recursive | fs::copy_options::overwrite_existing);
    fs::copy_file(pickle_dir() / "hostile" / "os_system" / "pytorch_model.bin", dir / "pytorch_model.bin");
    auto ck = Checkpoint::from_folder(dir);
    QCOMPARE(QString::fromStdString(ck.format()), QStringLiteral("safetensors"));
    fs::remove(dir / "model.safetensors");
    VERIFY_THROWS_MSG(Checkpoint::from_folder(dir), "posix.system");
  }

  // Made here, without the golden set: the container checks and a few machines.
  void malformed_containers() {
    const std::string label = "x.bin";
    auto read = [&](const std::string& bytes) {
      return core::read_torch_zip(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), label);
    };
    VERIFY_THROWS_MSG(read(""), "not a zip file");
    VERIFY_THROWS_MSG(read("PK\x03\x04 and then nothing"), "no end of central directory");
    VERIFY_THROWS_MSG(read(std::string("\x80\x02}q\x00.", 6)), "legacy (pre-1.6, non-zip)");
    std::string tar(1024, '\0');
    tar.replace(257, 5, "ustar");
    VERIFY_THROWS_MSG(read(tar), "legacy tar");
    // An end record whose directory lies past the end of the file.
    std::string eocd = "PK\x03\x04";
    eocd += std::string("PK\x05\x06", 4) + std::string(6, '\0') + std::string("\x01\x00", 2) +
            std::string("\x2e\x00\x00\x00", 4) + std::string("\x00\x00\x00\x10", 4) + std::string(2, '\0');
    VERIFY_THROWS_MSG(read(eocd), "past the end of the file");
  }
};

QTEST_APPLESS_MAIN(TstCheckpoint)
#include "tst_checkpoint.moc"
