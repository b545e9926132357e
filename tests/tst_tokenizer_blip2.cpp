// The tokenizers of BLIP-2's language models against HF 4.31's slow
// GPT2Tokenizer (OPT files) and T5Tokenizer: every golden string (tokens, ids
// with and without special tokens, the three decodes), the choice of tokenizer
// by folder contents, and missing or garbled tokenizer files.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <QTemporaryDir>

#include "core/error.h"
#include "core/text/bpe_tokenizer.h"
#include "core/text/sentencepiece_tokenizer.h"
#include "core/text/text_tokenizer.h"
#include "testutil.h"

using nlohmann::json;

namespace {

std::filesystem::path blip2_dir() { return testutil::golden_dir() / "blip2"; }
bool have_blip2_golden() { return std::filesystem::exists(blip2_dir() / "tokenizer_golden.json"); }

QString show(const std::vector<std::string>& v) {
  QStringList l;
  for (const auto& s : v) l << QString::fromStdString(s);
  return "[" + l.join("|") + "]";
}

QString show(const std::vector<int64_t>& v) {
  QStringList l;
  for (auto x : v) l << QString::number(x);
  return "[" + l.join(",") + "]";
}

std::filesystem::path temp_path(const QTemporaryDir& d) { return d.path().toStdString(); }

void copy_bytes(const std::filesystem::path& from, const std::filesystem::path& to) {
  testutil::write_file(to, testutil::read_file(from));
}

}  // namespace

#define COMPARE_VEC(actual, expected) \
  QVERIFY2((actual) == (expected), qPrintable(QString("got %1, want %2").arg(show(actual), show(expected))))

#define REQUIRE_BLIP2_GOLDEN()                                                                \
  do {                                                                                        \
    if (!have_blip2_golden())                                                                 \
      QSKIP(qPrintable(QString("BLIP-2 golden data not found at %1 (set AUTOGLM_GOLDEN_DIR)") \
                           .arg(QString::fromStdString(blip2_dir().string()))));              \
  } while (0)

// Asserts that `expr` throws core::Error with code BadVocab and `needle` in its message.
#define VERIFY_BAD_VOCAB(expr, needle)                                                              \
  do {                                                                                              \
    bool thrown_ = false;                                                                           \
    try {                                                                                           \
      expr;                                                                                         \
    } catch (const core::Error& e_) {                                                               \
      thrown_ = true;                                                                               \
      QCOMPARE(e_.code(), core::ErrorCode::BadVocab);                                               \
      const std::string msg_ = e_.what();                                                           \
      QVERIFY2(msg_.find(needle) != std::string::npos,                                              \
               qPrintable(QString("message \"%1\" lacks \"%2\"")                                    \
                              .arg(QString::fromStdString(msg_), QString::fromStdString(needle)))); \
    }                                                                                               \
    QVERIFY2(thrown_, "no core::Error thrown");                                                     \
  } while (0)

class TstTokenizerBlip2 : public QObject {
  Q_OBJECT

  json golden_;
  std::unique_ptr<core::TextTokenizer> opt_, t5_;

  // Golden strings of one tokenizer: the shared ones, then the extras.
  std::vector<json> strings(const char* model) const {
    std::vector<json> out;
    for (const char* key : {"strings", "extra_strings"})
      for (const auto& s : golden_.at(model).at(key)) out.push_back(s);
    return out;
  }

  void add_rows(const char* model) {
    QTest::addColumn<int>("index");
    const auto all = strings(model);
    for (size_t i = 0; i < all.size(); ++i) {
      QString text = QString::fromStdString(all[i].at("text").get<std::string>()).left(24);
      for (auto& c : text)
        if (!c.isPrint()) c = u'~';
      QTest::addRow("%02d %s", int(i), qPrintable(text)) << int(i);
    }
  }

  void check_string(const core::TextTokenizer& tok, const json& g) {
    const auto text = g.at("text").get<std::string>();
    COMPARE_VEC(tok.tokenize(text), g.at("tokens").get<std::vector<std::string>>());
    const auto ids = g.at("input_ids").get<std::vector<int64_t>>();
    COMPARE_VEC(tok.encode(text), ids);
    COMPARE_VEC(tok.encode(text, false), g.at("input_ids_no_special").get<std::vector<int64_t>>());
    QCOMPARE(tok.decode(ids), g.at("decode").get<std::string>());
    QCOMPARE(tok.decode(ids, true), g.at("decode_skip_special").get<std::string>());
  }

 private Q_SLOTS:
  void initTestCase() {
    if (!have_blip2_golden()) return;
    golden_ = json::parse(testutil::read_file(blip2_dir() / "tokenizer_golden.json"));
    opt_ = core::load_tokenizer(blip2_dir() / "opt_model");
    t5_ = core::load_tokenizer(blip2_dir() / "t5_model");
  }

