#pragma once
// Lives on the GUI thread: owns the worker thread and the InferenceWorker,
// hands out request ids, cancels superseded work and forwards only the
// results of the latest request of each kind.
#include <memory>

#include <QObject>
#include <QSet>
#include <QThread>

#include "core/engine/engine.h"
#include "ui/inferenceworker.h"
#include "ui/metatypes.h"

namespace ui {

class InferenceController : public QObject {
  Q_OBJECT

 public:
  explicit InferenceController(QObject* parent = nullptr);
  ~InferenceController() override;  // cancels, then quits and waits for the thread

  // Each returns the request id. A new ask/describe supersedes (and cancels)
  // the previous one; a new heatmap supersedes the previous heatmap; a model
  // load cancels what is running and waits for nothing else.
  quint64 loadModel(const QString& dir, const core::Options& options);
  // With `heatmap`, the answer comes with that heatmap of it (answerReady's third argument).
  quint64 ask(const QString& imagePath, const QString& question, const core::AskOptions& options,
              const OptionalHeatmapRequest& heatmap = {});
  quint64 describe(const QString& imagePath, const core::DescribeOptions& options,
                   const OptionalHeatmapRequest& heatmap = {});
  quint64 heatmap(const ResultPtr& result, const core::HeatmapRequest& request);
  // Search text and/or zero-shot labels over `images`; supersedes the previous one.
  quint64 align(const QStringList& images, const QString& text, const QStringList& labels, int rerank = 16);
  quint64 matchText(const QString& imagePath, const QString& text);  // supersedes the previous one
  void cancelAlign();
  bool aligning() const { return m_pendingAlign != 0; }
  void cancel();  // the running ask/describe (Esc)

  bool busy() const { return m_pendingAsk != 0; }
  bool loading() const { return m_pendingLoad != 0; }
  bool hasModel() const { return m_hasModel; }
  const core::ModelInfo& modelInfo() const { return m_info; }
  InferenceWorker* worker() const { return m_worker; }

 Q_SIGNALS:
  void loadProgress(float fraction, const QString& stage);
  void modelLoaded(const core::ModelInfo& info);
  void modelLoadFailed(const QString& error);
  void answerReady(quint64 requestId, const ui::ResultPtr& result, const ui::AnswerHeatmapPtr& heatmap);
  void answerPartial(quint64 requestId, const QString& text);  // the latest request's answer so far
  void requestFailed(quint64 requestId, const QString& error);
  void requestCancelled(quint64 requestId);
  void heatmapReady(quint64 requestId, const core::Array& map);
  void heatmapFailed(quint64 requestId, const QString& error);
  void busyChanged(bool busy);
  void alignProgress(quint64 requestId, int done, int total);
  void alignReady(quint64 requestId, const ui::AlignResultPtr& result);
  void alignFailed(quint64 requestId, const QString& error);
  void alignCancelled(quint64 requestId);
  void matchReady(quint64 requestId, const ui::TextMatchPtr& result);
  void matchFailed(quint64 requestId, const QString& error);
  // From the worker: e.g. out of GPU memory, now running on the CPU (translated).
  void warning(const QString& text);
  void modelInfoChanged(const core::ModelInfo& info);  // modelInfo() is updated first

  // To the worker (queued).
  void sigLoad(quint64 requestId, const QString& dir, const core::Options& options);
  void sigAsk(quint64 requestId, const QString& imagePath, const QString& question, const core::AskOptions& options,
              const ui::OptionalHeatmapRequest& heatmap, const core::CancelToken& cancel);
  void sigDescribe(quint64 requestId, const QString& imagePath, const core::DescribeOptions& options,
                   const ui::OptionalHeatmapRequest& heatmap, const core::CancelToken& cancel);
  void sigHeatmap(quint64 requestId, const ui::ResultPtr& result, const core::HeatmapRequest& request,
                  const core::CancelToken& cancel);
  void sigAlign(quint64 requestId, const QStringList& images, const QString& text, const QStringList& labels,
                int rerank, const core::CancelToken& cancel);
  void sigMatch(quint64 requestId, const QString& imagePath, const QString& text, const core::CancelToken& cancel);

 private:
  quint64 startAnswerRequest();
  void finishAnswerRequest(quint64 id);

  QThread m_thread;
  InferenceWorker* m_worker = nullptr;  // owned by m_thread (deleteLater on finish)
  std::shared_ptr<InferenceWorker::Shared> m_shared;
  quint64 m_nextId = 0;
  quint64 m_pendingAsk = 0, m_pendingLoad = 0, m_pendingAlign = 0;
  QSet<quint64> m_outstanding;  // asks and describes sent and not yet ended
  core::CancelToken m_askCancel, m_heatmapCancel, m_alignCancel, m_matchCancel;
  bool m_hasModel = false;
  core::ModelInfo m_info;
};

}  // namespace ui
