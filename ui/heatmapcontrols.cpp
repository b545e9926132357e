#include "ui/heatmapcontrols.h"

#include <algorithm>

#include <QCheckBox>
#include <QComboBox>
#include <QEvent>
#include <QGridLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>

#include "core/engine/summary.h"
#include "ui/gatesview.h"

namespace ui {

namespace {
QLabel* fieldLabel(QWidget* parent) {
  auto* l = new QLabel(parent);
  l->setForegroundRole(QPalette::WindowText);
  return l;
}
}  // namespace

HeatmapControls::HeatmapControls(bool visible, core::HeatmapMethod method, core::Colormap colormap, int opacity,
                                 QWidget* parent)
    : QWidget(parent) {
  setObjectName(QStringLiteral("heatmapControls"));
  auto* grid = new QGridLayout(this);
  grid->setContentsMargins(2, 0, 2, 0);
  grid->setHorizontalSpacing(8);
  grid->setVerticalSpacing(6);
  m_show = new QCheckBox(this);
  m_show->setChecked(visible);
  QFont bold = m_show->font();
  bold.setBold(true);
  m_show->setFont(bold);
  m_methodLabel = fieldLabel(this);
  m_method = new QComboBox(this);
  m_method->setObjectName(QStringLiteral("heatmapMethod"));
  for (int i = 0; i < 4; ++i) m_method->addItem(QString(), i);
  m_method->setCurrentIndex(int(method));
  m_layerLabel = fieldLabel(this);
  m_layer = new QComboBox(this);
  m_headLabel = fieldLabel(this);
  m_head = new QComboBox(this);
  m_tokenLabel = fieldLabel(this);
  m_token = new QComboBox(this);
  m_token->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  m_token->setMinimumContentsLength(10);
  m_cmapLabel = fieldLabel(this);
  m_cmap = new QComboBox(this);
  for (auto c : {core::Colormap::Turbo, core::Colormap::Jet, core::Colormap::Viridis, core::Colormap::Inferno}) {
    QString name = QString::fromLatin1(core::colormap_name(c));
    if (!name.isEmpty()) name[0] = name[0].toUpper();
    m_cmap->addItem(name, int(c));
  }
  m_cmap->setCurrentIndex(std::max(0, m_cmap->findData(int(colormap))));
  m_opacityLabel = fieldLabel(this);
  m_opacity = new QSlider(Qt::Horizontal, this);
  m_opacity->setRange(0, 100);
  m_opacity->setValue(opacity);
  m_opacity->setMinimumWidth(90);
  m_opacityValue = new QLabel(QStringLiteral("%1%").arg(opacity), this);
  m_opacityValue->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("100%")) + 4);
  // row 0: show, method, layer, head; row 1: token, colours, opacity
  grid->addWidget(m_show, 0, 0);
  grid->addWidget(m_methodLabel, 0, 1, Qt::AlignRight);
  grid->addWidget(m_method, 0, 2);
  grid->addWidget(m_layerLabel, 0, 3, Qt::AlignRight);
  grid->addWidget(m_layer, 0, 4);
  grid->addWidget(m_headLabel, 0, 5, Qt::AlignRight);
  grid->addWidget(m_head, 0, 6, 1, 2);
  grid->addWidget(m_tokenLabel, 1, 1, Qt::AlignRight);
  grid->addWidget(m_token, 1, 2);
  grid->addWidget(m_cmapLabel, 1, 3, Qt::AlignRight);
  grid->addWidget(m_cmap, 1, 4);
  grid->addWidget(m_opacityLabel, 1, 5, Qt::AlignRight);
  grid->addWidget(m_opacity, 1, 6);
  grid->addWidget(m_opacityValue, 1, 7);
  grid->setColumnStretch(2, 2);
  grid->setColumnStretch(4, 1);
  grid->setColumnStretch(6, 1);

  auto changed = [this] {
    updateEnabled();
    Q_EMIT requestChanged();
  };
  connect(m_method, qOverload<int>(&QComboBox::currentIndexChanged), this, [this, changed](int) {
    Q_EMIT methodChanged(core::HeatmapMethod(m_method->currentData().toInt()));
    changed();
  });
  connect(m_layer, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_head, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_token, qOverload<int>(&QComboBox::currentIndexChanged), this, changed);
  connect(m_cmap, qOverload<int>(&QComboBox::currentIndexChanged), this,
          [this](int) { Q_EMIT colormapChanged(core::Colormap(m_cmap->currentData().toInt())); });
  connect(m_opacity, &QSlider::valueChanged, this, [this](int v) {
    m_opacityValue->setText(QStringLiteral("%1%").arg(v));
    Q_EMIT opacityChanged(v);
  });
  connect(m_show, &QCheckBox::toggled, this, [this](bool on) {
    updateEnabled();
    Q_EMIT visibilityChanged(on);
  });
  retranslate();
  updateEnabled();
}

bool HeatmapControls::overlayVisible() const { return m_show->isChecked(); }

void HeatmapControls::setOverlayVisible(bool on) { m_show->setChecked(on); }

