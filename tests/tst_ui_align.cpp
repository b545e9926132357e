// Search and zero-shot labels in the window, offscreen, with a real model
// forward in the worker: the search box re-orders the thumbnails exactly as
// the engine ranks them, labels give each image a distribution, Clear restores
// the order, a model without alignment heads says so. Saves a screenshot.
#include <QApplication>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <numeric>

#include "core/engine/engine.h"
#include "core/model/factory.h"
#include "core/engine/paths.h"
#include "core/io/config.h"
#include "core/train/shapes.h"
#include "core/vision/image.h"
#include "ui/alignpanel.h"
#include "ui/imageview.h"
#include "ui/inferencecontroller.h"
#include "ui/language.h"
#include "ui/mainwindow.h"
#include "testutil.h"

namespace fs = std::filesystem;

class TstUiAlign : public QObject {
  Q_OBJECT
  QTemporaryDir m_dir;
  QString m_model;
  QStringList m_images;
  std::unique_ptr<ui::MainWindow> m_win;

  bool loadModel(const QString& dir) {
    QSignalSpy loaded(m_win->controller(), &ui::InferenceController::modelLoaded);
    m_win->loadModel(dir);
    return loaded.wait(60000);
  }
  QStringList thumbnailOrder() const {
    QStringList out;
    for (int i = 0; i < m_win->thumbnails()->count(); ++i)
      out << m_win->thumbnails()->item(i)->data(Qt::UserRole).toString();
    return out;
  }

 private Q_SLOTS:
  void initTestCase() {
    QVERIFY(m_dir.isValid());
    qputenv("XDG_CONFIG_HOME", m_dir.filePath(QStringLiteral("config")).toUtf8());
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName(QStringLiteral("OpenAutoGLM-test"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_ui_align"));
    ui::setLanguage(QStringLiteral("en"));
    // The shipped model when present (its alignment is trained), else a random one.
    const fs::path shipped = fs::path(AUTOGLM_SOURCE_DIR) / "resources" / "models" / "default";
    if (core::load_config(shipped).align_dim > 0) {
      m_model = QString::fromStdString(shipped.string());
    } else {
      m_model = m_dir.filePath(QStringLiteral("model"));
      const auto vocab = core::make_vocab(core::shapes::vocabulary());
      core::write_random_model(fs::u8path(m_model.toStdString()), core::small_config(int(vocab.size())), vocab, 3);
    }
    for (int i = 0; i < 6; ++i) {
      core::shapes::GenOptions opt;
      opt.fixed_w = 200 + 20 * i;
      opt.fixed_h = 180;
      const auto sc = core::shapes::render_scene(core::shapes::mix_seed(31, uint64_t(i)), opt);
      const QString path = m_dir.filePath(QStringLiteral("scene-%1.png").arg(i));
      core::save_png(core::image_from_mat(sc.rgb), fs::u8path(path.toStdString()));
      m_images << path;
    }
    m_win = std::make_unique<ui::MainWindow>();
    m_win->resize(1360, 860);
    m_win->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_win.get()));
    m_win->overrideDevice(core::Device::Cpu, 0);
    QVERIFY(loadModel(m_model));
    QCOMPARE(m_win->openFiles(m_images), 6);
  }

  void searchReordersThumbnails() {
    const QString query = QStringLiteral("a large red circle and a small blue square");
    // what the engine says, computed here independently
    auto engine = core::Engine::load(fs::u8path(m_model.toStdString()), core::Options{core::Device::Cpu});
    std::vector<std::vector<float>> vecs;
    for (const QString& p : m_images)
      vecs.push_back(engine->embed_image(engine->encode(core::decode_image_file(fs::u8path(p.toStdString())))));
    const auto scores = engine->rank(engine->embed_text(query.toStdString()), vecs);
    std::vector<int> order(m_images.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return scores[size_t(a)].similarity > scores[size_t(b)].similarity; });
    QStringList expected;
    for (int i : order) expected << m_images[i];
    QVERIFY(expected != m_images);  // otherwise the test could not see a re-ordering

