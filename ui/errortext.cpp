#include "ui/errortext.h"

#include <new>
#include <string>

#include <QCoreApplication>

namespace ui {

namespace {
// Gives the strings below one translation context, "ErrorText".
class ErrorText {
  Q_DECLARE_TR_FUNCTIONS(ErrorText)

 public:
  static QString summary(core::ErrorCode code);
  static QString join(const QString& summary, const QString& detail);
  static QString other(const std::exception& e);
  static QString stage(core::LoadStage stage);
  static QString cpuFallback() { return tr("Out of GPU memory: running on the CPU"); }
  static QString lowerPrecision() {
    return tr(
        "The model does not fit in the free memory in float32, so it runs in bfloat16 (answers may differ slightly)");
  }
};
}  // namespace

QString ErrorText::summary(core::ErrorCode code) {
  switch (code) {
    case core::ErrorCode::Io:
      return tr("The file could not be read");
    case core::ErrorCode::BadSafetensors:
      return tr("The model's weight file is damaged");
    case core::ErrorCode::PickleRefused:
      return tr("The weights file holds more than tensors and was refused: no code from a model file is ever run");
    case core::ErrorCode::BadConfig:
      return tr("The model's configuration is not valid");
    case core::ErrorCode::BadWeights:
      return tr("The model's weights are damaged or do not match its configuration");
    case core::ErrorCode::BadVocab:
      return tr("The model's vocabulary is missing or damaged");
    case core::ErrorCode::BadImage:
      return tr("This file is not an image that can be opened");
    case core::ErrorCode::ImageTooLarge:
      return tr("This image is too large");
    case core::ErrorCode::BadQuestion:
      return tr("The question cannot be asked");
    case core::ErrorCode::BadArgument:
      return tr("The request is not valid");
    case core::ErrorCode::Cancelled:
      return tr("Cancelled");
    case core::ErrorCode::Device:
      return tr("The compute device is not available");
    case core::ErrorCode::Network:
      return tr("The model hub could not be reached");
    case core::ErrorCode::NotFound:
      return tr("The model was not found on the hub");
    case core::ErrorCode::Unauthorized:
      return tr("The model needs an access token");
    case core::ErrorCode::Offline:
      return tr("Offline, and the model is not on this computer");
    case core::ErrorCode::Checksum:
      return tr("A downloaded file was damaged and has been deleted");
    case core::ErrorCode::UnsupportedModel:
      return tr("This app cannot run this kind of model");
    case core::ErrorCode::Internal:
      return tr("Internal error");
  }
  return tr("Internal error");
}

QString ErrorText::join(const QString& summary, const QString& detail) {
  //: %1 is a translated summary, %2 the technical detail (English)
  return tr("%1: %2").arg(summary, detail);
}

QString ErrorText::other(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e)) return tr("Out of memory");
  return tr("Unexpected error: %1").arg(QString::fromLocal8Bit(e.what()));
}

// No default: a stage added to core::LoadStage and not handled here fails the
// build (-Werror=switch), so no English word reaches a translated interface.
QString ErrorText::stage(core::LoadStage stage) {
  switch (stage) {
    case core::LoadStage::Config:
      return tr("Reading the configuration");
    case core::LoadStage::Vocabulary:
      return tr("Reading the vocabulary");
    case core::LoadStage::Building:
      return tr("Building the model");
    case core::LoadStage::Weights:
      return tr("Reading the weights");
    case core::LoadStage::Threads:
      return tr("Measuring the best thread count");
    case core::LoadStage::Ready:
      return tr("Ready");
  }
  return {};
}

QString errorSummary(core::ErrorCode code) { return ErrorText::summary(code); }

QString errorText(core::ErrorCode code, const QString& detail) {
  if (detail.isEmpty()) return ErrorText::summary(code);
  return ErrorText::join(ErrorText::summary(code), detail);
}

QString errorText(const std::exception& e) {
  if (const auto* ce = dynamic_cast<const core::Error*>(&e))
    return errorText(ce->code(), QString::fromStdString(ce->what()));
  return ErrorText::other(e);
}

QString loadStageText(core::LoadStage stage) { return ErrorText::stage(stage); }

QString cpuFallbackText() { return ErrorText::cpuFallback(); }

QString warningText(const core::Warning& w) {
  QString text;
  switch (w.code) {
    case core::Warning::Code::CpuFallback:
      text = ErrorText::cpuFallback();
      break;
    case core::Warning::Code::LowerPrecision:
      text = ErrorText::lowerPrecision();
      break;
  }
  return w.detail.empty() ? text : text + QStringLiteral(" (") + QString::fromStdString(w.detail) + QLatin1Char(')');
}

}  // namespace ui