  void loads_by_folder_contents() {
    REQUIRE_BLIP2_GOLDEN();
    QCOMPARE(opt_->kind(), core::TokenizerKind::ByteLevelBpe);
    QCOMPARE(t5_->kind(), core::TokenizerKind::SentencePiece);
    if (std::filesystem::exists(testutil::blip_dir() / "vqa_model" / "vocab.txt")) {
      auto bert = core::load_tokenizer(testutil::blip_dir() / "vqa_model");
      QCOMPARE(bert->kind(), core::TokenizerKind::WordPiece);
      QCOMPARE(bert->bos_id(), int64_t(101));
      QCOMPARE(bert->eos_id(), int64_t(102));
      QCOMPARE(bert->id_to_token(1996), std::string("the"));
      QCOMPARE(bert->id_to_token(bert->vocab_size()), std::string());
    }
  }

  void opt_special_ids() {
    REQUIRE_BLIP2_GOLDEN();
    const auto& g = golden_.at("opt");
    QCOMPARE(opt_->vocab_size(), g.at("len_tokenizer").get<int64_t>());
    const auto& ids = g.at("special_ids");
    for (const char* name : {"<s>", "<pad>", "</s>", "<unk>", "<mask>"})
      QCOMPARE(opt_->token_to_id(name), ids.at(name).get<int64_t>());
    QCOMPARE(opt_->bos_id(), ids.at("bos_token(</s>)").get<int64_t>());
    QCOMPARE(opt_->unk_id(), ids.at("unk_token(</s>)").get<int64_t>());
    QCOMPARE(opt_->eos_id(), ids.at("bos_token(</s>)").get<int64_t>());
    QCOMPARE(opt_->pad_id(), ids.at("<pad>").get<int64_t>());
    QCOMPARE(opt_->token_to_id("\xC4\x8A"), ids.at("newline '\\n' (Salesforce blip2-opt eos)").get<int64_t>());
    QCOMPARE(opt_->id_to_token(ids.at("<mask>").get<int64_t>()), std::string("<mask>"));
    QCOMPARE(opt_->token_to_id("no-such-token"), opt_->unk_id());
  }

  void opt_golden_strings_data() {
    REQUIRE_BLIP2_GOLDEN();
    add_rows("opt");
  }

  void opt_golden_strings() {
    REQUIRE_BLIP2_GOLDEN();
    QFETCH(int, index);
    const auto g = strings("opt").at(size_t(index));
    check_string(*opt_, g);
    const auto& bpe = dynamic_cast<const core::BpeTokenizer&>(*opt_);
    QCOMPARE(bpe.decode(g.at("input_ids").get<std::vector<int64_t>>(), true, false),
             g.at("decode_skip_special_no_cleanup").get<std::string>());
  }

  void t5_special_ids() {
    REQUIRE_BLIP2_GOLDEN();
    const auto& g = golden_.at("t5");
    QCOMPARE(t5_->vocab_size(), g.at("len_tokenizer").get<int64_t>());
    for (const auto& [name, id] : g.at("special_ids").items()) {
      QCOMPARE(t5_->token_to_id(name), id.get<int64_t>());
      QCOMPARE(t5_->id_to_token(id.get<int64_t>()), name);
    }
    QCOMPARE(t5_->eos_id(), g.at("special_ids").at("</s>").get<int64_t>());
    QCOMPARE(t5_->pad_id(), g.at("special_ids").at("<pad>").get<int64_t>());
    QCOMPARE(t5_->unk_id(), g.at("special_ids").at("<unk>").get<int64_t>());
    QCOMPARE(t5_->bos_id(), int64_t(-1));
    QCOMPARE(t5_->token_to_id("<extra_id_17>"), t5_->vocab_size() - 18);
  }

  void t5_golden_strings_data() {
    REQUIRE_BLIP2_GOLDEN();
    add_rows("t5");
  }

  void t5_golden_strings() {
    REQUIRE_BLIP2_GOLDEN();
    QFETCH(int, index);
    const auto g = strings("t5").at(size_t(index));
    check_string(*t5_, g);
    const auto& sp = dynamic_cast<const core::SentencePieceTokenizer&>(*t5_);
    QCOMPARE(sp.decode(g.at("input_ids").get<std::vector<int64_t>>(), true, false),
             g.at("decode_skip_special_no_cleanup").get<std::string>());
  }

