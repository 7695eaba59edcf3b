// multipart/related bodies (DICOMweb WADO-RS answers, STOW-RS requests): sources.h.
#include <algorithm>

#include "clinical/multipart.h"

namespace medscribe::clinical {

std::string BoundaryOf(std::string_view ct) {
  std::string lower(ct);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const size_t at = lower.find("boundary=");
  if (at == std::string::npos) return "";
  std::string_view v = ct.substr(at + 9);
  if (!v.empty() && v.front() == '"') {
    const size_t end = v.find('"', 1);
    return end == std::string_view::npos ? "" : std::string(v.substr(1, end - 1));
  }
  const size_t end = v.find_first_of("; \t");
  return std::string(v.substr(0, end));
}

StatusOr<std::vector<MultipartPart>> ParseMultipart(std::string_view body,
                                                    std::string_view boundary, size_t max_parts) {
  if (boundary.empty() || boundary.size() > 70)
    return InvalidArgumentError("multipart body without a valid boundary (1-70 characters)");
  const std::string delim = "--" + std::string(boundary);
  size_t pos = body.find(delim);
  if (pos == std::string_view::npos || (pos != 0 && (pos < 2 || body.substr(pos - 2, 2) != "\r\n")))
    return InvalidArgumentError("multipart body does not start with its boundary");
  std::vector<MultipartPart> parts;
  while (true) {
    pos += delim.size();
    if (body.substr(pos, 2) == "--") return parts;  // close delimiter
    // Transport padding, then CRLF.
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.substr(pos, 2) != "\r\n")
      return InvalidArgumentError("multipart boundary line is not followed by CRLF");
    pos += 2;
    // The part runs to the next delimiter (CRLF "--" boundary); a boundary never occurs inside
    // a part. It is headers, a blank line and the body, or (no headers) CRLF and the body.
    const size_t next = body.find("\r\n" + delim, pos);
    if (next == std::string_view::npos)
      return InvalidArgumentError("multipart body ends without its closing boundary");
    const std::string_view whole = body.substr(pos, next - pos);
    MultipartPart part;
    if (whole.substr(0, 2) == "\r\n") {
      part.body = std::string(whole.substr(2));
    } else {
      const size_t head_end = whole.find("\r\n\r\n");
      if (head_end == std::string_view::npos)
        return InvalidArgumentError("multipart part without a blank line after its headers");
      const std::string_view headers = whole.substr(0, head_end);
      size_t h = 0;
      while (h <= headers.size()) {
        const size_t e = std::min(headers.find("\r\n", h), headers.size());
        const std::string_view line = headers.substr(h, e - h);
        const size_t colon = line.find(':');
        if (colon != std::string_view::npos) {
          std::string name(line.substr(0, colon));
          std::transform(name.begin(), name.end(), name.begin(),
                         [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
          std::string_view value = line.substr(colon + 1);
          while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
          if (name == "content-type") part.content_type = std::string(value);
        }
        h = e + 2;
      }
      part.body = std::string(whole.substr(head_end + 4));
    }
    if (parts.size() >= max_parts)
      return ResourceExhaustedError("multipart body has more than " + std::to_string(max_parts) +
                                    " parts");
    parts.push_back(std::move(part));
    pos = next + 2;
  }
}

}  // namespace medscribe::clinical
