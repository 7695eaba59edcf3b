#include "gateway/filters.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "common/strings.h"
#include "gateway/json_limits.h"

namespace medscribe::gateway {
namespace {

const std::map<std::string, std::string> kInvalidToken = {
    {"WWW-Authenticate", "Bearer realm=\"medscribe\", error=\"invalid_token\""}};

class Authenticate final : public Filter {
 public:
  explicit Authenticate(const FilterDeps& d) : verifier_(d.verifier), pseudonym_(d.pseudonym) {}
  std::string_view name() const override { return "authenticate"; }
  std::optional<Refusal> Apply(RequestContext& ctx) const override {
    const GatewayConfig& c = *ctx.config;
    const std::string authz = ctx.req->header("authorization");
    const serve::JwtPolicy policy{ctx.issuer, c.audience, c.leeway_s, c.clients};
    auto claims = verifier_->Verify(authz.size() > 7 ? authz.substr(7) : std::string(), policy);
    if (!claims.ok())
      return Refusal{
          401,  "unauthenticated", "invalid token", "invalid token: " + claims.status().message(),
          true, kInvalidToken};
    ctx.claims = std::move(*claims);
    ctx.rec.principal = pseudonym_(ctx.claims.sub);
    ctx.rec.role = ctx.claims.role;
    return std::nullopt;
  }

 private:
  TokenVerifier* verifier_;
  std::function<std::string(const std::string&)> pseudonym_;
};

// Routes that touch encounters are scoped by the token's department unless the role may see
// every department: a token without one (missing, empty or not a string) is refused, never
// read as "any department".
class DepartmentClaim final : public Filter {
 public:
  std::string_view name() const override { return "department"; }
  std::optional<Refusal> Apply(RequestContext& ctx) const override {
    ctx.any_department = AnyDepartment(ctx.config->policy, ctx.claims.role);
    if (!(ctx.route->phi || ctx.route->context) || ctx.any_department ||
        !ctx.claims.department.empty())
      return std::nullopt;
    return Refusal{401,
                   "unauthenticated",
                   "no department claim",
                   "invalid token: it names no department, and role '" + ctx.claims.role +
                       "' may only touch its own department's encounters; the identity provider "
                       "must issue a 'department' claim (a string)",
                   true,
                   kInvalidToken};
  }
};

class PrincipalRate final : public Filter {
 public:
  explicit PrincipalRate(const FilterDeps& d) : limiter_(d.per_principal), clock_(d.clock) {}
  std::string_view name() const override { return "rate"; }
  std::optional<Refusal> Apply(RequestContext& ctx) const override {
    const double wait = limiter_->Take(ctx.claims.sub, clock_->SteadySeconds());
    if (wait <= 0) return std::nullopt;
    // Refusals on routes without patient data are counted, not audited (a flood of them
    // must not fill the log).
    return Refusal{429,
                   "rate_principal",
                   "rate limited",
                   "rate limit of " + std::to_string(ctx.config->limits.per_principal.rps) +
                       " requests/s exceeded; retry later",
                   ctx.route->phi,
                   {{"Retry-After", std::to_string(static_cast<int>(std::ceil(wait)))}}};
  }

