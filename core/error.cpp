#include "core/error.h"

namespace core {

const char* error_code_name(ErrorCode c) {
  switch (c) {
    case ErrorCode::Io:
      return "io";
    case ErrorCode::BadSafetensors:
      return "bad_safetensors";
    case ErrorCode::PickleRefused:
      return "pickle_refused";
    case ErrorCode::BadConfig:
      return "bad_config";
    case ErrorCode::BadWeights:
      return "bad_weights";
    case ErrorCode::BadVocab:
      return "bad_vocab";
    case ErrorCode::BadImage:
      return "bad_image";
    case ErrorCode::ImageTooLarge:
      return "image_too_large";
    case ErrorCode::BadQuestion:
      return "bad_question";
    case ErrorCode::BadArgument:
      return "bad_argument";
    case ErrorCode::Cancelled:
      return "cancelled";
    case ErrorCode::Device:
      return "device";
    case ErrorCode::Network:
      return "network";
    case ErrorCode::NotFound:
      return "not_found";
    case ErrorCode::Unauthorized:
      return "unauthorized";
    case ErrorCode::Offline:
      return "offline";
    case ErrorCode::Checksum:
      return "checksum";
    case ErrorCode::UnsupportedModel:
      return "unsupported_model";
    case ErrorCode::Internal:
      return "internal";
  }
  return "unknown";
}

}  // namespace core
