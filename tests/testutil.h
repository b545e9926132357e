#pragma once
// Helpers shared by the Qt Test executables.
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace testutil {

inline std::filesystem::path golden_dir() {
  if (const char* env = std::getenv("AUTOGLM_GOLDEN_DIR")) return env;
  return AUTOGLM_GOLDEN_DIR;
}

inline std::filesystem::path blip_dir() { return golden_dir() / "blip"; }

inline bool have_golden() { return std::filesystem::exists(blip_dir() / "manifest.json"); }

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline void write_file(const std::filesystem::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace testutil

#define REQUIRE_GOLDEN()                                                                       \
  do {                                                                                         \
    if (!testutil::have_golden())                                                              \
      QSKIP(qPrintable(QString("golden data not found at %1 (set AUTOGLM_GOLDEN_DIR)")         \
                           .arg(QString::fromStdString(testutil::golden_dir().string()))));    \
  } while (0)

// Asserts that `expr` throws core::Error whose message contains `needle`.
#define VERIFY_THROWS_MSG(expr, needle)                                                        \
  do {                                                                                         \
    bool thrown_ = false;                                                                      \
    try {                                                                                      \
      expr;                                                                                    \
    } catch (const core::Error& e_) {                                                          \
      thrown_ = true;                                                                          \
      const std::string msg_ = e_.what();                                                      \
      if (msg_.find(needle) == std::string::npos)                                              \
        QFAIL(qPrintable(QString("message '%1' lacks '%2'").arg(QString::fromStdString(msg_),  \
                                                                QString::fromStdString(needle)))); \
    }                                                                                          \
    if (!thrown_) QFAIL("expected core::Error containing: " + QByteArray(std::string(needle).c_str())); \
  } while (0)
