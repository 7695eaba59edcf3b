#include "common/url.h"

#include <algorithm>
#include <cctype>

namespace medscribe {
namespace {

std::string Quote(std::string_view url) {
  std::string q(url.substr(0, 200));
  for (char& c : q)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return "'" + q + (url.size() > 200 ? "...'" : "'");
}

bool HostNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

}  // namespace

std::string Url::origin() const {
  const std::string h = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return scheme + "://" + h + ":" + std::to_string(port);
}

std::string_view Url::path() const {
  std::string_view t = target;
  return t.substr(0, t.find_first_of("?#"));
}

StatusOr<Url> ParseHttpUrl(std::string_view url) {
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '\\')
      return InvalidArgumentError("URL " + Quote(url) +
                                  " holds a space, backslash or control character");
  Url u;
  const size_t colon = url.find("://");
  if (colon != std::string_view::npos) {
    for (char c : url.substr(0, colon))
      u.scheme += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (u.scheme != "http" && u.scheme != "https")
    return InvalidArgumentError("URL " + Quote(url) + " is not an http:// or https:// URL");
  std::string_view rest = url.substr(colon + 3);
  const size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  u.target = end == std::string_view::npos ? "/" : std::string(rest.substr(end));
  if (u.target[0] != '/') u.target.insert(0, "/");
  if (authority.find('@') != std::string_view::npos)
    return InvalidArgumentError("URL " + Quote(url) +
                                " carries user information (user@host); give credentials "
                                "another way");
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return InvalidArgumentError("URL " + Quote(url) + " opens an IPv6 address it never closes");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':')
      return InvalidArgumentError("URL " + Quote(url) + " has text after its IPv6 address");
    if (!after.empty()) port = after.substr(1);
    if (host.empty() || !std::all_of(host.begin(), host.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        }))
      return InvalidArgumentError("URL " + Quote(url) + " has a malformed IPv6 address");
  } else {
    const size_t c = authority.find(':');
    if (c != std::string_view::npos) {
      host = authority.substr(0, c);
      port = authority.substr(c + 1);
    }
    if (host.empty() || !std::all_of(host.begin(), host.end(), HostNameChar))
      return InvalidArgumentError("URL " + Quote(url) +
                                  " needs a host name of letters, digits, '.', '-' or '_'");
  }
  for (char c : host) u.host += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (port.empty() && authority.find(':') != std::string_view::npos && authority[0] != '[')
    return InvalidArgumentError("URL " + Quote(url) + " has an empty port");
  if (port.empty()) {
    u.port = u.tls() ? 443 : 80;
  } else {
    unsigned long p = 0;
    if (port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) {
          return std::isdigit(static_cast<unsigned char>(c));
        }))
      return InvalidArgumentError("URL " + Quote(url) + " needs a port 1..65535");
    for (char c : port) p = p * 10 + static_cast<unsigned long>(c - '0');
    if (p == 0 || p > 65535)
      return InvalidArgumentError("URL " + Quote(url) + " needs a port 1..65535");
    u.port = static_cast<uint16_t>(p);
  }
  return u;
}

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.')
      ++dots;
    else if (!std::isdigit(static_cast<unsigned char>(c)))
      return false;
  }
  return dots == 3;
}

bool IsUnder(const Url& candidate, const Url& base) {
  if (candidate.origin() != base.origin()) return false;
  std::string_view bp = base.path(), cp = candidate.path();
  while (!bp.empty() && bp.back() == '/') bp.remove_suffix(1);
  if (cp.substr(0, bp.size()) != bp) return false;
  if (cp.size() != bp.size() && cp[bp.size()] != '/') return false;
  // No segment may climb out again ("..", ".", or either percent-encoded).
  for (size_t from = 0; from <= cp.size();) {
    size_t to = cp.find('/', from);
    if (to == std::string_view::npos) to = cp.size();
    std::string seg;
    for (char c : cp.substr(from, to - from))
      seg += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (seg == "." || seg == ".." || seg.find("%2e") != std::string::npos) return false;
    from = to + 1;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> SplitQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    const size_t eq = kv.find('=');
    out.emplace_back(std::string(kv.substr(0, eq)),
                     eq == std::string_view::npos ? std::string() : std::string(kv.substr(eq + 1)));
  }
  return out;
}

std::string QueryParam(std::string_view target, std::string_view key) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return "";
  for (const auto& [k, v] : SplitQuery(target.substr(q + 1)))
    if (k == key) return v;
  return "";
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  const auto hex = [](char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace medscribe
