#pragma once
// Model > Get models…: a short catalogue of checkpoints this app runs, a field
// for any repository id, the downloads (in the background, with pause, resume
// and cancel) and the models already in the HuggingFace cache, each of which
// opens with one click. Unfinished pulls are remembered in QSettings and
// offered again the next time the dialog opens.
#include <QDialog>
#include <QList>
#include <QMap>
#include <QPointer>
#include <QString>
#include <QStringList>

#include "ui/hubdownload.h"

class QFrame;
class QGroupBox;
class QHBoxLayout;
class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;
class QVBoxLayout;

namespace ui {

class DownloadRow;

class GetModelsDialog : public QDialog {
  Q_OBJECT

 public:
  struct CatalogueEntry {
    QString repo;
    qint64 bytes;      // download size, roughly
    QString licence;   // SPDX id
    const char* what;  // QT_TR_NOOP: what it does
  };
  static const QList<CatalogueEntry>& catalogue();

  explicit GetModelsDialog(QWidget* parent = nullptr);
  ~GetModelsDialog() override;  // running pulls stop; their partial files stay for next time

  HubDownload* download(const QString& repoRef) const;
  // Pulls remembered from an earlier run that are not running now.
  QStringList unfinished() const;

 public Q_SLOTS:
  HubDownload* startDownload(const QString& repoRef);
  void resumeUnfinished();
  void discardUnfinished();
  void refreshModels();

 Q_SIGNALS:
  void openModelRequested(const QString& folder);
  void downloadFinished(const QString& repoRef, const QString& snapshot);
  void downloadFailed(const QString& repoRef, const QString& message);

 protected:
  void changeEvent(QEvent* e) override;
  void showEvent(QShowEvent* e) override;

 private:
  QHBoxLayout* buildCatalogue();
  void buildResumeBar();
  QHBoxLayout* buildModelList();
  QHBoxLayout* buildTokenRow();
  void connectWidgets();
  void retranslate();
  void updateResumeBar();
  void saveToken();
  void remember(const QString& repoRef, bool unfinished);
  void onStateChanged(HubDownload* d);

  QLabel *m_catalogueTitle, *m_repoLabel, *m_downloadsTitle, *m_noDownloads, *m_modelsTitle, *m_cacheNote,
      *m_tokenLabel, *m_tokenNote, *m_resumeText;
  QTreeWidget* m_catalogue;
  QLineEdit* m_repo;
  QPushButton* m_get;
  QVBoxLayout* m_rows;
  QTreeWidget* m_models;
  QPushButton *m_open, *m_refresh;
  QLineEdit* m_token;
  QPushButton* m_saveToken;
  QFrame* m_resumeBar;
  QPushButton *m_resume, *m_discard, *m_close;
  QList<DownloadRow*> m_downloads;
};

}  // namespace ui