 private:
  RateLimiter* limiter_;
  const Clock* clock_;
};

class Authorize final : public Filter {
 public:
  std::string_view name() const override { return "authorize"; }
  std::optional<Refusal> Apply(RequestContext& ctx) const override {
    for (const std::string& needed : ctx.route->scopes)
      if (RoleGrants(ctx.config->policy, ctx.claims.role, needed)) return std::nullopt;
    return Refusal{403,
                   "forbidden",
                   "role lacks scope",
                   "role '" + ctx.claims.role + "' does not grant " + ctx.route->scopes.front() +
                       " needed for " + ctx.req->method + " " + ctx.route->path,
                   true,
                   {}};
  }
};

class BodyLimits final : public Filter {
 public:
  std::string_view name() const override { return "body limits"; }
  std::optional<Refusal> Apply(RequestContext& ctx) const override {
    const serve::HttpRequest& req = *ctx.req;
    if (req.body.empty() || req.header("content-type").find("json") == std::string::npos)
      return std::nullopt;
    const Limits& l = ctx.config->limits;
    bool too_large = false;
    std::string why = CheckJsonLimits(req.body, l.json_max_depth, l.image_max_bytes, &too_large);
    if (why.empty()) return std::nullopt;
    return Refusal{too_large ? 413 : 400,
                   too_large ? "image_too_large" : "json_too_deep",
                   too_large ? "image too large" : "json too deep",
                   std::move(why),
                   false,
                   {}};
  }
};

bool SafeId(const std::string& id) {
  if (id.size() > 64) return false;
  for (char ch : id)
    if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '-' && ch != '_' && ch != '.')
      return false;
  return true;
}

// Which encounter the request touches (for the audit record), and, on context routes, its
// department and patient against the token's.
class Context final : public Filter {
 public:
  std::string_view name() const override { return "context"; }
  std::optional<Refusal> Apply(RequestContext& ctx) const override {
    const RoutePolicy& route = *ctx.route;
    if (!route.context && !route.phi) return std::nullopt;
    const std::string& body = ctx.req->body;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    const simdjson::padded_string padded(body);
    const bool parsed = !body.empty() && !parser.parse(padded).get(doc) && doc.is_object();
    std::string department, patient, encounter;
    if (parsed) {
      std::string_view v;
      // The report API wraps the sample ({"sample": {...}}); a bare sample is read as is.
      simdjson::dom::element sample = doc;
      simdjson::dom::element inner;
      if (!doc["sample"].get(inner) && inner.is_object()) sample = inner;
      if (!sample["encounter_id"].get(v)) encounter = std::string(v);
      if (!sample["patient_id"].get(v)) patient = std::string(v);
      if (!sample.at_pointer("/meta/department").get(v)) department = std::string(v);
    }
    if (!encounter.empty() && SafeId(encounter))
      ctx.rec.resources.push_back("Encounter/" + encounter);
    if (!patient.empty() && SafeId(patient)) ctx.rec.resources.push_back("Patient/" + patient);
    if (!route.context) return std::nullopt;
    if (!parsed)
      return Refusal{400,         "",
                     "no sample", "the body must be a JSON sample (docs/formats/dataset.md)",
                     false,       {}};
    if (department.empty())
      return Refusal{400,
                     "",
                     "no department",
                     "the sample has no meta.department; the gateway needs it to check the "
                     "caller's department",
                     false,
                     {}};
    if (!ctx.any_department && AsciiLower(department) != AsciiLower(ctx.claims.department))
      return Refusal{403,
                     "forbidden",
                     "cross-department",
                     "the encounter belongs to another department than the token's ('" +
                         ctx.claims.department + "')",
                     true,
                     {}};
    if (!ctx.claims.patient.empty() && patient != ctx.claims.patient)
      return Refusal{403,
                     "forbidden",
                     "other patient",
                     "the token is limited to one patient and the sample names another",
                     true,
                     {}};
    return std::nullopt;
  }
};

}  // namespace

std::optional<Refusal> FilterChain::Run(RequestContext& ctx) const {
  for (const auto& f : filters_)
    if (auto refusal = f->Apply(ctx)) return refusal;
  return std::nullopt;
}

std::vector<std::string_view> FilterChain::names() const {
  std::vector<std::string_view> n;
  for (const auto& f : filters_) n.push_back(f->name());
  return n;
}

FilterChain StandardFilters(const FilterDeps& deps) {
  std::vector<std::unique_ptr<Filter>> f;
  f.push_back(std::make_unique<Authenticate>(deps));
  f.push_back(std::make_unique<DepartmentClaim>());
  f.push_back(std::make_unique<PrincipalRate>(deps));
  f.push_back(std::make_unique<Authorize>());
  f.push_back(std::make_unique<BodyLimits>());
  f.push_back(std::make_unique<Context>());
  return FilterChain(std::move(f));
}

bool AnyDepartment(const Policy& policy, const std::string& role) {
  const auto& all = policy.all_departments_roles;
  return std::find(all.begin(), all.end(), role) != all.end();
}

bool RoleGrants(const Policy& policy, const std::string& role, const std::string& needed) {
  auto it = policy.roles.find(role);
  if (it == policy.roles.end()) return false;
  for (const std::string& g : it->second)
    if (ScopeCovers(g, needed)) return true;
  return false;
}

}  // namespace medscribe::gateway