  // Generation can emit ids of the embedding's padding rows and cut a
  // character's bytes in two; neither may crash decoding.
  void decode_odd_ids() {
    REQUIRE_BLIP2_GOLDEN();
    const int64_t past_opt = opt_->vocab_size() + 3, past_t5 = t5_->vocab_size() + 3;
    QCOMPARE(opt_->decode({past_opt, -1}), std::string());
    QCOMPARE(t5_->decode({past_t5, -1}), std::string());
    QCOMPARE(opt_->id_to_token(past_opt), std::string());
    QCOMPARE(t5_->id_to_token(past_t5), std::string());
    // "😀" is two BPE tokens; the first alone is an incomplete UTF-8 sequence.
    const auto smile = opt_->encode("\xF0\x9F\x98\x80", false);
    QCOMPARE(smile.size(), size_t(2));
    QCOMPARE(opt_->decode({smile[0]}), std::string("\xEF\xBF\xBD"));
    QCOMPARE(opt_->decode(smile), std::string("\xF0\x9F\x98\x80"));
  }

  void invalid_utf8_input_is_replaced() {
    REQUIRE_BLIP2_GOLDEN();
    COMPARE_VEC(opt_->encode("a\xFF"
                             "b",
                             false),
                opt_->encode("a\xEF\xBF\xBD"
                             "b",
                             false));
    COMPARE_VEC(t5_->encode("a\xFF"
                            "b",
                            false),
                t5_->encode("a\xEF\xBF\xBD"
                            "b",
                            false));
  }

  // Byte-level BPE loses nothing: without clean-up, decode gives back the text.
  void long_input_data() {
    QTest::addColumn<std::string>("text");
    std::string english;
    while (english.size() < 10000) english += "What is the colour of the small round object, near the table? ";
    QTest::newRow("english") << english.substr(0, 10000);
    std::string mixed;
    const char* parts[] = {"Cr\xC3\xA8me ",
                           "br\xC3\xBBl\xC3\xA9"
                           "e ",
                           "\xE9\x80\x99\xE5\xBC\xB5 ",
                           "\xF0\x9F\x98\x80 ",
                           "it's\t",
                           "\n\n  "};
    for (size_t k = 0; mixed.size() < 10000; ++k) mixed += parts[k % 6];
    QTest::newRow("mixed scripts") << mixed;
    QTest::newRow("one long word") << std::string(10000, 'x');
  }

  void long_input() {
    REQUIRE_BLIP2_GOLDEN();
    QFETCH(std::string, text);
    const auto& bpe = dynamic_cast<const core::BpeTokenizer&>(*opt_);
    const auto ids = bpe.encode(text);
    QCOMPARE(ids.front(), bpe.bos_id());
    QCOMPARE(bpe.decode(ids, true, false), text);
    const auto t5 = t5_->encode(text);
    QVERIFY(t5.size() > 1);
    QCOMPARE(t5.back(), t5_->eos_id());
  }

  void gpt2_pretokenizer_data() {
    QTest::addColumn<std::string>("text");
    QTest::addColumn<std::vector<std::string>>("pieces");
    using V = std::vector<std::string>;
    QTest::newRow("contractions") << std::string("we're it's I'LL") << V{"we", "'re", " it", "'s", " I", "'", "LL"};
    QTest::newRow("space before punctuation") << std::string("a ?! 's") << V{"a", " ?!", " '", "s"};
    QTest::newRow("digits apart from letters") << std::string("abc123 45x") << V{"abc", "123", " 45", "x"};
    QTest::newRow("whitespace runs") << std::string("a   b  ") << V{"a", "  ", " b", "  "};
    QTest::newRow("newline before word") << std::string("a\nb") << V{"a", "\n", "b"};
    QTest::newRow("nbsp is whitespace") << std::string(
                                               "a\xC2\xA0"
                                               "b")
                                        << V{"a", "\xC2\xA0", "b"};
    QTest::newRow("space then newline") << std::string("a \n") << V{"a", " \n"};
  }

  void gpt2_pretokenizer() {
    QFETCH(std::string, text);
    QFETCH(std::vector<std::string>, pieces);
    COMPARE_VEC(core::BpeTokenizer::pretokenize(text), pieces);
  }

