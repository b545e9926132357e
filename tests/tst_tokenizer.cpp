// BERT WordPiece tokenizer: every golden string of the HF 4.31 slow
// BertTokenizer (tokens, ids, masks, truncation, padding, decoding), batch
// padding, UTF-8 validation, vocabulary errors and a long input.
#include <QtTest>

#include <nlohmann/json.hpp>

#include <QTemporaryDir>

#include "core/error.h"
#include "core/text/tokenizer.h"
#include "testutil.h"

using nlohmann::json;

Q_DECLARE_METATYPE(std::string)

namespace {

std::vector<int64_t> ids_of(const json& j) { return j.get<std::vector<int64_t>>(); }

std::vector<std::string> minimal_vocab() {
  return {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "##a", "b", "##b", "."};
}

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

}  // namespace

#define COMPARE_VEC(actual, expected) \
  QVERIFY2((actual) == (expected), qPrintable(QString("got %1, want %2").arg(show(actual), show(expected))))

class TstTokenizer : public QObject {
  Q_OBJECT

  json golden_;
  core::Tokenizer tok_;

 private Q_SLOTS:
  void initTestCase() {
    if (!testutil::have_golden()) return;
    golden_ = json::parse(testutil::read_file(testutil::blip_dir() / "tokenizer_golden.json"));
    tok_ = core::Tokenizer::from_folder(testutil::blip_dir() / "vqa_model");
  }

