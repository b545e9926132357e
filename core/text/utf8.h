#pragma once
// UTF-8 helpers for the tokenizers that follow Python's string semantics.
#include <string>
#include <string_view>

namespace core::utf8 {

// Decodes the sequence at s[i] into cp; returns its length, or 0 when it is not
// valid UTF-8 (overlong, surrogate, above U+10FFFF, truncated, stray byte).
size_t next(std::string_view s, size_t i, char32_t& cp);

void append(std::string& out, char32_t cp);

// bytes.decode("utf-8", errors="replace"): each maximal invalid subpart
// becomes one U+FFFD, as CPython does.
std::string decode_replace(std::string_view bytes);

// str.isspace
bool py_isspace(char32_t cp);

// str.lstrip() / str.rstrip() / str.strip() with no arguments.
std::string_view py_lstrip(std::string_view s);
std::string_view py_rstrip(std::string_view s);
inline std::string_view py_strip(std::string_view s) { return py_rstrip(py_lstrip(s)); }

}  // namespace core::utf8