void HeatmapControls::populate(const core::Inspection& in, Whole whole) {
  QSignalBlocker b1(m_layer), b2(m_head), b3(m_token);
  m_whole = whole;
  const int L = in.cross_attention.shape.size() == 4 ? int(in.cross_attention.shape[0]) : 0;
  const int H = in.cross_attention.shape.size() == 4 ? int(in.cross_attention.shape[1]) : 0;
  const int prevLayer = m_layer->currentIndex(), prevHead = m_head->currentIndex();
  m_layer->clear();
  for (int l = 0; l < L; ++l) {
    const int num = l < int(in.fusion_layers.size()) ? in.fusion_layers[size_t(l)] + 1 : l + 1;
    m_layer->addItem(tr("Layer %1").arg(num), l);
    m_layer->setItemData(l, num, Qt::UserRole + 1);
  }
  m_layer->setCurrentIndex(prevLayer >= 0 && prevLayer < L ? prevLayer : L - 1);
  m_head->clear();
  m_head->addItem(tr("Mean of heads"), -1);
  for (int h = 0; h < H; ++h) m_head->addItem(tr("Head %1").arg(h + 1), h);
  m_head->setCurrentIndex(prevHead >= 0 && prevHead <= H ? prevHead : 0);
  m_token->clear();
  m_token->addItem(wholeText(), -1);
  for (int t = 0; t < int(in.question_tokens.size()); ++t) {
    const std::string& tok = in.question_tokens[size_t(t)];
    if (core::is_special_token(tok)) continue;
    m_token->addItem(displayToken(tok), t);
  }
  m_token->setCurrentIndex(0);
  updateEnabled();
}

core::HeatmapRequest HeatmapControls::request() const {
  core::HeatmapRequest r;
  r.method = core::HeatmapMethod(m_method->currentData().toInt());
  r.layer = m_layer->currentIndex() >= 0 ? m_layer->currentData().toInt() : -1;
  r.head =
      r.method == core::HeatmapMethod::GradWeighted || m_head->currentIndex() < 0 ? -1 : m_head->currentData().toInt();
  r.token = m_token->currentIndex() >= 0 ? m_token->currentData().toInt() : -1;
  r.answer = 0;
  return r;
}

void HeatmapControls::apply(const core::HeatmapRequest& r) {
  QSignalBlocker b0(m_method), b1(m_layer), b2(m_head), b3(m_token);
  m_method->setCurrentIndex(std::max(0, m_method->findData(int(r.method))));
  if (r.layer >= 0) m_layer->setCurrentIndex(std::max(0, m_layer->findData(r.layer)));
  m_head->setCurrentIndex(std::max(0, m_head->findData(r.head)));
  m_token->setCurrentIndex(std::max(0, m_token->findData(r.token)));
  updateEnabled();
}

void HeatmapControls::updateEnabled() {
  const auto method = core::HeatmapMethod(m_method->currentData().toInt());
  const bool on = m_show->isChecked();
  m_method->setEnabled(on);
  m_layer->setEnabled(on && method == core::HeatmapMethod::LayerAttention && m_layer->count() > 0);
  m_head->setEnabled(on && method != core::HeatmapMethod::GradWeighted && m_head->count() > 1);
  m_token->setEnabled(on && m_token->count() > 1);
  m_cmap->setEnabled(on);
  m_opacity->setEnabled(on);
}

QString HeatmapControls::wholeText() const {
  switch (m_whole) {
    case Whole::Answer:
      return tr("Whole answer");
    case Whole::Caption:
      return tr("Whole caption");
    case Whole::Question:
      break;
  }
  return tr("Whole question");
}

void HeatmapControls::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslate();
  QWidget::changeEvent(e);
}

void HeatmapControls::retranslate() {
  m_show->setText(tr("Heatmap"));
  m_show->setToolTip(tr("Overlay where the model looked (Ctrl+H)"));
  m_methodLabel->setText(tr("Method"));
  m_method->setItemText(0, tr("Layer attention"));
  m_method->setItemText(1, tr("All layers"));
  m_method->setItemText(2, tr("Attention rollout"));
  m_method->setItemText(3, tr("Gradient-weighted"));
  m_method->setToolTip(
      tr("Layer attention: one fusion layer's cross-attention. All layers: their mean. "
         "Rollout: carried through the text self-attention. Gradient-weighted: "
         "the parts that raised this answer's probability."));
  m_layerLabel->setText(tr("Layer"));
  m_headLabel->setText(tr("Head"));
  m_tokenLabel->setText(tr("Word"));
  m_cmapLabel->setText(tr("Colours"));
  m_opacityLabel->setText(tr("Opacity"));
  if (m_head->count() > 0) m_head->setItemText(0, tr("Mean of heads"));
  if (m_token->count() > 0) m_token->setItemText(0, wholeText());
  for (int i = 0; i < m_layer->count(); ++i)
    m_layer->setItemText(i, tr("Layer %1").arg(m_layer->itemData(i, Qt::UserRole + 1).toInt()));
  for (int i = 1; i < m_head->count(); ++i) m_head->setItemText(i, tr("Head %1").arg(i));
}

}  // namespace ui
