// The translations are compiled into the ui library: zh_CN loads, translates
// known strings of each part of the window, and leaves nothing unfinished.
#include <QFile>
#include <QTranslator>
#include <QXmlStreamReader>
#include <QtTest>

#include "core/error.h"
#include "ui/errortext.h"
#include "ui/language.h"

class TstUiTranslation : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void embeddedQmLoads();
  void knownStrings_data();
  void knownStrings();
  void setLanguageSwitches();
  void tsFilesComplete_data();
  void tsFilesComplete();
};

void TstUiTranslation::embeddedQmLoads() {
  QVERIFY(QFile::exists(QStringLiteral(":/i18n/autoglm_zh_CN.qm")));
  QVERIFY(QFile::exists(QStringLiteral(":/i18n/autoglm_en.qm")));
  QTranslator t;
  QVERIFY(t.load(QStringLiteral(":/i18n/autoglm_zh_CN.qm")));
  QVERIFY(!t.isEmpty());
  QCOMPARE(t.language(), QStringLiteral("zh_CN"));
}

void TstUiTranslation::knownStrings_data() {
  QTest::addColumn<QString>("context");
  QTest::addColumn<QString>("source");
  QTest::addColumn<QString>("expected");
  QTest::newRow("ask button") << "ui::MainWindow"
                              << "Ask" << QStringLiteral("提问");
  QTest::newRow("answers") << "ui::MainWindow"
                           << "Answers" << QStringLiteral("回答");
  QTest::newRow("not sure") << "ui::AnswerDelegate"
                            << "not sure" << QStringLiteral("不确定");
  QTest::newRow("uncalibrated") << "ui::AnswerDelegate"
                                << "uncalibrated" << QStringLiteral("未校准");
  QTest::newRow("learned gates") << "ui::GatesPanel"
                                 << "Learned gates" << QStringLiteral("学习门控");
  QTest::newRow("error") << "ErrorText"
                         << "This file is not an image that can be opened"
                         << QStringLiteral("此文件不是可以打开的图像");
}

void TstUiTranslation::knownStrings() {
  QFETCH(QString, context);
  QFETCH(QString, source);
  QFETCH(QString, expected);
  QTranslator t;
  QVERIFY(t.load(QStringLiteral(":/i18n/autoglm_zh_CN.qm")));
  QCOMPARE(t.translate(context.toUtf8().constData(), source.toUtf8().constData()), expected);
}

void TstUiTranslation::setLanguageSwitches() {
  QVERIFY(ui::setLanguage(QStringLiteral("zh_CN")));
  QCOMPARE(ui::currentLanguage(), QStringLiteral("zh_CN"));
  QCOMPARE(ui::errorSummary(core::ErrorCode::BadImage), QStringLiteral("此文件不是可以打开的图像"));
  QVERIFY(ui::setLanguage(QStringLiteral("en")));
  QCOMPARE(ui::errorSummary(core::ErrorCode::BadImage), QStringLiteral("This file is not an image that can be opened"));
  QVERIFY(!ui::setLanguage(QStringLiteral("xx")));
  QVERIFY(ui::setLanguage(QStringLiteral("en")));
}

void TstUiTranslation::tsFilesComplete_data() {
  QTest::addColumn<QString>("file");
  QTest::newRow("zh_CN") << QStringLiteral(AUTOGLM_SOURCE_DIR "/translations/autoglm_zh_CN.ts");
}

void TstUiTranslation::tsFilesComplete() {
  // Every message of the Chinese file has a finished, non-empty translation.
  QFETCH(QString, file);
  QFile f(file);
  QVERIFY(f.open(QIODevice::ReadOnly));
  QXmlStreamReader xml(&f);
  int messages = 0;
  QStringList unfinished;
  QString source;
  while (!xml.atEnd()) {
    xml.readNext();
    if (!xml.isStartElement()) continue;
    if (xml.name() == QLatin1String("source")) source = xml.readElementText();
    if (xml.name() == QLatin1String("translation")) {
      ++messages;
      const bool isUnfinished = xml.attributes().value(QLatin1String("type")) == QLatin1String("unfinished");
      const bool vanished = xml.attributes().value(QLatin1String("type")) == QLatin1String("vanished") ||
                            xml.attributes().value(QLatin1String("type")) == QLatin1String("obsolete");
      const QString text = xml.readElementText(QXmlStreamReader::IncludeChildElements);
      if (!vanished && (isUnfinished || text.trimmed().isEmpty())) unfinished << source;
    }
  }
  QVERIFY(!xml.hasError());
  QVERIFY(messages > 100);
  QVERIFY2(unfinished.isEmpty(), qPrintable(unfinished.join(QStringLiteral(" | "))));
}

QTEST_MAIN(TstUiTranslation)
#include "tst_ui_translation.moc"
