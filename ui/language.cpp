#include "ui/language.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QTranslator>

namespace ui {

namespace {
QTranslator* g_app = nullptr;
QTranslator* g_qt = nullptr;
QString g_current = QStringLiteral("en");
}  // namespace

QString systemLanguage() {
  const QLocale loc = QLocale::system();
  if (loc.language() == QLocale::Chinese) return QStringLiteral("zh_CN");
  for (const QString& l : loc.uiLanguages())
    if (l.startsWith(QLatin1String("zh"))) return QStringLiteral("zh_CN");
  return QStringLiteral("en");
}

namespace {
bool install(const QString& code);
}  // namespace

bool setLanguage(const QString& requested) {
  const bool ok = install(requested);
  // QApplication posts the LanguageChange events to the windows; deliver
  // them now so every visible string has changed when this returns.
  QCoreApplication::sendPostedEvents(nullptr, QEvent::LanguageChange);
  return ok;
}

namespace {
bool install(const QString& requested) {
  const QString code = requested.isEmpty() ? systemLanguage() : requested;
  auto* app = QCoreApplication::instance();
  if (!app) return false;
  if (g_app) {
    QCoreApplication::removeTranslator(g_app);
    delete g_app;
    g_app = nullptr;
  }
  if (g_qt) {
    QCoreApplication::removeTranslator(g_qt);
    delete g_qt;
    g_qt = nullptr;
  }
  g_current = code;
  // English is the source language; its file only holds the plural forms.
  auto* t = new QTranslator(app);
  const bool ok = t->load(QStringLiteral(":/i18n/autoglm_%1.qm").arg(code));
  if (ok) {
    QCoreApplication::installTranslator(t);  // sends LanguageChange to every widget
    g_app = t;
  } else {
    delete t;
  }
  if (code == QLatin1String("en")) {
    if (!ok) {
      QEvent e(QEvent::LanguageChange);
      QCoreApplication::sendEvent(app, &e);
    }
    return ok;
  }
  auto* qt = new QTranslator(app);
  if (qt->load(QLocale(code), QStringLiteral("qtbase"), QStringLiteral("_"),
               QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
    QCoreApplication::installTranslator(qt);
    g_qt = qt;
  } else {
    delete qt;
  }
  return ok;
}
}  // namespace

QString currentLanguage() { return g_current; }

QStringList availableLanguages() { return {QStringLiteral("en"), QStringLiteral("zh_CN")}; }

QString languageName(const QString& code) {
  if (code == QLatin1String("zh_CN")) return QStringLiteral("简体中文");
  return QStringLiteral("English");
}

}  // namespace ui
