#pragma once
// The interface language: English (the source strings) or Simplified Chinese,
// from the system locale unless the user chose one. Translations are compiled
// at build time and embedded under :/i18n.
#include <QString>
#include <QStringList>

namespace ui {

// "zh_CN" when the system locale is Chinese, else "en".
QString systemLanguage();
// Installs the translators for "en" or "zh_CN" (also Qt's own strings) and
// removes the previous ones; widgets get a LanguageChange event. An empty
// code means the system language. Returns false if the translation is missing.
bool setLanguage(const QString& code);
QString currentLanguage();
// Codes and their names in their own language, for menus.
QStringList availableLanguages();
QString languageName(const QString& code);

}  // namespace ui