  // A tiny vocabulary: merges by rank, special tokens cut out with the
  // whitespace around them, tokenizer_config.json's add_bos_token.
  void bpe_small_vocabulary() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    testutil::write_file(
        d / "vocab.json",
        R"({"<s>": 0, "</s>": 1, "a": 2, "b": 3, "ab": 4, "\u0120": 5, "\u0120ab": 6, "ba": 7, "c": 8})");
    testutil::write_file(d / "merges.txt", "#version: 0.2\na b\n\xC4\xA0 ab\nb a\n");
    testutil::write_file(d / "special_tokens_map.json",
                         R"({"bos_token": "<s>", "eos_token": "</s>", "unk_token": "c"})");
    auto t = core::BpeTokenizer::from_folder(d);
    COMPARE_VEC(t->tokenize("ab ab"), (std::vector<std::string>{"ab",
                                                                "\xC4\xA0"
                                                                "ab"}));
    COMPARE_VEC(t->tokenize("bab"), (std::vector<std::string>{"b", "ab"}));  // "a b" outranks "b a"
    COMPARE_VEC(t->encode("ab </s> ab"), (std::vector<int64_t>{4, 1, 4}));
    COMPARE_VEC(t->encode("x"), (std::vector<int64_t>{8}));
    QCOMPARE(t->decode({4, 6, 1}), std::string("ab ab</s>"));
    QCOMPARE(t->decode({4, 6, 1}, true), std::string("ab ab"));
    testutil::write_file(d / "tokenizer_config.json", R"({"add_bos_token": true, "add_prefix_space": true})");
    t = core::BpeTokenizer::from_folder(d);
    COMPARE_VEC(t->encode("ab"), (std::vector<int64_t>{0, 6}));
    COMPARE_VEC(t->encode("ab", false), (std::vector<int64_t>{6}));
  }

  void missing_files() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), d.string());
    VERIFY_BAD_VOCAB(core::BpeTokenizer::from_folder(d), (d / "vocab.json").string());
    testutil::write_file(d / "vocab.json", R"({"a": 0})");
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "merges.txt").string());
    std::filesystem::remove(d / "vocab.json");
    testutil::write_file(d / "merges.txt", "#version: 0.2\n");
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "vocab.json").string());
    VERIFY_BAD_VOCAB(core::SentencePieceTokenizer::from_folder(d), (d / "spiece.model").string());
  }

  void garbled_vocab_json_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::newRow("not JSON") << std::string("{\"a\": 0,");
    QTest::newRow("a list") << std::string("[\"a\", \"b\"]");
    QTest::newRow("empty object") << std::string("{}");
    QTest::newRow("string id") << std::string(R"({"a": "0"})");
    QTest::newRow("negative id") << std::string(R"({"a": -4})");
    QTest::newRow("object id") << std::string(R"({"a": {"id": 0}})");
    QTest::newRow("list id") << std::string(R"({"b": 1, "a": [0]})");
    QTest::newRow("binary") << std::string("\x00\xFF\xFE garbage", 12);
  }

  void garbled_vocab_json() {
    QFETCH(std::string, bytes);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    testutil::write_file(d / "vocab.json", bytes);
    testutil::write_file(d / "merges.txt", "#version: 0.2\na b\n");
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "vocab.json").string());
  }

  void garbled_merges_txt_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<std::string>("needle");
    QTest::newRow("three symbols") << std::string("#version: 0.2\na b\na b c\n") << std::string("line 3");
    QTest::newRow("one symbol") << std::string("#version: 0.2\nab\n") << std::string("line 2");
    QTest::newRow("invalid UTF-8") << std::string("#version: 0.2\na \xC3\n") << std::string("UTF-8");
  }

  void garbled_merges_txt() {
    QFETCH(std::string, bytes);
    QFETCH(std::string, needle);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    testutil::write_file(d / "vocab.json", R"({"a": 0, "b": 1, "ab": 2})");
    testutil::write_file(d / "merges.txt", bytes);
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "merges.txt").string());
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), needle);
  }

  void garbled_spiece_model_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::newRow("empty") << std::string();
    QTest::newRow("text") << std::string("this is not a sentencepiece model\n");
    QTest::newRow("binary") << std::string("\x0A\xFF\xFF\xFF\xFF\x0F\x01\x02", 8);
  }

  void garbled_spiece_model() {
    QFETCH(std::string, bytes);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    testutil::write_file(d / "spiece.model", bytes);
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "spiece.model").string());
  }

  void truncated_spiece_model() {
    REQUIRE_BLIP2_GOLDEN();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    const std::string model = testutil::read_file(blip2_dir() / "t5_model" / "spiece.model");
    testutil::write_file(d / "spiece.model", model.substr(0, model.size() / 2));
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "spiece.model").string());
  }

  void bad_tokenizer_config() {
    REQUIRE_BLIP2_GOLDEN();
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto d = temp_path(dir);
    copy_bytes(blip2_dir() / "t5_model" / "spiece.model", d / "spiece.model");
    testutil::write_file(d / "tokenizer_config.json", "{not json");
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), (d / "tokenizer_config.json").string());
    testutil::write_file(d / "tokenizer_config.json",
                         R"({"extra_ids": 2, "additional_special_tokens": ["<extra_id_0>"]})");
    VERIFY_BAD_VOCAB(core::load_tokenizer(d), "extra_ids");
    testutil::write_file(d / "tokenizer_config.json", R"({"extra_ids": 0})");
    auto t = core::load_tokenizer(d);
    QCOMPARE(t->vocab_size(), int64_t(32000));
    QCOMPARE(t->token_to_id("<extra_id_0>"), t->unk_id());
  }
};

QTEST_APPLESS_MAIN(TstTokenizerBlip2)
#include "tst_tokenizer_blip2.moc"
