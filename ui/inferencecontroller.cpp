#include "ui/inferencecontroller.h"

namespace ui {

InferenceController::InferenceController(QObject* parent)
    : QObject(parent), m_shared(std::make_shared<InferenceWorker::Shared>()) {
  registerMetaTypes();
  m_thread.setObjectName(QStringLiteral("InferenceWorker"));
  m_worker = new InferenceWorker(m_shared);  // no parent: it is moved
  m_worker->moveToThread(&m_thread);
  connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

  connect(this, &InferenceController::sigLoad, m_worker, &InferenceWorker::loadModel);
  connect(this, &InferenceController::sigAsk, m_worker, &InferenceWorker::encodeAndAsk);
  connect(this, &InferenceController::sigDescribe, m_worker, &InferenceWorker::describe);
  connect(this, &InferenceController::sigHeatmap, m_worker, &InferenceWorker::heatmap);
  connect(this, &InferenceController::sigAlign, m_worker, &InferenceWorker::align);
  connect(this, &InferenceController::sigMatch, m_worker, &InferenceWorker::matchText);
  connect(m_worker, &InferenceWorker::matchReady, this, [this](quint64 id, const TextMatchPtr& r) {
    if (id == m_shared->latestMatch.load()) Q_EMIT matchReady(id, r);
  });
  connect(m_worker, &InferenceWorker::matchFailed, this, [this](quint64 id, const QString& error) {
    if (id == m_shared->latestMatch.load() && !error.isEmpty()) Q_EMIT matchFailed(id, error);
  });

  connect(m_worker, &InferenceWorker::loadProgress, this, [this](quint64 id, float f, const QString& stage) {
    if (id == m_pendingLoad) Q_EMIT loadProgress(f, stage);
  });
  connect(m_worker, &InferenceWorker::modelLoaded, this, [this](quint64 id, const core::ModelInfo& info) {
    if (id != m_shared->latestLoad.load()) return;
    m_pendingLoad = 0;
    m_hasModel = true;
    m_info = info;
    Q_EMIT modelLoaded(info);
  });
  connect(m_worker, &InferenceWorker::warning, this, &InferenceController::warning);
  connect(m_worker, &InferenceWorker::modelInfoChanged, this, [this](const core::ModelInfo& info) {
    if (!m_hasModel || m_pendingLoad) return;  // a new model is on its way; modelLoaded will say
    m_info = info;
    Q_EMIT modelInfoChanged(info);
  });
  connect(m_worker, &InferenceWorker::modelLoadFailed, this, [this](quint64 id, const QString& error) {
    if (id != m_shared->latestLoad.load()) return;
    m_pendingLoad = 0;
    Q_EMIT modelLoadFailed(error);
  });
  // Every ask/describe ends in exactly one of answerReady, requestFailed or
  // requestCancelled. A result that is no longer the latest (it was sent
  // before it was superseded) counts as cancelled.
  connect(m_worker, &InferenceWorker::answerReady, this,
          [this](quint64 id, const ResultPtr& r, const AnswerHeatmapPtr& heatmap) {
            if (!m_outstanding.contains(id)) return;
            const bool latest = id == m_shared->latestAsk.load();
            finishAnswerRequest(id);
            if (latest)
              Q_EMIT answerReady(id, r, heatmap);
            else
              Q_EMIT requestCancelled(id);
          });
  connect(m_worker, &InferenceWorker::answerPartial, this, [this](quint64 id, const QString& text) {
    if (m_outstanding.contains(id) && id == m_shared->latestAsk.load()) Q_EMIT answerPartial(id, text);
  });
  connect(m_worker, &InferenceWorker::requestFailed, this, [this](quint64 id, const QString& error) {
    if (!m_outstanding.contains(id)) return;
    const bool latest = id == m_shared->latestAsk.load();
    finishAnswerRequest(id);
    if (latest)
      Q_EMIT requestFailed(id, error);
    else
      Q_EMIT requestCancelled(id);
  });
  connect(m_worker, &InferenceWorker::requestDropped, this, [this](quint64 id) {
    if (!m_outstanding.contains(id)) return;  // a heatmap or a model load
    finishAnswerRequest(id);
    Q_EMIT requestCancelled(id);
  });
  connect(m_worker, &InferenceWorker::heatmapReady, this, [this](quint64 id, const core::Array& map) {
    if (id == m_shared->latestHeatmap.load()) Q_EMIT heatmapReady(id, map);
  });
  connect(m_worker, &InferenceWorker::heatmapFailed, this, [this](quint64 id, const QString& error) {
    if (id == m_shared->latestHeatmap.load()) Q_EMIT heatmapFailed(id, error);
  });
  connect(m_worker, &InferenceWorker::alignProgress, this, [this](quint64 id, int done, int total) {
    if (id == m_pendingAlign) Q_EMIT alignProgress(id, done, total);
  });
  connect(m_worker, &InferenceWorker::alignReady, this, [this](quint64 id, const AlignResultPtr& r) {
    if (id != m_pendingAlign) return;
    m_pendingAlign = 0;
    Q_EMIT alignReady(id, r);
  });
  connect(m_worker, &InferenceWorker::alignFailed, this, [this](quint64 id, const QString& error) {
    if (id != m_pendingAlign) return;
    m_pendingAlign = 0;
    if (error.isEmpty())
      Q_EMIT alignCancelled(id);
    else
      Q_EMIT alignFailed(id, error);
  });
  m_thread.start();
}

InferenceController::~InferenceController() {
  m_askCancel.cancel();
  m_heatmapCancel.cancel();
  m_alignCancel.cancel();
  m_shared->latestAlign.store(~quint64(0));
  m_shared->latestAsk.store(~quint64(0));
  m_shared->latestHeatmap.store(~quint64(0));
  m_shared->latestLoad.store(~quint64(0));
  m_thread.quit();
  m_thread.wait();
}

quint64 InferenceController::loadModel(const QString& dir, const core::Options& options) {
  // A model switch cancels the running question; queued ones are dropped.
  cancel();
  m_heatmapCancel.cancel();
  cancelAlign();
  const quint64 id = ++m_nextId;
  m_shared->latestAlign.store(id);
  m_shared->latestAsk.store(id);
  m_shared->latestHeatmap.store(id);
  m_shared->latestLoad.store(id);
  m_pendingLoad = id;
  Q_EMIT sigLoad(id, dir, options);
  return id;
}

quint64 InferenceController::startAnswerRequest() {
  m_askCancel.cancel();  // the running one stops between decoding steps
  m_askCancel = core::CancelToken();
  const quint64 id = ++m_nextId;
  m_shared->latestAsk.store(id);
  const bool wasBusy = busy();
  m_pendingAsk = id;
  m_outstanding.insert(id);
  if (!wasBusy) Q_EMIT busyChanged(true);
  return id;
}

void InferenceController::finishAnswerRequest(quint64 id) {
  m_outstanding.remove(id);
  if (id != m_pendingAsk) return;
  m_pendingAsk = 0;
  Q_EMIT busyChanged(false);
}

quint64 InferenceController::ask(const QString& imagePath, const QString& question, const core::AskOptions& options,
                                 const OptionalHeatmapRequest& heatmap) {
  const quint64 id = startAnswerRequest();
  Q_EMIT sigAsk(id, imagePath, question, options, heatmap, m_askCancel);
  return id;
}

quint64 InferenceController::describe(const QString& imagePath, const core::DescribeOptions& options,
                                      const OptionalHeatmapRequest& heatmap) {
  const quint64 id = startAnswerRequest();
  Q_EMIT sigDescribe(id, imagePath, options, heatmap, m_askCancel);
  return id;
}

quint64 InferenceController::heatmap(const ResultPtr& result, const core::HeatmapRequest& request) {
  m_heatmapCancel.cancel();
  m_heatmapCancel = core::CancelToken();
  const quint64 id = ++m_nextId;
  m_shared->latestHeatmap.store(id);
  Q_EMIT sigHeatmap(id, result, request, m_heatmapCancel);
  return id;
}

void InferenceController::cancel() { m_askCancel.cancel(); }

quint64 InferenceController::align(const QStringList& images, const QString& text, const QStringList& labels,
                                   int rerank) {
  m_alignCancel.cancel();
  m_alignCancel = core::CancelToken();
  const quint64 id = ++m_nextId;
  m_shared->latestAlign.store(id);
  m_pendingAlign = id;
  Q_EMIT sigAlign(id, images, text, labels, rerank, m_alignCancel);
  return id;
}

quint64 InferenceController::matchText(const QString& imagePath, const QString& text) {
  m_matchCancel.cancel();
  m_matchCancel = core::CancelToken();
  const quint64 id = ++m_nextId;
  m_shared->latestMatch.store(id);
  Q_EMIT sigMatch(id, imagePath, text, m_matchCancel);
  return id;
}

void InferenceController::cancelAlign() {
  m_alignCancel.cancel();
  if (m_pendingAlign) {
    const quint64 id = m_pendingAlign;
    m_pendingAlign = 0;
    Q_EMIT alignCancelled(id);
  }
}

}  // namespace ui
