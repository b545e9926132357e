#include "core/text/utf8.h"

#include <algorithm>

namespace core::utf8 {
namespace {

// Length of the sequence a lead byte starts and the allowed range of its
// second byte; len 0 for a byte that cannot start a sequence.
struct Lead {
  size_t len;
  unsigned char lo, hi;
};

Lead lead(unsigned char c) {
  if (c < 0x80) return {1, 0, 0};
  if (c >= 0xC2 && c <= 0xDF) return {2, 0x80, 0xBF};
  if (c == 0xE0) return {3, 0xA0, 0xBF};
  if (c == 0xED) return {3, 0x80, 0x9F};
  if (c >= 0xE1 && c <= 0xEF) return {3, 0x80, 0xBF};
  if (c == 0xF0) return {4, 0x90, 0xBF};
  if (c == 0xF4) return {4, 0x80, 0x8F};
  if (c >= 0xF1 && c <= 0xF3) return {4, 0x80, 0xBF};
  return {0, 0, 0};
}

// How many bytes from s[i] form a valid (possibly incomplete) prefix of a sequence.
size_t valid_prefix(std::string_view s, size_t i) {
  const Lead l = lead(static_cast<unsigned char>(s[i]));
  if (l.len <= 1) return l.len;
  size_t k = 1;
  for (; k < l.len && i + k < s.size(); ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    const bool ok = k == 1 ? (b >= l.lo && b <= l.hi) : (b & 0xC0) == 0x80;
    if (!ok) break;
  }
  return k;
}

}  // namespace

size_t next(std::string_view s, size_t i, char32_t& cp) {
  const auto c = static_cast<unsigned char>(s[i]);
  const Lead l = lead(c);
  if (l.len == 0 || valid_prefix(s, i) != l.len) return 0;
  if (l.len == 1) {
    cp = c;
    return 1;
  }
  cp = c & (0xFF >> (l.len + 1));
  for (size_t k = 1; k < l.len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return l.len;
}

void append(std::string& out, char32_t c) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

std::string decode_replace(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    const size_t n = next(s, i, cp);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      append(out, 0xFFFD);
      i += std::max<size_t>(1, valid_prefix(s, i));
    }
  }
  return out;
}

bool py_isspace(char32_t c) {
  if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string_view py_lstrip(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    char32_t cp;
    const size_t n = next(s, i, cp);
    if (n == 0 || !py_isspace(cp)) break;
    i += n;
  }
  return s.substr(i);
}

std::string_view py_rstrip(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    char32_t cp;
    if (next(s, start, cp) != end - start || !py_isspace(cp)) break;
    end = start;
  }
  return s.substr(0, end);
}

}  // namespace core::utf8
