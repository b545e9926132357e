#pragma once
// The worker that owns the core::Engine. It lives on a QThread (see
// InferenceController) and is driven by queued signals only: the GUI thread
// never calls into the engine. Every request carries an id; a request whose
// id is older than the latest of its kind, or whose cancel token is set, is
// dropped (before it starts and again before its result is sent).
#include <atomic>
#include <memory>

#include <QHash>
#include <QObject>
#include <QString>

#include "core/engine/engine.h"
#include "ui/metatypes.h"

namespace ui {

class InferenceWorker : public QObject {
  Q_OBJECT

 public:
  // Written by the GUI thread when it sends a request, read by the worker.
  struct Shared {
    std::atomic<quint64> latestAsk{0};  // ask and describe
    std::atomic<quint64> latestHeatmap{0};
    std::atomic<quint64> latestLoad{0};
    std::atomic<quint64> latestAlign{0};
    std::atomic<quint64> latestMatch{0};
  };

  explicit InferenceWorker(std::shared_ptr<Shared> shared, QObject* parent = nullptr);
  ~InferenceWorker() override;

  // How often the loaded engine's vision encoder ran (0 without a model). Any thread may
  // read it while no model is loading.
  qint64 visionRuns() const;

 public Q_SLOTS:
  void loadModel(quint64 requestId, const QString& dir, const core::Options& options);
  // With `heatmap`, answerReady carries that heatmap of the answer.
  void encodeAndAsk(quint64 requestId, const QString& imagePath, const QString& question,
                    const core::AskOptions& options, const ui::OptionalHeatmapRequest& heatmap,
                    const core::CancelToken& cancel);
  void describe(quint64 requestId, const QString& imagePath, const core::DescribeOptions& options,
                const ui::OptionalHeatmapRequest& heatmap, const core::CancelToken& cancel);
  void heatmap(quint64 requestId, const ui::ResultPtr& result, const core::HeatmapRequest& request,
               const core::CancelToken& cancel);
  // Embeds every image (once per file version), then scores `text` against the
  // images and each image against `labels`.
  // With a matching head, the best `rerank` images by similarity are re-ranked by it.
  void align(quint64 requestId, const QStringList& images, const QString& text, const QStringList& labels, int rerank,
             const core::CancelToken& cancel);
  // Where `text` matches the image (a model with a matching head).
  void matchText(quint64 requestId, const QString& imagePath, const QString& text, const core::CancelToken& cancel);

 Q_SIGNALS:
  void loadProgress(quint64 requestId, float fraction, const QString& stage);
  void modelLoaded(quint64 requestId, const core::ModelInfo& info);
  void modelLoadFailed(quint64 requestId, const QString& error);
  void answerReady(quint64 requestId, const ui::ResultPtr& result, const ui::AnswerHeatmapPtr& heatmap);
  // The answer so far, as each token comes (models whose language model decodes itself, greedy).
  void answerPartial(quint64 requestId, const QString& text);
  void requestFailed(quint64 requestId, const QString& error);
  void heatmapReady(quint64 requestId, const core::Array& map);
  void heatmapFailed(quint64 requestId, const QString& error);
  void alignProgress(quint64 requestId, int done, int total);
  void alignReady(quint64 requestId, const ui::AlignResultPtr& result);
  void alignFailed(quint64 requestId, const QString& error);  // empty error: cancelled or superseded
  void matchReady(quint64 requestId, const ui::TextMatchPtr& result);
  void matchFailed(quint64 requestId, const QString& error);  // empty error: cancelled or superseded
  // A superseded or cancelled request (ask, describe or heatmap) ended without a result.
  void requestDropped(quint64 requestId);
  // The engine kept working but the user should know (translated), e.g. it
  // moved to the CPU after the GPU ran out of memory; then modelInfoChanged
  // follows with the new device.
  void warning(const QString& text);
  void modelInfoChanged(const core::ModelInfo& info);

 private:
  // Decodes and encodes the image unless the engine still holds it.
  core::ImageId imageFor(const QString& path, const core::CancelToken& cancel);
  // Emits modelInfoChanged when the engine changed device during the request.
  void syncModelInfo();
  struct InfoSync {
    InferenceWorker* w;
    ~InfoSync() { w->syncModelInfo(); }
  };
  template <typename Fn>
  void runAnswer(quint64 requestId, const OptionalHeatmapRequest& heatmap, const core::CancelToken& cancel, Fn&& fn);
  // The heatmap asked for with an answer; null where it cannot be made (the window then asks
  // for it on its own and shows why).
  AnswerHeatmapPtr answerHeatmap(const core::Result& r, const OptionalHeatmapRequest& heatmap,
                                 const core::CancelToken& cancel);

  std::shared_ptr<Shared> m_shared;
  std::unique_ptr<core::Engine> m_engine;
  bool m_deviceChanged = false;
  struct CachedImage {
    qint64 mtime = 0, size = 0;
    core::ImageId id = 0;
  };
  QHash<QString, CachedImage> m_images;   // file path -> engine image id
  QHash<core::ImageId, QString> m_paths;  // engine image id -> file path
  struct CachedVector {
    qint64 mtime = 0, size = 0;
    std::vector<float> v;
  };
  QHash<QString, CachedVector> m_vectors;  // file path -> alignment-space vector
};

}  // namespace ui
