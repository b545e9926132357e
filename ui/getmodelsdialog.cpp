#include "ui/getmodelsdialog.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QEvent>
#include <QFrame>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

#include "core/hub/cache.h"
#include "ui/errortext.h"

namespace ui {

namespace {

const char* kUnfinishedKey = "hub/unfinished";

// Three significant digits at most: 990 MB, 1.5 GB, 12.5 MB.
QString bytesText(quint64 b) {
  double v = double(b);
  while (v >= 1000) v /= 1000;
  return QLocale().formattedDataSize(qint64(b), v >= 100 ? 0 : 1, QLocale::DataSizeSIFormat);
}

QString timeText(double s) {
  if (!std::isfinite(s) || s < 0) return QStringLiteral("--:--");
  const long t = std::lround(s);
  if (t >= 3600)
    return QStringLiteral("%1:%2:%3")
        .arg(t / 3600)
        .arg(t / 60 % 60, 2, 10, QLatin1Char('0'))
        .arg(t % 60, 2, 10, QLatin1Char('0'));
  return QStringLiteral("%1:%2").arg(t / 60).arg(t % 60, 2, 10, QLatin1Char('0'));
}

QString nativePath(const std::filesystem::path& p) {
  return QDir::toNativeSeparators(QString::fromStdString(p.u8string()));
}

}  // namespace

// One download in the list: name, bar, what it is doing, and its buttons.
class DownloadRow : public QFrame {
  Q_OBJECT

 public:
  DownloadRow(HubDownload* d, QWidget* parent) : QFrame(parent), m_d(d) {
    setObjectName(QStringLiteral("download:") + d->repoRef());
    setFrameShape(QFrame::StyledPanel);
    d->setParent(this);
    m_name = new QLabel(d->repoRef(), this);
    QFont bold = m_name->font();
    bold.setBold(true);
    m_name->setFont(bold);
    m_bar = new QProgressBar(this);
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_detail = new QLabel(this);
    m_detail->setObjectName(QStringLiteral("detail"));
    m_detail->setWordWrap(true);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_pause = new QPushButton(this);
    m_pause->setObjectName(QStringLiteral("pause"));
    m_cancel = new QPushButton(this);
    m_cancel->setObjectName(QStringLiteral("cancel"));
    m_open = new QPushButton(this);
    m_open->setObjectName(QStringLiteral("open"));
    m_dismiss = new QPushButton(this);
    m_dismiss->setObjectName(QStringLiteral("dismiss"));
    auto* top = new QHBoxLayout;
    top->addWidget(m_name, 1);
    top->addWidget(m_pause);
    top->addWidget(m_cancel);
    top->addWidget(m_open);
    top->addWidget(m_dismiss);
    auto* v = new QVBoxLayout(this);
    v->addLayout(top);
    v->addWidget(m_bar);
    v->addWidget(m_detail);
    connect(m_pause, &QPushButton::clicked, this, [this] {
      if (m_d->active())
        m_d->pause();
      else
        m_d->start();
    });
    connect(m_cancel, &QPushButton::clicked, d, &HubDownload::cancel);
    connect(d, &HubDownload::progress, this, &DownloadRow::render);
    connect(d, &HubDownload::stateChanged, this, &DownloadRow::render);
    render();
  }

  HubDownload* download() const { return m_d; }
  QPushButton* openButton() const { return m_open; }
  QPushButton* dismissButton() const { return m_dismiss; }

  void render() {
    using S = HubDownload::State;
    const S s = m_d->state();
    const quint64 done = m_d->done(), total = m_d->total();
    m_bar->setValue(total ? int(1000.0 * double(done) / double(total)) : 0);
    m_bar->setVisible(s != S::Failed && s != S::Cancelled);
    m_pause->setVisible(s == S::Running || s == S::Paused || s == S::Failed);
    m_pause->setText(s == S::Running ? tr("Pause") : tr("Resume"));
    m_cancel->setVisible(s == S::Running || s == S::Paused || s == S::Failed);
    m_cancel->setText(tr("Cancel"));
    m_open->setVisible(s == S::Finished);
    m_open->setText(tr("Open"));
    m_open->setToolTip(tr("Load this model now"));
    m_dismiss->setVisible(s == S::Finished || s == S::Cancelled);
    m_dismiss->setText(tr("Remove from List"));
    switch (s) {
      case S::Idle:
        m_detail->setText(tr("Waiting…"));
        break;
      case S::Running:
        if (total == 0)
          m_detail->setText(tr("Asking the Hub for the file list…"));
        else
          //: %1 and %2 are sizes, %3 a rate (size per second), %4 the time left (m:ss)
          m_detail->setText(tr("%1 of %2 · %3/s · %4 left")
                                .arg(bytesText(done), bytesText(total), bytesText(quint64(m_d->bytesPerSecond())),
                                     timeText(m_d->secondsLeft())) +
                            (m_d->resumed() ? tr(" · resumed") : QString()));
        break;
      case S::Paused:
        m_detail->setText(tr("Paused at %1 of %2").arg(bytesText(done), bytesText(total)));
        break;
      case S::Cancelled:
        m_detail->setText(tr("Cancelled; the partial download was deleted"));
        break;
      case S::Finished:
        m_detail->setText(tr("Ready: %1").arg(QDir::toNativeSeparators(m_d->snapshot())));
        break;
      case S::Failed:
        m_detail->setText(errorText(m_d->errorCode(), m_d->errorDetail()));
        break;
    }
  }

