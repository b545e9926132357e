#include "ui/inferenceworker.h"

#include <exception>
#include <utility>

#include <QCoreApplication>
#include <QFileInfo>

#include "core/vision/image.h"
#include "ui/errortext.h"

namespace ui {

namespace {
bool stale(quint64 id, const std::atomic<quint64>& latest, const core::CancelToken& cancel) {
  return cancel.cancelled() || id < latest.load();
}
}  // namespace

InferenceWorker::InferenceWorker(std::shared_ptr<Shared> shared, QObject* parent)
    : QObject(parent), m_shared(std::move(shared)) {
  registerMetaTypes();
}

InferenceWorker::~InferenceWorker() = default;

qint64 InferenceWorker::visionRuns() const { return m_engine ? m_engine->vision_runs() : 0; }

void InferenceWorker::loadModel(quint64 requestId, const QString& dir, const core::Options& options) {
  if (requestId < m_shared->latestLoad.load()) {
    Q_EMIT requestDropped(requestId);
    return;
  }
  try {
    auto progress = [this, requestId](float fraction, core::LoadStage stage) {
      Q_EMIT loadProgress(requestId, fraction, loadStageText(stage));
    };
    core::Options opts = options;
    opts.on_warning = [this](const core::Warning& w) {
      if (w.code == core::Warning::Code::CpuFallback) {
        m_deviceChanged = true;
        Q_EMIT warning(cpuFallbackText());
      } else {
        Q_EMIT warning(warningText(w));
      }
    };
    // The old model stays in use until the new one has loaded.
    auto engine = core::Engine::load(std::filesystem::u8path(dir.toStdString()), opts, progress);
    m_deviceChanged = false;  // modelLoaded carries the device it ended up on
    m_engine = std::move(engine);
    m_images.clear();
    m_paths.clear();
    m_vectors.clear();
    Q_EMIT modelLoaded(requestId, m_engine->info());
  } catch (const std::exception& e) {
    Q_EMIT modelLoadFailed(requestId, errorText(e));
  } catch (...) {
    Q_EMIT modelLoadFailed(requestId, errorText(core::ErrorCode::Internal, QString()));
  }
}

core::ImageId InferenceWorker::imageFor(const QString& path, const core::CancelToken& cancel) {
  const QFileInfo fi(path);
  const qint64 mtime = fi.lastModified().toMSecsSinceEpoch();
  const auto it = m_images.constFind(path);
  if (it != m_images.constEnd() && it->mtime == mtime && it->size == fi.size() && m_engine->cached(it->id))
    return it->id;
  const core::Image img = core::decode_image_file(std::filesystem::u8path(path.toStdString()));
  const core::ImageId id = m_engine->encode(img, cancel);
  m_images.insert(path, CachedImage{mtime, fi.size(), id});
  m_paths.insert(id, path);
  return id;
}

void InferenceWorker::syncModelInfo() {
  if (!m_deviceChanged || !m_engine) return;
  m_deviceChanged = false;
  Q_EMIT modelInfoChanged(m_engine->info());
}

AnswerHeatmapPtr InferenceWorker::answerHeatmap(const core::Result& r, const OptionalHeatmapRequest& heatmap,
                                                const core::CancelToken& cancel) {
  if (!heatmap) return nullptr;
  try {
    return std::make_shared<AnswerHeatmap>(AnswerHeatmap{*heatmap, m_engine->heatmap(r, *heatmap, cancel)});
  } catch (const std::exception&) {
    return nullptr;
  }
}

template <typename Fn>
void InferenceWorker::runAnswer(quint64 requestId, const OptionalHeatmapRequest& heatmap,
                                const core::CancelToken& cancel, Fn&& fn) {
  const InfoSync sync{this};
  if (stale(requestId, m_shared->latestAsk, cancel)) {
    Q_EMIT requestDropped(requestId);
    return;
  }
  try {
    if (!m_engine) {
      Q_EMIT requestFailed(requestId, tr("No model is loaded. Use File > Open Model Folder."));
      return;
    }
    auto result = std::make_shared<core::Result>(fn());
    AnswerHeatmapPtr map;
    if (!stale(requestId, m_shared->latestAsk, cancel)) map = answerHeatmap(*result, heatmap, cancel);
    if (stale(requestId, m_shared->latestAsk, cancel)) {
      Q_EMIT requestDropped(requestId);
      return;
    }
    Q_EMIT answerReady(requestId, ResultPtr(std::move(result)), map);
  } catch (const core::Error& e) {
    if (e.code() == core::ErrorCode::Cancelled || stale(requestId, m_shared->latestAsk, cancel))
      Q_EMIT requestDropped(requestId);
    else
      Q_EMIT requestFailed(requestId, errorText(e));
  } catch (const std::exception& e) {
    Q_EMIT requestFailed(requestId, errorText(e));
  } catch (...) {
    Q_EMIT requestFailed(requestId, errorText(core::ErrorCode::Internal, QString()));
  }
}

void InferenceWorker::encodeAndAsk(quint64 requestId, const QString& imagePath, const QString& question,
                                   const core::AskOptions& options, const OptionalHeatmapRequest& heatmap,
                                   const core::CancelToken& cancel) {
  runAnswer(requestId, heatmap, cancel, [&] {
    const std::string q = question.trimmed().toStdString();
    if (q.empty()) throw core::Error(core::ErrorCode::BadQuestion, "the question is empty");
    const core::ImageId id = imageFor(imagePath, cancel);
    core::AskOptions o = options;
    o.on_partial = [this, requestId](const std::string& t) {
      Q_EMIT answerPartial(requestId, QString::fromStdString(t));
    };
    return m_engine->ask(id, q, o, cancel);
  });
}

void InferenceWorker::describe(quint64 requestId, const QString& imagePath, const core::DescribeOptions& options,
                               const OptionalHeatmapRequest& heatmap, const core::CancelToken& cancel) {
  runAnswer(requestId, heatmap, cancel, [&] {
    const core::ImageId id = imageFor(imagePath, cancel);
    core::DescribeOptions o = options;
    o.on_partial = [this, requestId](const std::string& t) {
      Q_EMIT answerPartial(requestId, QString::fromStdString(t));
    };
    return m_engine->describe(id, o, cancel);
  });
}

void InferenceWorker::heatmap(quint64 requestId, const ResultPtr& result, const core::HeatmapRequest& request,
                              const core::CancelToken& cancel) {
  const InfoSync sync{this};
  if (stale(requestId, m_shared->latestHeatmap, cancel)) {
    Q_EMIT requestDropped(requestId);
    return;
  }
  try {
    if (!m_engine || !result) {
      Q_EMIT heatmapFailed(requestId, tr("No model is loaded. Use File > Open Model Folder."));
      return;
    }
    // Gradient maps need the image features: encode again if they were evicted.
    if (request.method == core::HeatmapMethod::GradWeighted && !m_engine->cached(result->image)) {
      const QString path = m_paths.value(result->image);
      if (!path.isEmpty()) imageFor(path, cancel);
    }
    core::Array map = m_engine->heatmap(*result, request, cancel);
    if (stale(requestId, m_shared->latestHeatmap, cancel)) {
      Q_EMIT requestDropped(requestId);
      return;
    }
    Q_EMIT heatmapReady(requestId, map);
  } catch (const core::Error& e) {
    if (e.code() == core::ErrorCode::Cancelled)
      Q_EMIT requestDropped(requestId);
    else
      Q_EMIT heatmapFailed(requestId, errorText(e));
  } catch (const std::exception& e) {
    Q_EMIT heatmapFailed(requestId, errorText(e));
  } catch (...) {
    Q_EMIT heatmapFailed(requestId, errorText(core::ErrorCode::Internal, QString()));
  }
}

void InferenceWorker::align(quint64 requestId, const QStringList& images, const QString& text,
                            const QStringList& labels, int rerank, const core::CancelToken& cancel) {
  const InfoSync sync{this};
  auto dropped = [&] { return stale(requestId, m_shared->latestAlign, cancel); };
  if (dropped()) {
    Q_EMIT alignFailed(requestId, QString());
    return;
  }
  try {
    if (!m_engine) {
      Q_EMIT alignFailed(requestId, tr("No model is loaded. Use File > Open Model Folder."));
      return;
    }
    auto out = std::make_shared<AlignResult>();
    out->text = text;
    out->labels = labels;
    // Texts first: a bad text or a model without alignment heads fails before any image work.
    std::vector<float> textVec;
    if (!text.trimmed().isEmpty()) textVec = m_engine->embed_text(text.trimmed().toStdString());
    std::vector<std::vector<float>> labelVecs;
    for (const QString& l : labels) labelVecs.push_back(m_engine->embed_text(l.trimmed().toStdString()));
    std::vector<std::vector<float>> vectors;
    int done = 0;
    for (const QString& path : images) {
      if (dropped()) {
        Q_EMIT alignFailed(requestId, QString());
        return;
      }
      const QFileInfo fi(path);
      const qint64 mtime = fi.lastModified().toMSecsSinceEpoch();
      auto it = m_vectors.constFind(path);
      try {
        if (it == m_vectors.constEnd() || it->mtime != mtime || it->size != fi.size()) {
          const core::ImageId id = imageFor(path, cancel);
          it = m_vectors.insert(path, CachedVector{mtime, fi.size(), m_engine->embed_image(id)});
        }
        vectors.push_back(it->v);
        out->images << path;
      } catch (const core::Error& e) {
        if (e.code() == core::ErrorCode::Cancelled) {
          Q_EMIT alignFailed(requestId, QString());
          return;
        }
        out->failed.insert(path, errorText(e));
      }
      Q_EMIT alignProgress(requestId, ++done, int(images.size()));
    }
    if (!textVec.empty()) {
      const auto scores = m_engine->rank(textVec, vectors);
      for (int i = 0; i < out->images.size(); ++i) out->search.insert(out->images[i], scores[size_t(i)]);
    }
    if (!labelVecs.empty())
      for (int i = 0; i < out->images.size(); ++i)
        out->labelScores.insert(out->images[i], m_engine->rank(vectors[size_t(i)], labelVecs));
    if (m_engine->info().matching_head) {
      // The matching head re-reads each image (its vision features), so only the best K.
      QStringList best = out->images;
      std::stable_sort(best.begin(), best.end(), [&](const QString& a, const QString& b) {
        return out->search.value(a).similarity > out->search.value(b).similarity;
      });
      if (!textVec.empty())
        for (int i = 0; i < std::min(int(best.size()), rerank); ++i) {
          if (dropped()) {
            Q_EMIT alignFailed(requestId, QString());
            return;
          }
          const core::ImageId id = imageFor(best[i], cancel);
          out->searchMatch.insert(best[i],
                                  m_engine->match_probabilities(text.trimmed().toStdString(), {id}, cancel).front());
        }
      for (const QString& path : out->images) {
        if (labels.isEmpty()) break;
        if (dropped()) {
          Q_EMIT alignFailed(requestId, QString());
          return;
        }
        const core::ImageId id = imageFor(path, cancel);
        QList<float> p;
        for (const QString& l : labels)
          p << m_engine->match_probabilities(l.trimmed().toStdString(), {id}, cancel).front();
        out->labelMatch.insert(path, p);
      }
    }
    if (dropped()) {
      Q_EMIT alignFailed(requestId, QString());
      return;
    }
    Q_EMIT alignReady(requestId, AlignResultPtr(std::move(out)));
  } catch (const std::exception& e) {
    Q_EMIT alignFailed(requestId, errorText(e));
  } catch (...) {
    Q_EMIT alignFailed(requestId, errorText(core::ErrorCode::Internal, QString()));
  }
}

void InferenceWorker::matchText(quint64 requestId, const QString& imagePath, const QString& text,
                                const core::CancelToken& cancel) {
  const InfoSync sync{this};
  auto dropped = [&] { return stale(requestId, m_shared->latestMatch, cancel); };
  if (dropped()) {
    Q_EMIT matchFailed(requestId, QString());
    return;
  }
  try {
    if (!m_engine) {
      Q_EMIT matchFailed(requestId, tr("No model is loaded. Use File > Open Model Folder."));
      return;
    }
    auto out = std::make_shared<TextMatchResult>();
    out->image = imagePath;
    out->text = text;
    out->match = m_engine->match_text(imageFor(imagePath, cancel), text.trimmed().toStdString(), cancel);
    if (dropped()) {
      Q_EMIT matchFailed(requestId, QString());
      return;
    }
    Q_EMIT matchReady(requestId, TextMatchPtr(std::move(out)));
  } catch (const core::Error& e) {
    Q_EMIT matchFailed(requestId, e.code() == core::ErrorCode::Cancelled ? QString() : errorText(e));
  } catch (const std::exception& e) {
    Q_EMIT matchFailed(requestId, errorText(e));
  }
}

}  // namespace ui
