#pragma once
// tst_hub_server (tests/hub_server.cpp) as a child process, for the tests that
// pull from it: it serves golden/blip/vqa_model as Salesforce/blip-vqa-base plus
// any `repos` ("org/name=FOLDER"), and its request log is kept as it comes.
#include <QProcess>
#include <QStringList>

#include "testutil.h"

class HubServer {
 public:
  static constexpr const char* kRepo = "Salesforce/blip-vqa-base";

  explicit HubServer(const QStringList& extra, const QStringList& repos = {}) {
    QStringList args = {"--repo", QString::fromLatin1(kRepo) + "=" +
                                      QString::fromStdString((testutil::blip_dir() / "vqa_model").string())};
    for (const QString& r : repos) args << "--repo" << r;
    args += extra;
    QObject::connect(&p_, &QProcess::readyReadStandardOutput, [this] { take(); });
    p_.setProcessChannelMode(QProcess::ForwardedErrorChannel);
    p_.start(AUTOGLM_HUB_SERVER, args);
    while (port_ == 0 && p_.waitForReadyRead(30000)) take();  // the "PORTS api cdn" line
  }
  ~HubServer() {
    p_.kill();
    p_.waitForFinished();
  }
  int port() const { return port_; }
  QString endpoint() const { return QStringLiteral("http://127.0.0.1:%1").arg(port_); }
  // The server writes each request's line before it answers, so once a client has
  // its answers every line is in the pipe: read what is there, without waiting.
  QStringList log() {
    while (p_.waitForReadyRead(0)) take();
    take();
    return lines_;
  }

 private:
  void take() {
    while (p_.canReadLine()) {
      const QString line = QString::fromUtf8(p_.readLine()).trimmed();
      if (line.startsWith(QLatin1String("PORTS ")))
        port_ = line.split(' ').value(1).toInt();
      else
        lines_ << line;
    }
  }
  QProcess p_;
  int port_ = 0;
  QStringList lines_;
};