 protected:
  void changeEvent(QEvent* e) override {
    if (e->type() == QEvent::LanguageChange) render();
    QFrame::changeEvent(e);
  }

 private:
  HubDownload* m_d;
  QLabel *m_name, *m_detail;
  QProgressBar* m_bar;
  QPushButton *m_pause, *m_cancel, *m_open, *m_dismiss;
};

const QList<GetModelsDialog::CatalogueEntry>& GetModelsDialog::catalogue() {
  static const QList<CatalogueEntry> list = {
      {QStringLiteral("Salesforce/blip-vqa-base"), 1'540'000'000, QStringLiteral("BSD-3-Clause"),
       QT_TR_NOOP("Answers questions about an image (VQA); base size")},
      {QStringLiteral("Salesforce/blip-vqa-capfilt-large"), 1'790'000'000, QStringLiteral("BSD-3-Clause"),
       QT_TR_NOOP("Answers questions about an image (VQA); large, trained on filtered captions")},
      {QStringLiteral("Salesforce/blip-image-captioning-base"), 990'000'000, QStringLiteral("BSD-3-Clause"),
       QT_TR_NOOP("Describes an image (captions); base size")},
      {QStringLiteral("Salesforce/blip-image-captioning-large"), 1'880'000'000, QStringLiteral("BSD-3-Clause"),
       QT_TR_NOOP("Describes an image (captions); large")},
      {QStringLiteral("Salesforce/blip-itm-base-coco"), 900'000'000, QStringLiteral("BSD-3-Clause"),
       QT_TR_NOOP("Image-text matching (search and labels); base, trained on COCO")},
      {QStringLiteral("Salesforce/blip-itm-large-coco"), 1'790'000'000, QStringLiteral("BSD-3-Clause"),
       QT_TR_NOOP("Image-text matching (search and labels); large, trained on COCO")},
  };
  return list;
}

GetModelsDialog::GetModelsDialog(QWidget* parent) : QDialog(parent) {
  setObjectName(QStringLiteral("getModelsDialog"));
  QHBoxLayout* repoRow = buildCatalogue();
  buildResumeBar();
  m_downloadsTitle = new QLabel(this);
  m_noDownloads = new QLabel(this);
  m_noDownloads->setForegroundRole(QPalette::PlaceholderText);
  m_rows = new QVBoxLayout;
  m_rows->setSpacing(4);
  m_rows->addWidget(m_noDownloads);

  QHBoxLayout* modelButtons = buildModelList();
  QHBoxLayout* tokenRow = buildTokenRow();
  auto* buttons = new QDialogButtonBox(this);
  m_close = buttons->addButton(QDialogButtonBox::Close);

  QFont title = m_catalogueTitle->font();
  title.setBold(true);
  for (QLabel* l : {m_catalogueTitle, m_downloadsTitle, m_modelsTitle}) l->setFont(title);

  auto* v = new QVBoxLayout(this);
  v->addWidget(m_resumeBar);
  v->addWidget(m_catalogueTitle);
  v->addWidget(m_catalogue);
  v->addLayout(repoRow);
  v->addWidget(m_downloadsTitle);
  v->addLayout(m_rows);
  v->addWidget(m_modelsTitle);
  v->addWidget(m_models, 1);
  v->addLayout(modelButtons);
  v->addLayout(tokenRow);
  v->addWidget(m_tokenNote);
  v->addWidget(buttons);

  connectWidgets();
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

  retranslate();
  refreshModels();
  updateResumeBar();
  resize(860, 640);
}

// The catalogue of known checkpoints and the repository box under it.
QHBoxLayout* GetModelsDialog::buildCatalogue() {
  m_catalogueTitle = new QLabel(this);
  m_catalogue = new QTreeWidget(this);
  m_catalogue->setObjectName(QStringLiteral("catalogue"));
  m_catalogue->setRootIsDecorated(false);
  m_catalogue->setColumnCount(4);
  for (const auto& e : catalogue()) {
    auto* item = new QTreeWidgetItem(m_catalogue);
    item->setText(0, e.repo);
    item->setData(0, Qt::UserRole, e.repo);
    item->setText(2, QStringLiteral("≈ ") + bytesText(quint64(e.bytes)));
    item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    item->setText(3, e.licence);
  }
  m_catalogue->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  m_catalogue->header()->setSectionResizeMode(1, QHeaderView::Stretch);
  m_catalogue->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
  m_catalogue->header()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
  m_catalogue->header()->setStretchLastSection(false);
  m_catalogue->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
  m_catalogue->setFixedHeight(m_catalogue->header()->sizeHint().height() +
                              m_catalogue->sizeHintForRow(0) * (m_catalogue->topLevelItemCount() + 1) +
                              2 * m_catalogue->frameWidth());

  m_repoLabel = new QLabel(this);
  m_repo = new QLineEdit(this);
  m_repo->setObjectName(QStringLiteral("repository"));
  m_repo->setClearButtonEnabled(true);
  m_repoLabel->setBuddy(m_repo);
  m_get = new QPushButton(this);
  m_get->setObjectName(QStringLiteral("get"));
  m_get->setEnabled(false);
  auto* repoRow = new QHBoxLayout;
  repoRow->addWidget(m_repoLabel);
  repoRow->addWidget(m_repo, 1);
  repoRow->addWidget(m_get);
  return repoRow;
}

// Offers to resume or discard downloads a previous run left unfinished.
void GetModelsDialog::buildResumeBar() {
  m_resumeBar = new QFrame(this);
  m_resumeBar->setObjectName(QStringLiteral("resumeBar"));
  m_resumeBar->setFrameShape(QFrame::StyledPanel);
  m_resumeText = new QLabel(m_resumeBar);
  m_resumeText->setWordWrap(true);
  m_resume = new QPushButton(m_resumeBar);
  m_resume->setObjectName(QStringLiteral("resumeAll"));
  m_discard = new QPushButton(m_resumeBar);
  m_discard->setObjectName(QStringLiteral("discardAll"));
  auto* rb = new QHBoxLayout(m_resumeBar);
  rb->addWidget(m_resumeText, 1);
  rb->addWidget(m_resume);
  rb->addWidget(m_discard);
}

// The models in the cache, and the buttons under them.
QHBoxLayout* GetModelsDialog::buildModelList() {
  m_modelsTitle = new QLabel(this);
  m_models = new QTreeWidget(this);
  m_models->setObjectName(QStringLiteral("models"));
  m_models->setRootIsDecorated(false);
  m_models->setColumnCount(3);
  m_models->header()->setSectionResizeMode(0, QHeaderView::Stretch);
  m_models->header()->setStretchLastSection(false);
  m_open = new QPushButton(this);
  m_open->setObjectName(QStringLiteral("openModel"));
  m_open->setEnabled(false);
  m_refresh = new QPushButton(this);
  m_cacheNote = new QLabel(this);
  m_cacheNote->setWordWrap(true);
  m_cacheNote->setForegroundRole(QPalette::PlaceholderText);
  auto* modelButtons = new QHBoxLayout;
  modelButtons->addWidget(m_cacheNote, 1);
  modelButtons->addWidget(m_refresh);
  modelButtons->addWidget(m_open);
  return modelButtons;
}

QHBoxLayout* GetModelsDialog::buildTokenRow() {
  m_tokenLabel = new QLabel(this);
  m_token = new QLineEdit(QString::fromStdString(core::hub::read_token_file()), this);
  m_token->setObjectName(QStringLiteral("token"));
  m_token->setEchoMode(QLineEdit::Password);
  m_token->setClearButtonEnabled(true);
  m_tokenLabel->setBuddy(m_token);
  m_saveToken = new QPushButton(this);
  m_saveToken->setObjectName(QStringLiteral("saveToken"));
  m_saveToken->setEnabled(false);
  m_tokenNote = new QLabel(this);
  m_tokenNote->setWordWrap(true);
  m_tokenNote->setForegroundRole(QPalette::PlaceholderText);
  auto* tokenRow = new QHBoxLayout;
  tokenRow->addWidget(m_tokenLabel);
  tokenRow->addWidget(m_token, 1);
  tokenRow->addWidget(m_saveToken);
  return tokenRow;
}

void GetModelsDialog::connectWidgets() {
  connect(m_catalogue, &QTreeWidget::currentItemChanged, this, [this](QTreeWidgetItem* item) {
    if (item) m_repo->setText(item->data(0, Qt::UserRole).toString());
  });
  connect(m_catalogue, &QTreeWidget::itemActivated, this,
          [this](QTreeWidgetItem* item) { startDownload(item->data(0, Qt::UserRole).toString()); });
  connect(m_repo, &QLineEdit::textChanged, this, [this](const QString& t) {
    m_get->setEnabled(core::hub::parse_repo_ref(t.trimmed().toStdString()).has_value());
  });
  connect(m_repo, &QLineEdit::returnPressed, m_get, &QPushButton::click);
  connect(m_get, &QPushButton::clicked, this, [this] { startDownload(m_repo->text()); });
  connect(m_models, &QTreeWidget::currentItemChanged, this,
          [this](QTreeWidgetItem* item) { m_open->setEnabled(item); });
  connect(m_models, &QTreeWidget::itemActivated, this,
          [this](QTreeWidgetItem* item) { Q_EMIT openModelRequested(item->data(0, Qt::UserRole).toString()); });
  connect(m_open, &QPushButton::clicked, this, [this] {
    if (auto* item = m_models->currentItem()) Q_EMIT openModelRequested(item->data(0, Qt::UserRole).toString());
  });
  connect(m_refresh, &QPushButton::clicked, this, &GetModelsDialog::refreshModels);
  connect(m_token, &QLineEdit::textEdited, this, [this] { m_saveToken->setEnabled(true); });
  connect(m_saveToken, &QPushButton::clicked, this, &GetModelsDialog::saveToken);
  connect(m_resume, &QPushButton::clicked, this, &GetModelsDialog::resumeUnfinished);
  connect(m_discard, &QPushButton::clicked, this, &GetModelsDialog::discardUnfinished);
}

GetModelsDialog::~GetModelsDialog() = default;  // each row's HubDownload stops and waits in its destructor

HubDownload* GetModelsDialog::download(const QString& repoRef) const {
  for (DownloadRow* r : m_downloads)
    if (r->download()->repoRef() == repoRef.trimmed()) return r->download();
  return nullptr;
}

QStringList GetModelsDialog::unfinished() const {
  QStringList out;
  for (const QString& ref : QSettings().value(QLatin1String(kUnfinishedKey)).toStringList())
    if (!download(ref) || !download(ref)->active()) out << ref;
  return out;
}

HubDownload* GetModelsDialog::startDownload(const QString& repoRef) {
  const QString ref = repoRef.trimmed();
  if (HubDownload* d = download(ref)) {
    if (!d->active() && d->state() != HubDownload::State::Finished) d->start();
    return d;
  }
  auto* d = new HubDownload(ref);
  auto* row = new DownloadRow(d, this);
  m_downloads << row;
  m_noDownloads->hide();
  m_rows->addWidget(row);
  connect(d, &HubDownload::stateChanged, this, [this, d] { onStateChanged(d); });
  connect(row->openButton(), &QPushButton::clicked, this, [this, d] { Q_EMIT openModelRequested(d->snapshot()); });
  connect(row->dismissButton(), &QPushButton::clicked, this, [this, row] {
    m_downloads.removeAll(row);
    row->deleteLater();
    m_noDownloads->setVisible(m_downloads.isEmpty());
  });
  d->start();
  return d;
}

void GetModelsDialog::onStateChanged(HubDownload* d) {
  using S = HubDownload::State;
  switch (d->state()) {
    case S::Running:
      remember(d->repoRef(), true);
      break;
    case S::Paused:
      break;  // stays remembered: offered again next time
    case S::Finished:
      remember(d->repoRef(), false);
      refreshModels();
      Q_EMIT downloadFinished(d->repoRef(), d->snapshot());
      break;
    case S::Cancelled:
      remember(d->repoRef(), false);
      break;
    case S::Failed: {
      // Only a failure that another try may cure stays remembered.
      const auto c = d->errorCode();
      remember(d->repoRef(), c == core::ErrorCode::Network || c == core::ErrorCode::Offline);
      Q_EMIT downloadFailed(d->repoRef(), errorText(c, d->errorDetail()));
      break;
    }
    case S::Idle:
      break;
  }
  updateResumeBar();
}

void GetModelsDialog::remember(const QString& repoRef, bool unfinished) {
  QSettings s;
  QStringList list = s.value(QLatin1String(kUnfinishedKey)).toStringList();
  list.removeAll(repoRef);
  if (unfinished) list << repoRef;
  if (list.isEmpty())
    s.remove(QLatin1String(kUnfinishedKey));
  else
    s.setValue(QLatin1String(kUnfinishedKey), list);
}

void GetModelsDialog::resumeUnfinished() {
  for (const QString& ref : unfinished()) startDownload(ref);
  updateResumeBar();
}

void GetModelsDialog::discardUnfinished() {
  for (const QString& ref : unfinished()) {
    if (HubDownload* d = download(ref))
      d->cancel();
    else
      HubDownload::removePartialFiles(ref.section(QLatin1Char('@'), 0, 0));
    remember(ref, false);
  }
  updateResumeBar();
}

void GetModelsDialog::updateResumeBar() {
  const QStringList refs = unfinished();
  // Paused in this window: the row has its own Resume button.
  QStringList notHere;
  for (const QString& r : refs)
    if (!download(r)) notHere << r;
  m_resumeBar->setVisible(!notHere.isEmpty());
  m_resumeText->setText(
      tr("%n download(s) did not finish: %1. They continue from where they stopped.", "", int(notHere.size()))
          .arg(notHere.join(QStringLiteral(", "))));
}

void GetModelsDialog::refreshModels() {
  const QString current = m_models->currentItem() ? m_models->currentItem()->text(0) : QString();
  m_models->clear();
  const auto cache = core::hub::cache_dir();
  for (const auto& m : core::hub::list_models(cache)) {
    auto* item = new QTreeWidgetItem(m_models);
    item->setText(0, QString::fromStdString(m.repo));
    item->setText(1, QString::fromStdString(m.revisions.empty() ? m.commit.substr(0, 10) : m.revisions.front()));
    item->setText(2, bytesText(m.size));
    item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    item->setData(0, Qt::UserRole, nativePath(m.snapshot));
    item->setToolTip(0, nativePath(m.snapshot));
    if (item->text(0) == current) m_models->setCurrentItem(item);
  }
  m_open->setEnabled(m_models->currentItem());
  m_cacheNote->setText(tr("Models are kept in %1, shared with HuggingFace's own tools.").arg(nativePath(cache)));
}

void GetModelsDialog::saveToken() {
  try {
    core::hub::save_token(m_token->text().trimmed().toStdString());
    m_saveToken->setEnabled(false);
  } catch (const std::exception& e) {
    QMessageBox::warning(this, tr("Hub Token"), errorText(e));
  }
}

void GetModelsDialog::showEvent(QShowEvent* e) {
  refreshModels();
  updateResumeBar();
  QDialog::showEvent(e);
}

void GetModelsDialog::changeEvent(QEvent* e) {
  if (e->type() == QEvent::LanguageChange) retranslate();
  QDialog::changeEvent(e);
}

void GetModelsDialog::retranslate() {
  setWindowTitle(tr("Get Models"));
  m_catalogueTitle->setText(tr("Models this app can run"));
  m_catalogue->setHeaderLabels({tr("Repository"), tr("What it does"), tr("Download"), tr("Licence")});
  for (int i = 0; i < m_catalogue->topLevelItemCount(); ++i)
    m_catalogue->topLevelItem(i)->setText(1, tr(catalogue().at(i).what));
  m_repoLabel->setText(tr("&Repository:"));
  m_repo->setPlaceholderText(tr("org/name or org/name@revision, any HuggingFace model repository"));
  m_get->setText(tr("&Download"));
  m_downloadsTitle->setText(tr("Downloads"));
  m_noDownloads->setText(tr("Nothing is downloading. Pick a model above, or type a repository id."));
  m_modelsTitle->setText(tr("On this computer"));
  m_models->setHeaderLabels({tr("Repository"), tr("Revision"), tr("Size")});
  m_open->setText(tr("&Open"));
  m_open->setToolTip(tr("Load the selected model now"));
  m_refresh->setText(tr("Refresh"));
  m_tokenLabel->setText(tr("Hub &token:"));
  m_token->setPlaceholderText(tr("hf_…, only for gated or private models"));
  m_saveToken->setText(tr("Save Token"));
  m_tokenNote->setText(tr("The token is kept in %1, readable only by you (HF_TOKEN, when set, comes first).")
                           .arg(nativePath(core::hub::token_file())));
  m_resume->setText(tr("Resume"));
  m_discard->setText(tr("Discard"));
  m_close->setText(tr("Close"));
  refreshModels();
  updateResumeBar();
}

}  // namespace ui

#include "getmodelsdialog.moc"
