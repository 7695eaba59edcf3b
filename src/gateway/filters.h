// The gateway's request filters: what a request on a protected route must pass before it
// reaches a model or the clinical workflow, as small filters with one interface run in a fixed
// order (StandardFilters):
//
//   authenticate   bearer JWT against the identity provider's keys                     401
//   department     a token without a department only for roles granted every one       401
//   rate           the principal's token bucket                                         429
//   authorize      the role's scopes cover the route's                                  403
//   body limits    JSON depth and embedded image size                               400/413
//   context        the encounter's department and patient against the token's      400/403
//
// A filter either lets the request go on (possibly having filled in the context: claims,
// principal, resources for the audit record) or returns a Refusal, which the gateway writes to
// the audit log (when `audit`) before answering. Filters never block and never throw.
//
// Thread safety: filters are immutable after construction and shared by concurrent requests.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/audit.h"
#include "gateway/clock.h"
#include "gateway/config.h"
#include "gateway/rate_limit.h"
#include "gateway/token_verifier.h"
#include "serve/http_server.h"
#include "serve/jwt.h"

namespace medscribe::gateway {

// One request as the filters see it. REQUIRES: req, route and config outlive the filters' run.
struct RequestContext {
  const serve::HttpRequest* req = nullptr;
  const RoutePolicy* route = nullptr;
  const GatewayConfig* config = nullptr;
  std::string issuer;           // the expected token issuer
  serve::JwtClaims claims;      // set by the authenticate filter
  AuditRecord rec;              // action/source/digest set by the gateway; the filters add to it
  bool any_department = false;  // the role may touch every department (set by department)
};

struct Refusal {
  int status = 0;
  std::string reason;   // the metrics label: unauthenticated, rate_principal, forbidden, ...
  std::string outcome;  // the audit record's outcome (no request content)
  std::string message;  // for the client
  bool audit = true;    // write an audit record before answering
  std::map<std::string, std::string> headers;
};

class Filter {
 public:
  virtual ~Filter() = default;
  virtual std::string_view name() const = 0;
  // nullopt: the request goes on.
  virtual std::optional<Refusal> Apply(RequestContext& ctx) const = 0;
};

class FilterChain {
 public:
  explicit FilterChain(std::vector<std::unique_ptr<Filter>> filters)
      : filters_(std::move(filters)) {}
  // Runs the filters in order; the first refusal ends the run.
  std::optional<Refusal> Run(RequestContext& ctx) const;
  std::vector<std::string_view> names() const;

 private:
  std::vector<std::unique_ptr<Filter>> filters_;
};

// What the standard filters need. All must outlive the chain.
struct FilterDeps {
  TokenVerifier* verifier = nullptr;
  RateLimiter* per_principal = nullptr;
  const Clock* clock = nullptr;
  // The audit pseudonym of a token subject.
  std::function<std::string(const std::string& sub)> pseudonym;
};

// The chain in the order documented above.
FilterChain StandardFilters(const FilterDeps& deps);

// Whether `role` may touch every department under `policy`.
bool AnyDepartment(const Policy& policy, const std::string& role);
// Whether some scope `role` holds covers `needed`.
bool RoleGrants(const Policy& policy, const std::string& role, const std::string& needed);

}  // namespace medscribe::gateway