    auto* panel = m_win->alignPanel();
    QVERIFY(m_win->alignDock()->isVisible());
    QVERIFY(panel->searchEdit()->isEnabled());
    QSignalSpy ready(m_win->controller(), &ui::InferenceController::alignReady);
    QSignalSpy progress(m_win->controller(), &ui::InferenceController::alignProgress);
    QTest::keyClicks(panel->searchEdit(), query);
    QTest::keyClick(panel->searchEdit(), Qt::Key_Return);
    QVERIFY(ready.wait(60000));
    QCOMPARE(progress.last().at(1).toInt(), 6);
    QCOMPARE(thumbnailOrder(), expected);
    // each thumbnail shows its score
    const QString first = m_win->thumbnails()->item(0)->text();
    QVERIFY2(first.contains(QLocale().toString(double(scores[size_t(order[0])].similarity), 'f', 2)),
             qPrintable(first));
    QVERIFY(panel->statusLabel()->text().contains(QStringLiteral("6 images")));
    QVERIFY(!panel->progressBar()->isVisible());

    // Clear: back to the order they were added in, plain names
    QTest::mouseClick(panel->clearButton(), Qt::LeftButton);
    QCOMPARE(thumbnailOrder(), m_images);
    QCOMPARE(m_win->thumbnails()->item(0)->text(), QStringLiteral("scene-0.png"));
  }

  void labelsGiveEachImageADistribution() {
    auto* panel = m_win->alignPanel();
    QVERIFY(!panel->chart()->isVisible());  // no labels yet: no empty chart under a title
    QSignalSpy ready(m_win->controller(), &ui::InferenceController::alignReady);
    panel->labelsEdit()->setText(QStringLiteral("a yellow star, a purple square, a red circle"));
    QTest::mouseClick(panel->labelButton(), Qt::LeftButton);
    QVERIFY(ready.wait(60000));
    QVERIFY(m_win->setCurrentImage(m_images[2]));
    QVERIFY(panel->chart()->isVisible());
    const auto probs = panel->chart()->probabilities();
    QCOMPARE(probs.size(), 3);
    QVERIFY(std::abs(std::accumulate(probs.begin(), probs.end(), 0.0) - 1.0) < 1e-4);
    QVERIFY(probs[0] >= probs[1] && probs[1] >= probs[2]);  // highest first
    QVERIFY(panel->chart()->labels().contains(QStringLiteral("a purple square")));
    // the engine's own distribution for that image
    auto engine = core::Engine::load(fs::u8path(m_model.toStdString()), core::Options{core::Device::Cpu});
    auto m = engine->match(engine->encode(core::decode_image_file(fs::u8path(m_images[2].toStdString()))),
                           {"a yellow star", "a purple square", "a red circle"});
    QVERIFY(std::abs(*std::max_element(probs.begin(), probs.end()) -
                     std::max({m[0].probability, m[1].probability, m[2].probability})) < 1e-4);
    // the screenshot: a search applied, the best match selected with its labels
    panel->searchEdit()->setText(QStringLiteral("a yellow star and a purple square"));
    QTest::mouseClick(panel->searchButton(), Qt::LeftButton);
    QVERIFY(ready.wait(60000));
    QVERIFY(m_win->setCurrentImage(m_win->thumbnails()->item(0)->data(Qt::UserRole).toString()));
    QCoreApplication::sendPostedEvents();  // layout requests are posted events: apply them before the grab
    const QImage shot = m_win->grab().toImage();
    QVERIFY(shot.save(QString::fromUtf8(AUTOGLM_BINARY_DIR) + QStringLiteral("/screenshot-search.png")));
    m_win->clearSearch();

    // one label is not a choice
    panel->labelsEdit()->setText(QStringLiteral("only one"));
    QTest::mouseClick(panel->labelButton(), Qt::LeftButton);
    QVERIFY(panel->statusLabel()->text().contains(QStringLiteral("two labels")));
  }

  void cancelStopsEmbedding() {
    auto* panel = m_win->alignPanel();
    QSignalSpy cancelled(m_win->controller(), &ui::InferenceController::alignCancelled);
    QSignalSpy ready(m_win->controller(), &ui::InferenceController::alignReady);
    // a model reload forgets the vectors, so the next search embeds again
    QVERIFY(loadModel(m_model));
    QVERIFY(m_win->searchImages(QStringLiteral("a yellow star")));
    QVERIFY(panel->cancelButton()->isVisible());
    QTest::mouseClick(panel->cancelButton(), Qt::LeftButton);
    QCOMPARE(cancelled.count(), 1);
    QVERIFY(!panel->progressBar()->isVisible());
    QVERIFY(!ready.wait(1500));  // the cancelled result never arrives
    QVERIFY(panel->statusLabel()->text().contains(QStringLiteral("Cancelled")));
    QCOMPARE(thumbnailOrder(), m_images);
  }

  // A model with a matching head (BLIP ITM, the golden tiny one): the search re-ranks
  // by it, as the engine scores the pairs; selecting a result shows where the text
  // matches; labels carry both scores; the question box matches instead of asking.
  void matchingHeadReranksAndShowsWhereTextMatches() {
    const fs::path itm = testutil::golden_dir() / "blip_itm" / "itm_model";
    if (!fs::exists(itm / "config.json")) QSKIP("golden/blip_itm not found (set AUTOGLM_GOLDEN_DIR)");
    QVERIFY(loadModel(QString::fromStdString(itm.string())));
    QVERIFY(m_win->controller()->modelInfo().matching_head);
    const QString query = QStringLiteral("a red square and a blue disc");
    auto engine = core::Engine::load(itm, core::Options{core::Device::Cpu});
    std::vector<core::ImageId> ids;
    for (const QString& p : m_images)
      ids.push_back(engine->encode(core::decode_image_file(fs::u8path(p.toStdString()))));
    const auto p = engine->match_probabilities(query.toStdString(), ids);
    std::vector<int> order(m_images.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[size_t(a)] > p[size_t(b)]; });
    QStringList expected;
    for (int i : order) expected << m_images[i];

    auto* panel = m_win->alignPanel();
    QSignalSpy ready(m_win->controller(), &ui::InferenceController::alignReady);
    QSignalSpy shown(m_win.get(), &ui::MainWindow::matchShown);
    panel->searchEdit()->setText(query);
    QTest::keyClick(panel->searchEdit(), Qt::Key_Return);
    QVERIFY(ready.wait(60000));
    QCOMPARE(thumbnailOrder(), expected);
    const QString first = m_win->thumbnails()->item(0)->text();
    QVERIFY2(first.startsWith(QLocale().toString(100.0 * double(p[size_t(order[0])]), 'f', 0) + QLatin1Char('%')),
             qPrintable(first));
    // the current image (a search result) shows where the text matches
    QVERIFY(shown.wait(60000));
    QVERIFY(m_win->imageView()->hasHeatmap());
    QVERIFY2(panel->statusLabel()->text().contains(QStringLiteral("matches this image")),
             qPrintable(panel->statusLabel()->text()));

    // labels: the distribution and each label's matching probability
    QSignalSpy labelled(m_win->controller(), &ui::InferenceController::alignReady);
    QVERIFY(
        m_win->labelImages({QStringLiteral("a red square"), QStringLiteral("a dog"), QStringLiteral("a blue disc")}));
    QVERIFY(labelled.wait(60000));
    QCOMPARE(panel->chart()->matching().size(), 3);
    // clicking a label shows where it matches
    shown.clear();
    const QString top = panel->chart()->labels().front();
    QTest::mouseClick(panel->chart(), Qt::LeftButton, {}, QPoint(10, 15));
    QVERIFY(shown.wait(60000));
    QVERIFY2(panel->statusLabel()->text().contains(top), qPrintable(panel->statusLabel()->text()));

    // Ask on a model that answers no questions: it matches the text instead
    QCOMPARE(m_win->findChild<QPushButton*>(QStringLiteral("askButton"))->text(), QStringLiteral("Match"));
    shown.clear();
    m_win->askQuestion(QStringLiteral("a blue disc"));
    QVERIFY(shown.wait(60000));
    QCOMPARE(panel->searchEdit()->text(), QStringLiteral("a blue disc"));
    QMetaObject::invokeMethod(panel->clearButton(), "click");
  }

  void modelWithoutAlignmentSaysSo() {
    const QString dir = m_dir.filePath(QStringLiteral("noalign"));
    const auto vocab = core::make_vocab(core::shapes::vocabulary());
    auto cfg = core::small_config(int(vocab.size()));
    cfg.align_dim = 0;
    core::write_random_model(fs::u8path(dir.toStdString()), cfg, vocab, 4);
    QVERIFY(loadModel(dir));
    auto* panel = m_win->alignPanel();
    QVERIFY(!panel->searchEdit()->isEnabled());
    QVERIFY(!panel->searchButton()->isEnabled());
    QVERIFY(panel->statusLabel()->text().contains(QStringLiteral("no alignment heads")));
    QVERIFY(!m_win->searchImages(QStringLiteral("a red circle")));
  }

  void cleanupTestCase() { m_win.reset(); }
};

QTEST_MAIN(TstUiAlign)
#include "tst_ui_align.moc"
