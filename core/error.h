#pragma once
// The one exception type of core. `code` lets ui/ map the failure to a
// translated message; `what()` is an English message naming the file, tensor
// or value at fault.
#include <stdexcept>
#include <string>

namespace core {

enum class ErrorCode {
  Io,                // file missing, unreadable, not a regular file
  BadSafetensors,    // malformed .safetensors
  PickleRefused,     // a PyTorch file holds more than tensors (or a legacy format): refused, never run
  BadConfig,         // config.json missing, not JSON, unknown/inconsistent value
  BadWeights,        // missing / extra / mis-shaped tensor
  BadVocab,          // vocab.txt missing or malformed
  BadImage,          // not an image, corrupt, unsupported
  ImageTooLarge,     // above the pixel limit (checked before decoding)
  BadQuestion,       // empty, too long, invalid UTF-8
  BadArgument,       // an API or CLI argument out of range
  Cancelled,         // the cancel token was set
  Device,            // CUDA asked for but not available, out of memory
  Network,           // Hub unreachable, connection dropped, timeout, 5xx after retries
  NotFound,          // Hub: repository, revision or file not found (404)
  Unauthorized,      // Hub: 401/403, gated or private repository without a token
  Offline,           // HF_HUB_OFFLINE set and the model is not in the cache
  Checksum,          // a downloaded file does not match its sha256 / git sha1
  UnsupportedModel,  // Hub: the repository's model family is not one this build runs
  Internal,
};

const char* error_code_name(ErrorCode c);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace core
