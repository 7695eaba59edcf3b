// A DICOMweb server (QIDO-RS, WADO-RS, STOW-RS) as image source and sink (sources.h), and the
// multipart/related codec those services use.
#include <openssl/rand.h>
#include <simdjson.h>

#include <algorithm>

#include "clinical/http_client.h"
#include "clinical/multipart.h"
#include "clinical/sources.h"
#include "crypto/hmac.h"

namespace medscribe::clinical {

namespace {

class DicomWeb final : public ImageSource {
 public:
  explicit DicomWeb(HttpServerRef server) : s_(std::move(server)) {}
  std::string name() const override { return "DICOMweb server " + s_.base; }

  StatusOr<std::vector<std::string>> FetchStudy(const std::string& study_uid,
                                                const std::string& accession) override {
    // QIDO-RS: is the study there (and which UID has it)?
    const std::string query = !study_uid.empty() ? "StudyInstanceUID=" + UrlEncode(study_uid)
                                                 : "AccessionNumber=" + UrlEncode(accession);
    ASSIGN_OR_RETURN(HttpResponse q, s_.http.Get(s_.base + "/studies?" + query,
                                                 s_.Headers("application/dicom+json")));
    if (q.status >= 500 || q.status == 401 || q.status == 403)
      return UnavailableError(name() + " failed a study search (HTTP " + std::to_string(q.status) +
                              ")");
    std::string uid;
    if (q.status == 200 && !q.body.empty()) {
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (parser.parse(simdjson::padded_string(q.body)).get(doc))
        return UnavailableError(name() + " answered a study search that is not JSON");
      simdjson::dom::array studies;
      if (!doc.get(studies)) {
        for (simdjson::dom::element s : studies) {
          std::string_view v;
          if (!s.at_pointer("/0020000D/Value/0").get(v)) uid = std::string(v);
        }
      }
    }
    if (uid.empty())
      return NotFoundError("no study with accession '" + accession + "' in " + name());
    // WADO-RS: the whole study as multipart/related application/dicom.
    ASSIGN_OR_RETURN(HttpResponse r,
                     s_.http.Get(s_.base + "/studies/" + UrlEncode(uid),
                                 s_.Headers("multipart/related; type=\"application/dicom\"")));
    if (r.status == 404)
      return NotFoundError("no study with accession '" + accession + "' in " + name());
    if (r.status != 200)
      return UnavailableError(name() + " failed to retrieve the study (HTTP " +
                              std::to_string(r.status) + ")");
    ASSIGN_OR_RETURN(auto parts, ParseMultipart(r.body, BoundaryOf(r.content_type)));
    std::vector<std::string> out;
    for (auto& p : parts) out.push_back(std::move(p.body));
    if (out.empty()) return NotFoundError("study with accession '" + accession + "' is empty");
    return out;
  }

  StatusOr<std::string> Store(const std::string& part10) override {
    unsigned char r[12];
    RAND_bytes(r, sizeof r);
    const std::string boundary = "medscribe-" + crypto::Hex(r, sizeof r);
    std::string body = "--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n";
    body += part10;
    body += "\r\n--" + boundary + "--\r\n";
    const HttpHeaders h =
        s_.Headers("application/dicom+json",
                   "multipart/related; type=\"application/dicom\"; boundary=" + boundary);
    ASSIGN_OR_RETURN(HttpResponse answer, s_.http.Post(s_.base + "/studies", h, body));
    if (answer.status != 200 && answer.status != 202)
      return UnavailableError(name() + " refused the instance (STOW-RS HTTP " +
                              std::to_string(answer.status) + "): " + answer.body.substr(0, 300));
    return s_.base + "/studies";
  }

 private:
  HttpServerRef s_;
};

}  // namespace

StatusOr<std::shared_ptr<ImageSource>> OpenDicomWeb(const HttpSourceOptions& o) {
  ASSIGN_OR_RETURN(HttpServerRef server,
                   HttpServerRef::Make(o.base_url, o.bearer_token,
                                       {.ca_file = o.ca_file,
                                        .timeout_ms = o.timeout_ms,
                                        .max_response_bytes = o.max_response_bytes},
                                       "DICOMweb URL"));
  return std::shared_ptr<ImageSource>(std::make_shared<DicomWeb>(std::move(server)));
}

}  // namespace medscribe::clinical
