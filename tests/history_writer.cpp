// tst_history_writer DB COUNT
//
// The other half of tst_history_crash: writes COUNT answers to the history
// database DB as fast as it can (each its own transaction, as the app does)
// and prints the id of each answer on its own line once it is committed,
// flushing stdout, so that the test knows what must survive a SIGKILL.
#include <QCoreApplication>
#include <QImage>
#include <QStringList>

#include <cstdio>

#include "ui/historystore.h"

namespace {

core::Result fakeResult(int i) {
  core::Result r;
  r.question = "what color is shape " + std::to_string(i) + "?";
  r.calibrated = true;
  const char* colours[] = {"red", "green", "blue", "yellow", "purple"};
  for (int c = 0; c < 3; ++c) {
    core::Answer a;
    a.text = colours[(i + c) % 5];
    a.confidence = 0.9f / float(c + 1);
    a.raw_score = a.confidence;
    a.ids = {1000 + i, 7};
    for (int t = 0; t < 4; ++t) {
      core::TokenInfo tok;
      tok.text = a.text + (t ? "##" + std::to_string(t) : std::string());
      tok.id = 100 + t;
      tok.p = 0.5f;
      for (int k = 0; k < 5; ++k) tok.top.push_back({colours[k], 0.1f * float(k)});
      a.tokens.push_back(tok);
    }
    r.answers.push_back(a);
  }
  // Large enough that one answer spans several database pages.
  r.inspection.question_tokens = {"[CLS]", "what", "color", "is", "shape", "?", "[SEP]"};
  r.inspection.gates.shape = {2, 7};
  r.inspection.gates.data.assign(14, 0.25f);
  r.inspection.routing.shape = {2};
  r.inspection.routing.data = {0.4f, 0.6f};
  r.inspection.fusion_layers = {2, 5};
  r.inspection.grid_h = r.inspection.grid_w = 12;
  r.timings.step_ms.assign(64, 1.5);
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  QCoreApplication app(argc, argv);
  const QStringList args = app.arguments();
  if (args.size() < 3) {
    fprintf(stderr, "usage: tst_history_writer DB COUNT\n");
    return 2;
  }
  const int count = args[2].toInt();
  ui::HistoryStore store;
  if (!store.open(args[1])) {
    fprintf(stderr, "cannot open: %s\n", qPrintable(store.lastError()));
    return 1;
  }
  store.newSession();
  QImage thumb(64, 48, QImage::Format_RGB32);
  thumb.fill(Qt::darkCyan);
  const qint64 image = store.addImage(QStringLiteral("/nonexistent/burst.png"), thumb, QSize(640, 480));
  if (!image) return 1;
  printf("session %lld\n", store.currentSession());
  fflush(stdout);
  for (int i = 0; i < count; ++i) {
    const qint64 id = store.addAnswer(image, QStringLiteral("what color is shape %1?").arg(i), false, fakeResult(i),
                                      QStringLiteral("burst-model"), QByteArrayLiteral("{\"beams\":3}"));
    if (!id) {
      fprintf(stderr, "write failed: %s\n", qPrintable(store.lastError()));
      return 1;
    }
    printf("%lld\n", id);
    fflush(stdout);
  }
  return 0;
}