  void loads_bert_vocab() {
    REQUIRE_GOLDEN();
    QCOMPARE(tok_.vocab_size(), int64_t(30522));
    QCOMPARE(tok_.pad_id(), int64_t(0));
    QCOMPARE(tok_.unk_id(), int64_t(100));
    QCOMPARE(tok_.cls_id(), int64_t(101));
    QCOMPARE(tok_.sep_id(), int64_t(102));
    QCOMPARE(tok_.mask_id(), int64_t(103));
    QCOMPARE(tok_.model_max_length(), 512);
    QVERIFY(tok_.lower_case());
    const auto& special = golden_.at("special_ids");
    for (const char* name : {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"})
      QCOMPARE(tok_.token_to_id(name), special.at(name).get<int64_t>());
    QCOMPARE(tok_.token_to_id("no-such-token"), int64_t(100));
    QCOMPARE(tok_.id_to_token(1996), std::string("the"));
  }

  void golden_strings_data() {
    REQUIRE_GOLDEN();
    QTest::addColumn<int>("index");
    const auto& strings = golden_.at("strings");
    QCOMPARE(strings.size(), size_t(44));
    for (size_t i = 0; i < strings.size(); ++i) {
      QString text = QString::fromStdString(strings[i].at("text").get<std::string>()).left(24);
      for (auto& c : text)
        if (!c.isPrint()) c = u'~';
      QTest::addRow("%02d %s", int(i), qPrintable(text)) << int(i);
    }
  }

  void golden_strings() {
    REQUIRE_GOLDEN();
    QFETCH(int, index);
    const auto& g = golden_.at("strings").at(size_t(index));
    const std::string text = g.at("text").get<std::string>();
    QVERIFY(core::is_valid_utf8(text));

    COMPARE_VEC(tok_.tokenize(text), g.at("tokens").get<std::vector<std::string>>());

    const auto plain = tok_.encode(text);
    COMPARE_VEC(plain.ids, ids_of(g.at("input_ids")));
    COMPARE_VEC(plain.mask, ids_of(g.at("attention_mask")));
    QCOMPARE(plain.tokens.size(), plain.ids.size());

    const auto trunc = tok_.encode(text, true, 35);
    COMPARE_VEC(trunc.ids, ids_of(g.at("input_ids_trunc35")));
    COMPARE_VEC(trunc.mask, ids_of(g.at("attention_mask_trunc35")));

    const auto pad = tok_.encode(text, true, 35, 35);
    COMPARE_VEC(pad.ids, ids_of(g.at("input_ids_pad35")));
    COMPARE_VEC(pad.mask, ids_of(g.at("attention_mask_pad35")));

    const auto ids = ids_of(g.at("input_ids"));
    QCOMPARE(tok_.decode(ids), g.at("decode").get<std::string>());
    QCOMPARE(tok_.decode(ids, true), g.at("decode_skip_special").get<std::string>());
  }

  void golden_batch_data() {
    REQUIRE_GOLDEN();
    QTest::addColumn<QString>("key");
    QTest::addColumn<int>("max_length");
    QTest::newRow("padding=True") << "padding_true" << -1;
    QTest::newRow("longest, max_length 35") << "padding_longest_trunc35" << 35;
  }

  void golden_batch() {
    REQUIRE_GOLDEN();
    QFETCH(QString, key);
    QFETCH(int, max_length);
    const auto& b = golden_.at("batch");
    const auto texts = b.at("texts").get<std::vector<std::string>>();
    const auto& want = b.at(key.toStdString());
    const auto got = tok_.encode_batch(texts, max_length);
    QCOMPARE(got.size(), texts.size());
    for (size_t i = 0; i < got.size(); ++i) {
      COMPARE_VEC(got[i].ids, ids_of(want.at("input_ids").at(i)));
      COMPARE_VEC(got[i].mask, ids_of(want.at("attention_mask").at(i)));
      QCOMPARE(got[i].tokens.size(), got[i].ids.size());
    }
  }

  void golden_decode_examples_data() {
    REQUIRE_GOLDEN();
    QTest::addColumn<std::string>("ids");
    for (const auto& [ids, _] : golden_.at("decode_examples").items()) QTest::newRow(ids.c_str()) << ids;
  }

  void golden_decode_examples() {
    REQUIRE_GOLDEN();
    QFETCH(std::string, ids);
    const auto& want = golden_.at("decode_examples").at(ids);
    const auto v = ids_of(json::parse(ids));
    QCOMPARE(tok_.decode(v), want.at("decode").get<std::string>());
    QCOMPARE(tok_.decode(v, true), want.at("decode_skip_special").get<std::string>());
  }

  void special_tokens_in_text() {
    REQUIRE_GOLDEN();
    COMPARE_VEC(tok_.tokenize("y[SEP]z"), (std::vector<std::string>{"y", "[SEP]", "z"}));
    COMPARE_VEC(tok_.tokenize("[cls] [Mask]"), (std::vector<std::string>{"[", "cl", "##s", "]", "[", "mask", "]"}));
    COMPARE_VEC(tok_.tokenize("a  [MASK]\t b"), (std::vector<std::string>{"a", "[MASK]", "b"}));
    COMPARE_VEC(tok_.tokenize("[[CLS]]"), (std::vector<std::string>{"[", "[CLS]", "]"}));
  }

  void utf8_validation_data() {
    QTest::addColumn<std::string>("bytes");
    QTest::addColumn<bool>("valid");
    QTest::newRow("empty") << std::string() << true;
    QTest::newRow("ascii") << std::string("what is it?") << true;
    QTest::newRow("2-byte") << std::string("caf\xC3\xA9") << true;
    QTest::newRow("3-byte") << std::string("\xE8\xBF\x99") << true;
    QTest::newRow("4-byte") << std::string("\xF0\x9F\x98\x80") << true;
    QTest::newRow("U+10FFFF") << std::string("\xF4\x8F\xBF\xBF") << true;
    QTest::newRow("overlong 2-byte /") << std::string("\xC0\xAF") << false;
    QTest::newRow("overlong 2-byte NUL") << std::string("\xC1\x80") << false;
    QTest::newRow("overlong 3-byte") << std::string("\xE0\x80\xAF") << false;
    QTest::newRow("overlong 4-byte") << std::string("\xF0\x80\x80\xAF") << false;
    QTest::newRow("surrogate D800") << std::string("\xED\xA0\x80") << false;
    QTest::newRow("surrogate DFFF") << std::string("\xED\xBF\xBF") << false;
    QTest::newRow("above U+10FFFF") << std::string("\xF4\x90\x80\x80") << false;
    QTest::newRow("F5 lead") << std::string("\xF5\x80\x80\x80") << false;
    QTest::newRow("truncated 2-byte") << std::string("ab\xC3") << false;
    QTest::newRow("truncated 3-byte") << std::string("\xE8\xBF") << false;
    QTest::newRow("truncated 4-byte") << std::string("\xF0\x9F\x98") << false;
    QTest::newRow("stray continuation") << std::string("a\x80z") << false;
    QTest::newRow("bad continuation") << std::string("\xE8\x41\x99") << false;
    QTest::newRow("FF byte") << std::string("\xFF") << false;
  }

  void utf8_validation() {
    QFETCH(std::string, bytes);
    QFETCH(bool, valid);
    QCOMPARE(core::is_valid_utf8(bytes), valid);
  }

  void invalid_utf8_is_dropped_not_fatal() {
    auto t = core::Tokenizer::from_tokens(minimal_vocab());
    // Invalid bytes decode to U+FFFD, which the cleaning step removes.
    COMPARE_VEC(t.tokenize("a\xFF"
                           "b \xC3"),
                (std::vector<std::string>{"a", "##b"}));
  }

  void missing_vocab_file() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path p = dir.path().toStdString();
    VERIFY_THROWS_MSG(core::Tokenizer::from_folder(p), (p / "vocab.txt").string());
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p / "nope.txt"), "nope.txt");
    try {
      core::Tokenizer::from_folder(p);
    } catch (const core::Error& e) {
      QCOMPARE(e.code(), core::ErrorCode::BadVocab);
    }
  }

  void bad_vocab_contents() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path p = std::filesystem::path(dir.path().toStdString()) / "vocab.txt";
    testutil::write_file(p, "[PAD]\n[CLS]\n[SEP]\n[MASK]\nthe\n");
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p), "[UNK]");
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p), p.string());
    testutil::write_file(p, "");
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p), "empty");
    testutil::write_file(p, "[PAD]\n[UNK]\n[CLS]\n[SEP]\nbad\xC3\n");
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p), "line 5");
    VERIFY_THROWS_MSG(core::Tokenizer::from_tokens({"[PAD]", "[UNK]", "[CLS]"}), "[SEP]");
    // Found by fuzzing: a file of newlines once cost 40x its size in memory.
    testutil::write_file(p, std::string(17u << 20, '\n'));
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p), "MiB limit");
    testutil::write_file(p, std::string(1000001, '\n'));
    VERIFY_THROWS_MSG(core::Tokenizer::from_vocab_file(p), "more than 1000000 tokens");

    testutil::write_file(p, "[PAD]\r\n[UNK]\r\n[CLS]\r\n[SEP]\r\nthe\r\nthe\r\n");
    auto t = core::Tokenizer::from_vocab_file(p);
    QCOMPARE(t.vocab_size(), int64_t(6));
    QCOMPARE(t.token_to_id("the"), int64_t(4));  // a duplicate keeps the first id
    QCOMPARE(t.mask_id(), int64_t(-1));
    QCOMPARE(t.decode({2, 4, 3, 5}, true), std::string("the the"));
  }

  void tokenizer_config() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path d = dir.path().toStdString();
    auto v = minimal_vocab();
    v.push_back("A");
    std::string vocab;
    for (const auto& s : v) vocab += s + "\n";
    testutil::write_file(d / "vocab.txt", vocab);
    testutil::write_file(d / "tokenizer_config.json",
                         R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656})");
    auto t = core::Tokenizer::from_folder(d);
    QVERIFY(!t.lower_case());
    QCOMPARE(t.model_max_length(), INT_MAX);
    COMPARE_VEC(t.tokenize("A a"), (std::vector<std::string>{"A", "a"}));
    testutil::write_file(d / "tokenizer_config.json", "{not json");
    VERIFY_THROWS_MSG(core::Tokenizer::from_folder(d), "tokenizer_config.json");
  }

  void wordpiece_rules() {
    auto t = core::Tokenizer::from_tokens(minimal_vocab());
    COMPARE_VEC(t.tokenize("aab"), (std::vector<std::string>{"a", "##a", "##b"}));
    COMPARE_VEC(t.tokenize("abc a"), (std::vector<std::string>{"[UNK]", "a"}));
    const std::string hundred(100, 'a');
    const auto toks = t.tokenize(hundred);
    QCOMPARE(toks.size(), size_t(100));
    QCOMPARE(toks.front(), std::string("a"));
    QCOMPARE(toks.back(), std::string("##a"));
    COMPARE_VEC(t.tokenize(hundred + "a"), (std::vector<std::string>{"[UNK]"}));
    COMPARE_VEC(t.tokenize("a.b"), (std::vector<std::string>{"a", ".", "b"}));
    const auto e = t.encode("a a a a", true, 4, 6);
    COMPARE_VEC(e.ids, (std::vector<int64_t>{2, 5, 5, 3, 0, 0}));
    COMPARE_VEC(e.mask, (std::vector<int64_t>{1, 1, 1, 1, 0, 0}));
    COMPARE_VEC(e.tokens, (std::vector<std::string>{"[CLS]", "a", "a", "[SEP]", "[PAD]", "[PAD]"}));
    COMPARE_VEC(t.encode("a b", false).ids, (std::vector<int64_t>{5, 7}));
    QCOMPARE(t.decode({2, 5, 6, 9, 3}), std::string("[CLS] aa. [SEP]"));
  }

  void add_token_and_save_round_trip() {
    auto t = core::Tokenizer::from_tokens(minimal_vocab());
    COMPARE_VEC(t.tokenize("zebra"), std::vector<std::string>{"[UNK]"});
    const int64_t id = t.add_token("zebra");
    QCOMPARE(id, int64_t(minimal_vocab().size()));
    QCOMPARE(t.add_token("zebra"), id);
    QCOMPARE(t.add_token("caf\xC3\xA9"), id + 1);
    QCOMPARE(t.vocab_size(), id + 2);
    QVERIFY(t.contains("zebra"));
    COMPARE_VEC(t.encode("a zebra").ids, (std::vector<int64_t>{2, 5, id, 3}));
    QCOMPARE(t.decode({id, id + 1}), std::string("zebra caf\xC3\xA9"));
    VERIFY_THROWS_MSG(t.add_token("two\nlines"), "two");

    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const std::filesystem::path p = std::filesystem::path(dir.path().toStdString()) / "vocab.txt";
    t.save_vocab(p);
    auto back = core::Tokenizer::from_vocab_file(p);
    QVERIFY(back.vocabulary() == t.vocabulary());
    QCOMPARE(back.token_to_id("zebra"), id);
    COMPARE_VEC(back.encode("zebra a").ids, (std::vector<int64_t>{2, id, 5, 3}));
  }

  void long_input_data() {
    QTest::addColumn<std::string>("text");
    std::string english;
    while (english.size() < 10000) english += "What is the colour of the small round object, near the table? ";
    english.resize(10000);
    QTest::newRow("english") << english;
    std::string mixed;
    size_t chars = 0;
    const char* parts[] = {"Crème ", "brûlée ", "這張圖片", "한국어 ", "😀 ", "naïve, ", "ΟΔΟΣ "};
    for (size_t k = 0; chars < 10000; ++k) {
      const std::string p = parts[k % 7];
      mixed += p;
      chars += QString::fromStdString(p).toUcs4().size();
    }
    QTest::newRow("mixed scripts") << mixed;
    QTest::newRow("one long word") << std::string(10000, 'x');
    std::string words;
    while (words.size() < 10000)
      words += "zqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqxjzqx ";
    QTest::newRow("hundred-char words") << words.substr(0, 10000);
  }

  void long_input() {
    REQUIRE_GOLDEN();
    QFETCH(std::string, text);
    const auto e = tok_.encode(text);
    QVERIFY(e.ids.size() >= 3);
    QCOMPARE(e.ids.front(), tok_.cls_id());
    QCOMPARE(e.ids.back(), tok_.sep_id());
    QCOMPARE(tok_.encode(text, true, 35).ids.size(), std::min<size_t>(35, e.ids.size()));
  }
};

QTEST_APPLESS_MAIN(TstTokenizer)
#include "tst_tokenizer.moc"
