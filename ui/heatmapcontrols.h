#pragma once
// The row under the image that says which heatmap is drawn and how: on or off,
// the method, the fusion layer, the head, the word, the colours and the opacity.
// It knows the shown answer's layers, heads and words (populate) and turns the
// choice into a core::HeatmapRequest; the window sends that to the worker.
#include <QWidget>

#include "core/engine/engine.h"
#include "core/vision/image.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QSlider;

namespace ui {

class HeatmapControls : public QWidget {
  Q_OBJECT

 public:
  // What "all words" means for the shown answer: its question, or the words it generated.
  enum class Whole { Question, Answer, Caption };

  HeatmapControls(bool visible, core::HeatmapMethod method, core::Colormap colormap, int opacity,
                  QWidget* parent = nullptr);

  // The layers, heads and words of an answer's inspection; keeps the layer and head
  // chosen before where they exist, and picks the whole answer or question.
  void populate(const core::Inspection& in, Whole whole);
  core::HeatmapRequest request() const;
  // Shows the settings an earlier heatmap was made with, without asking for another.
  void apply(const core::HeatmapRequest& r);
  bool overlayVisible() const;
  void setOverlayVisible(bool on);
  QComboBox* methodBox() const { return m_method; }

 Q_SIGNALS:
  void requestChanged();  // method, layer, head or word: a new heatmap is needed
  void methodChanged(core::HeatmapMethod method);
  void colormapChanged(core::Colormap colormap);
  void opacityChanged(int percent);
  void visibilityChanged(bool on);

 protected:
  void changeEvent(QEvent* e) override;

 private:
  void retranslate();
  void updateEnabled();
  QString wholeText() const;

  Whole m_whole = Whole::Question;
  QCheckBox* m_show = nullptr;
  QLabel *m_methodLabel = nullptr, *m_layerLabel = nullptr, *m_headLabel = nullptr, *m_tokenLabel = nullptr,
         *m_cmapLabel = nullptr, *m_opacityLabel = nullptr, *m_opacityValue = nullptr;
  QComboBox *m_method = nullptr, *m_layer = nullptr, *m_head = nullptr, *m_token = nullptr, *m_cmap = nullptr;
  QSlider* m_opacity = nullptr;
};

}  // namespace ui
