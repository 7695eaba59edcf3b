#include "gateway/config.h"

#include <fnmatch.h>

#include <yaml-cpp/yaml.h>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "common/files.h"
#include "common/url.h"

namespace medscribe::gateway {
namespace fs = std::filesystem;

namespace {

const char kDefaultPolicy[] = R"(# MedScribe gateway authorization policy (docs/gateway.md).
# Roles grant SMART-on-FHIR-style scopes; a route needs any one of its scopes.
roles:
  radiologist: [user/DiagnosticReport.write, user/DiagnosticReport.read, user/DiagnosticReport.sign, user/ImagingStudy.read, user/Model.read]
  attending:   [user/DiagnosticReport.write, user/DiagnosticReport.read, user/DiagnosticReport.sign, user/ImagingStudy.read, user/Model.read]
  resident:    [user/DiagnosticReport.write, user/DiagnosticReport.read, user/Model.read]
  auditor:     [user/AuditEvent.read]
  admin:       [system/Metrics.read, user/Model.read]
  service:     [system/DiagnosticReport.write, system/DiagnosticReport.read, system/Model.read, system/Metrics.read]
# Roles whose tokens may touch encounters of any department (others: their token's department only).
all_departments: [service]
routes:
  - {method: GET,  path: /healthz, public: true}
  - {method: GET,  path: /readyz, public: true}
  - {method: GET,  path: /.well-known/openid-configuration, public: true}
  - {method: GET,  path: /.well-known/jwks.json, public: true}
  - {method: GET,  path: /metrics, scopes: [system/Metrics.read], action: metrics.read}
  - {method: GET,  path: /v1/models, scopes: [user/Model.read, system/Model.read], action: models.list}
  - {method: POST, path: /v1/chat/completions, scopes: [user/DiagnosticReport.write, system/DiagnosticReport.write], action: chat.complete, phi: true}
  - {method: POST, path: "/v1/reports:generate", scopes: [user/DiagnosticReport.write, system/DiagnosticReport.write], action: report.generate, phi: true, context: department}
  # The clinical workflow (docs/api.md "Drafts"): the workflow checks the record's department.
  - {method: GET,  path: /, public: true}
  - {method: GET,  path: "/app/*", public: true}
  - {method: POST, path: /v1/drafts, scopes: [user/DiagnosticReport.write, system/DiagnosticReport.write], action: draft.create, phi: true}
  - {method: GET,  path: /v1/drafts, scopes: [user/DiagnosticReport.read, system/DiagnosticReport.read], action: draft.list, phi: true}
  - {method: GET,  path: "/v1/drafts/*", scopes: [user/DiagnosticReport.read, system/DiagnosticReport.read], action: draft.read, phi: true}
  - {method: PUT,  path: "/v1/drafts/*", scopes: [user/DiagnosticReport.write], action: draft.edit, phi: true}
  - {method: POST, path: "/v1/drafts/*:sign", scopes: [user/DiagnosticReport.sign], action: draft.sign, phi: true}
  - {method: POST, path: "/v1/drafts/*:amend", scopes: [user/DiagnosticReport.sign], action: draft.amend, phi: true}
  - {method: POST, path: "/v1/drafts/*:regenerate", scopes: [user/DiagnosticReport.write, system/DiagnosticReport.write], action: draft.regenerate, phi: true}
  - {method: POST, path: "/v1/drafts/*:preliminary", scopes: [user/DiagnosticReport.write], action: draft.preliminary, phi: true}
  - {method: POST, path: /v1/batch-jobs, scopes: [user/DiagnosticReport.write, system/DiagnosticReport.write], action: batch.create, phi: true}
  - {method: GET,  path: "/v1/batch-jobs/*", scopes: [user/DiagnosticReport.read, system/DiagnosticReport.read], action: batch.read, phi: true}
)";

// "key (line N)" for error messages.
std::string Where(const YAML::Node& n, const std::string& key) {
  return "'" + key + "' (line " + std::to_string(n.Mark().line + 1) + ")";
}

std::string Str(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) throw std::runtime_error(Where(n, key) + " must be a string");
  return n.as<std::string>();
}

std::vector<std::string> StrList(const YAML::Node& n, const std::string& key) {
  std::vector<std::string> out;
  if (n.IsScalar()) {
    out.push_back(n.as<std::string>());
    return out;
  }
  if (!n.IsSequence()) throw std::runtime_error(Where(n, key) + " must be a list of strings");
  for (const auto& e : n) out.push_back(Str(e, key));
  return out;
}

template <class T>
T Num(const YAML::Node& n, const std::string& key, T lo, T hi) {
  T v{};
  try {
    v = n.as<T>();
  } catch (const YAML::Exception&) {
    throw std::runtime_error(Where(n, key) + " must be a number");
  }
  if (v < lo || v > hi) {
    throw std::runtime_error(Where(n, key) + " must be between " + std::to_string(lo) + " and " +
                             std::to_string(hi));
  }
  return v;
}

bool Bool(const YAML::Node& n, const std::string& key) {
  try {
    return n.as<bool>();
  } catch (const YAML::Exception&) {
    throw std::runtime_error(Where(n, key) + " must be true or false");
  }
}

void CheckKeys(const YAML::Node& n, const std::string& what,
               std::initializer_list<const char*> ok) {
  if (!n.IsMap())
    throw std::runtime_error(what + " (line " + std::to_string(n.Mark().line + 1) +
                             ") must be a mapping");
  for (const auto& kv : n) {
    const std::string k = kv.first.as<std::string>();
    bool known = false;
    for (const char* o : ok) known = known || k == o;
    if (!known) {
      std::string list;
      for (const char* o : ok) list += std::string(list.empty() ? "" : ", ") + o;
      throw std::runtime_error("unknown key " + Where(kv.first, k) + " in " + what +
                               "; known keys: " + list);
    }
  }
}

fs::path Resolve(const fs::path& base, const std::string& p) {
  if (p.empty()) return {};
  const fs::path f(p);
  return f.is_absolute() ? f : base / f;
}

std::chrono::milliseconds Ms(const YAML::Node& n, const std::string& key) {
  return std::chrono::milliseconds(Num<int64_t>(n, key, 1, 3600000));
}

Policy ParsePolicyNode(const YAML::Node& root) {
  CheckKeys(root, "the policy", {"roles", "all_departments", "routes"});
  Policy p;
  if (root["roles"]) {
    if (!root["roles"].IsMap())
      throw std::runtime_error("'roles' must map role names to scope lists");
    for (const auto& kv : root["roles"])
      p.roles[kv.first.as<std::string>()] =
          StrList(kv.second, "roles." + kv.first.as<std::string>());
  }
  if (root["all_departments"])
    p.all_departments_roles = StrList(root["all_departments"], "all_departments");
  if (!root["routes"] || !root["routes"].IsSequence())
    throw std::runtime_error("the policy needs 'routes', a list of {method, path, scopes}");
  for (const auto& r : root["routes"]) {
    CheckKeys(r, "a route", {"method", "path", "scopes", "action", "phi", "context", "public"});
    RoutePolicy rp;
    if (!r["method"] || !r["path"])
      throw std::runtime_error("route at line " + std::to_string(r.Mark().line + 1) +
                               " needs 'method' and 'path'");
    rp.method = Str(r["method"], "method");
    rp.path = Str(r["path"], "path");
    if (r["scopes"]) rp.scopes = StrList(r["scopes"], "scopes");
    if (r["action"]) rp.action = Str(r["action"], "action");
    if (r["phi"]) rp.phi = Bool(r["phi"], "phi");
    if (r["public"]) rp.public_route = Bool(r["public"], "public");
    if (r["context"]) {
      const std::string c = Str(r["context"], "context");
      if (c != "department")
        throw std::runtime_error(Where(r["context"], "context") + " must be 'department'");
      rp.context = true;
    }
    if (!rp.public_route && rp.scopes.empty())
      throw std::runtime_error("route " + rp.method + " " + rp.path + " (line " +
                               std::to_string(r.Mark().line + 1) +
                               ") needs 'scopes' or 'public: true'");
    if (rp.public_route && rp.phi)
      throw std::runtime_error("route " + rp.method + " " + rp.path +
                               " touches patient data and cannot be public");
    if (rp.action.empty()) rp.action = rp.method + " " + rp.path;
    p.routes.push_back(std::move(rp));
  }
  return p;
}

Deployment ParseDeployment(const YAML::Node& d) {
  CheckKeys(d, "a deployment", {"name", "weight", "replicas"});
  Deployment dep;
  if (!d["name"])
    throw std::runtime_error("a deployment (line " + std::to_string(d.Mark().line + 1) +
                             ") needs a 'name'");
  dep.name = Str(d["name"], "name");
  dep.weight = d["weight"] ? Num<double>(d["weight"], "weight", 0, 1e6) : 1;
  const YAML::Node r = d["replicas"];
  if (!r)
    throw std::runtime_error("deployment '" + dep.name +
                             "' needs 'replicas': a list of URLs or {local: ...}");
  if (r.IsMap()) {
    CheckKeys(r, "replicas of '" + dep.name + "'", {"local"});
    const YAML::Node l = r["local"];
    CheckKeys(l, "replicas.local", {"model", "count", "args"});
    if (!l["model"]) throw std::runtime_error("replicas.local of '" + dep.name + "' needs 'model'");
    dep.local.model = Str(l["model"], "model");
    if (l["count"]) dep.local.count = Num<int>(l["count"], "count", 1, 64);
    if (l["args"]) dep.local.args = StrList(l["args"], "args");
  } else if (r.IsScalar() && r.as<std::string>() == "local") {
    throw std::runtime_error(
        "'replicas: local' needs a model: write replicas: {local: {model: NAME}}");
  } else {
    dep.replicas = StrList(r, "replicas");
    if (dep.replicas.empty())
      throw std::runtime_error("deployment '" + dep.name + "' has no replicas");
  }
  return dep;
}

}  // namespace

const RoutePolicy* Policy::Find(const std::string& method, const std::string& path) const {
  for (const RoutePolicy& r : routes)
    if (r.path == path && r.method == method) return &r;
  // Patterns: '*' matches within one path segment.
  for (const RoutePolicy& r : routes)
    if (r.method == method && r.path.find('*') != std::string::npos &&
        fnmatch(r.path.c_str(), path.c_str(), FNM_PATHNAME) == 0)
      return &r;
  return nullptr;
}

bool ScopeCovers(const std::string& granted, const std::string& needed) {
  auto split = [](const std::string& s, std::string* ctx, std::string* res, std::string* act) {
    const size_t slash = s.find('/'), dot = s.rfind('.');
    if (slash == std::string::npos || dot == std::string::npos || dot < slash) return false;
    *ctx = s.substr(0, slash);
    *res = s.substr(slash + 1, dot - slash - 1);
    *act = s.substr(dot + 1);
    return true;
  };
  std::string gc, gr, ga, nc, nr, na;
  if (!split(granted, &gc, &gr, &ga) || !split(needed, &nc, &nr, &na)) return false;
  return gc == nc && (gr == "*" || gr == nr) && (ga == "*" || ga == na);
}

const std::string& DefaultPolicyYaml() {
  static const std::string s(kDefaultPolicy);
  return s;
}

StatusOr<Policy> ParsePolicy(const std::string& yaml_text, const std::string& origin) {
  try {
    return ParsePolicyNode(YAML::Load(yaml_text));
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(origin + ": line " + std::to_string(e.mark.line + 1) + ": " +
                                e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(origin + ": " + e.what());
  }
}

StatusOr<GatewayConfig> ParseGatewayConfig(const std::string& yaml_text, const fs::path& base,
                                           const fs::path& home) {
  GatewayConfig c;
  c.home = home;
  c.audit_path = home / "audit" / "gateway.log";
  try {
    const YAML::Node root =
        yaml_text.empty() ? YAML::Node(YAML::NodeType::Map) : YAML::Load(yaml_text);
    if (root.IsNull()) return ParseGatewayConfig("", base, home);
    CheckKeys(root, "the gateway config",
              {"listen", "io_threads", "tls", "auth", "policy", "limits", "audit", "health",
               "endpoints", "clinical"});
    if (root["listen"]) c.listen = Str(root["listen"], "listen");
    if (root["io_threads"]) c.io_threads = Num<int>(root["io_threads"], "io_threads", 1, 64);
    if (const YAML::Node t = root["tls"]) {
      CheckKeys(t, "tls",
                {"mode", "cert", "key", "client_ca", "upstream_mtls", "upstream_ca",
                 "upstream_cert", "upstream_key"});
      if (t["mode"]) c.tls_mode = Str(t["mode"], "tls.mode");
      if (c.tls_mode != "local" && c.tls_mode != "files" && c.tls_mode != "off")
        throw std::runtime_error(Where(t["mode"], "tls.mode") + " must be local, files or off");
      if (t["cert"]) c.tls_cert = Resolve(base, Str(t["cert"], "tls.cert"));
      if (t["key"]) c.tls_key = Resolve(base, Str(t["key"], "tls.key"));
      if (t["client_ca"]) c.tls_client_ca = Resolve(base, Str(t["client_ca"], "tls.client_ca"));
      if (t["upstream_mtls"]) c.upstream_mtls = Bool(t["upstream_mtls"], "tls.upstream_mtls");
      if (t["upstream_ca"]) c.upstream_ca = Resolve(base, Str(t["upstream_ca"], "tls.upstream_ca"));
      if (t["upstream_cert"])
        c.upstream_cert = Resolve(base, Str(t["upstream_cert"], "tls.upstream_cert"));
      if (t["upstream_key"])
        c.upstream_key = Resolve(base, Str(t["upstream_key"], "tls.upstream_key"));
      if (c.upstream_cert.empty() != c.upstream_key.empty())
        throw std::runtime_error("tls.upstream_cert and tls.upstream_key go together");
      if (c.tls_mode == "files" && (c.tls_cert.empty() || c.tls_key.empty()))
        throw std::runtime_error("tls.mode files needs tls.cert and tls.key");
    }
    if (const YAML::Node a = root["auth"]) {
      CheckKeys(a, "auth",
                {"issuer", "audience", "jwks_file", "jwks_url", "jwks_ca", "leeway_s",
                 "jwks_refresh_s", "dev_issuer", "clients"});
      if (a["issuer"]) c.issuer = Str(a["issuer"], "auth.issuer");
      if (a["audience"]) c.audience = Str(a["audience"], "auth.audience");
      if (a["clients"]) c.clients = StrList(a["clients"], "auth.clients");
      if (a["jwks_file"]) c.jwks_file = Resolve(base, Str(a["jwks_file"], "auth.jwks_file"));
      if (a["jwks_url"]) {
        c.jwks_url = Str(a["jwks_url"], "auth.jwks_url");
        auto u = ParseHttpUrl(c.jwks_url);
        if (!u.ok())
          throw std::runtime_error(Where(a["jwks_url"], "auth.jwks_url") + ": " +
                                   u.status().message());
        if (!u->tls() && !IsLoopbackHost(u->host))
          throw std::runtime_error(Where(a["jwks_url"], "auth.jwks_url") +
                                   " must be an https:// URL (plain http only to this machine's "
                                   "loopback): the keys decide who may read reports");
      }
      if (a["jwks_ca"]) c.jwks_ca = Resolve(base, Str(a["jwks_ca"], "auth.jwks_ca"));
      if (a["leeway_s"]) c.leeway_s = Num<int64_t>(a["leeway_s"], "auth.leeway_s", 0, 300);
      if (a["jwks_refresh_s"])
        c.jwks_refresh = std::chrono::seconds(
            Num<int64_t>(a["jwks_refresh_s"], "auth.jwks_refresh_s", 5, 86400));
      if (a["dev_issuer"]) c.dev_issuer = Bool(a["dev_issuer"], "auth.dev_issuer");
      if (!c.jwks_file.empty() && !c.jwks_url.empty())
        throw std::runtime_error("auth: give jwks_file or jwks_url, not both");
    }
    if (!c.dev_issuer && c.jwks_file.empty() && c.jwks_url.empty())
      throw std::runtime_error(
          "auth: without the development issuer, give auth.jwks_file or auth.jwks_url");
    if ((!c.jwks_file.empty() || !c.jwks_url.empty()) && c.issuer.empty())
      throw std::runtime_error("auth: an external JWKS needs auth.issuer (the expected 'iss')");
    if (root["policy"]) c.policy_file = Resolve(base, Str(root["policy"], "policy"));
    if (const YAML::Node l = root["limits"]) {
      CheckKeys(l, "limits",
                {"max_body_bytes", "max_header_bytes", "max_target_bytes", "header_timeout_ms",
                 "body_timeout_ms", "idle_timeout_ms", "json_max_depth", "image_max_bytes",
                 "rate_per_principal", "rate_per_address", "max_in_flight",
                 "max_in_flight_per_principal", "upstream_timeout_ms"});
      Limits& L = c.limits;
      if (l["max_body_bytes"])
        L.max_body_bytes =
            Num<size_t>(l["max_body_bytes"], "limits.max_body_bytes", 1024, size_t{1} << 30);
      if (l["max_header_bytes"])
        L.max_header_bytes =
            Num<size_t>(l["max_header_bytes"], "limits.max_header_bytes", 1024, 1u << 20);
      if (l["max_target_bytes"])
        L.max_target_bytes =
            Num<size_t>(l["max_target_bytes"], "limits.max_target_bytes", 64, 1u << 16);
      if (l["header_timeout_ms"])
        L.header_timeout = Ms(l["header_timeout_ms"], "limits.header_timeout_ms");
      if (l["body_timeout_ms"]) L.body_timeout = Ms(l["body_timeout_ms"], "limits.body_timeout_ms");
      if (l["idle_timeout_ms"]) L.idle_timeout = Ms(l["idle_timeout_ms"], "limits.idle_timeout_ms");
      if (l["upstream_timeout_ms"])
        L.upstream_timeout = Ms(l["upstream_timeout_ms"], "limits.upstream_timeout_ms");
      if (l["json_max_depth"])
        L.json_max_depth = Num<size_t>(l["json_max_depth"], "limits.json_max_depth", 2, 1024);
      if (l["image_max_bytes"])
        L.image_max_bytes =
            Num<size_t>(l["image_max_bytes"], "limits.image_max_bytes", 1024, size_t{1} << 30);
      for (auto [key, rl] : {std::pair{"rate_per_principal", &L.per_principal},
                             std::pair{"rate_per_address", &L.per_address}}) {
        if (!l[key]) continue;
        CheckKeys(l[key], std::string("limits.") + key, {"rps", "burst"});
        rl->rps = Num<double>(l[key]["rps"], std::string(key) + ".rps", 0, 1e6);
        rl->burst = l[key]["burst"]
                        ? Num<double>(l[key]["burst"], std::string(key) + ".burst", 1, 1e7)
                        : std::max(1.0, rl->rps);
      }
      if (l["max_in_flight"])
        L.max_in_flight = Num<int>(l["max_in_flight"], "limits.max_in_flight", 1, 1000000);
      if (l["max_in_flight_per_principal"])
        L.max_in_flight_per_principal = Num<int>(l["max_in_flight_per_principal"],
                                                 "limits.max_in_flight_per_principal", 1, 1000000);
    }
    if (const YAML::Node a = root["audit"]) {
      CheckKeys(a, "audit", {"path"});
      if (a["path"]) c.audit_path = Resolve(base, Str(a["path"], "audit.path"));
    }
    if (const YAML::Node h = root["health"]) {
      CheckKeys(h, "health", {"interval_ms", "eject_after_errors", "eject_ms"});
      if (h["interval_ms"]) c.health_interval = Ms(h["interval_ms"], "health.interval_ms");
      if (h["eject_after_errors"])
        c.eject_after_errors =
            Num<int>(h["eject_after_errors"], "health.eject_after_errors", 1, 1000);
      if (h["eject_ms"]) c.eject_for = Ms(h["eject_ms"], "health.eject_ms");
    }
    if (const YAML::Node e = root["endpoints"]) {
      if (!e.IsSequence()) throw std::runtime_error(Where(e, "endpoints") + " must be a list");
      for (const auto& en : e) {
        CheckKeys(en, "an endpoint", {"name", "paths", "deployments", "mirror"});
        Endpoint ep;
        ep.name = en["name"] ? Str(en["name"], "name") : "default";
        if (!en["paths"]) throw std::runtime_error("endpoint '" + ep.name + "' needs 'paths'");
        ep.paths = StrList(en["paths"], "paths");
        if (!en["deployments"] || !en["deployments"].IsSequence() || en["deployments"].size() == 0)
          throw std::runtime_error("endpoint '" + ep.name +
                                   "' needs 'deployments', a non-empty list");
        double total = 0;
        for (const auto& d : en["deployments"]) {
          ep.deployments.push_back(ParseDeployment(d));
          total += ep.deployments.back().weight;
        }
        if (total <= 0)
          throw std::runtime_error("endpoint '" + ep.name +
                                   "': the deployments' weights add up to 0");
        if (const YAML::Node m = en["mirror"]) {
          CheckKeys(m, "mirror", {"deployment", "percent"});
          ep.mirror = Str(m["deployment"], "mirror.deployment");
          if (m["percent"]) ep.mirror_percent = Num<double>(m["percent"], "mirror.percent", 0, 100);
          bool found = false;
          for (const auto& d : ep.deployments) found = found || d.name == ep.mirror;
          if (!found)
            throw std::runtime_error("mirror.deployment '" + ep.mirror +
                                     "' is not a deployment of '" + ep.name + "'");
        }
        c.endpoints.push_back(std::move(ep));
      }
    }
    if (const YAML::Node k = root["clinical"]) {
      CheckKeys(k, "clinical",
                {"records",
                 "images",
                 "token_file",
                 "ca_file",
                 "source_timeout_ms",
                 "store",
                 "key_ring",
                 "key_ring_sealed",
                 "tpm",
                 "deid_key",
                 "rules",
                 "generate_path",
                 "asr",
                 "asr_lm",
                 "asr_acoustic_model",
                 "workers",
                 "max_tokens",
                 "image_spacing_mm",
                 "web_root",
                 "drift_dir",
                 "drift_reference",
                 "drift_window_s",
                 "batch_job_ttl_s"});
      ClinicalConfig& K = c.clinical;
      K.enabled = true;
      auto source = [&](const char* key) {
        if (!k[key]) throw std::runtime_error(std::string("clinical.") + key + " is required");
        std::string v = Str(k[key], std::string("clinical.") + key);
        if (v.rfind("cohort:", 0) == 0) return "cohort:" + Resolve(base, v.substr(7)).string();
        if (v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
          throw std::runtime_error(Where(k[key], std::string("clinical.") + key) +
                                   " must be cohort:DIR or an http(s) URL");
        return v;
      };
      K.records = source("records");
      K.images = source("images");
      if (k["token_file"])
        K.token_file = Resolve(base, Str(k["token_file"], "clinical.token_file"));
      if (k["ca_file"]) K.ca_file = Resolve(base, Str(k["ca_file"], "clinical.ca_file"));
      if (k["source_timeout_ms"])
        K.source_timeout_ms =
            Num<int64_t>(k["source_timeout_ms"], "clinical.source_timeout_ms", 100, 600000);
      K.store = (home / "clinical" / "drafts.db").string();
      if (k["store"]) {
        K.store = Str(k["store"], "clinical.store");
        if (K.store.rfind("postgres", 0) != 0) K.store = Resolve(base, K.store);
      }
      K.key_ring = (home / "keys" / "kek.ring").string();
      if (k["key_ring"]) K.key_ring = Resolve(base, Str(k["key_ring"], "clinical.key_ring"));
      if (k["key_ring_sealed"]) {
        K.key_ring_sealed = Resolve(base, Str(k["key_ring_sealed"], "clinical.key_ring_sealed"));
        if (!k["tpm"])
          throw std::runtime_error(
              "clinical.key_ring_sealed needs clinical.tpm, the TPM that sealed it (a TCTI such "
              "as device:/dev/tpmrm0)");
        K.tpm = Str(k["tpm"], "clinical.tpm");
      } else if (k["tpm"]) {
        throw std::runtime_error(
            "clinical.tpm is set but clinical.key_ring_sealed is not; seal the ring with "
            "`medscribe keys seal` and name the sealed file");
      }
      K.deid_key = (home / "keys" / "deid.key").string();
      if (k["deid_key"]) K.deid_key = Resolve(base, Str(k["deid_key"], "clinical.deid_key"));
      if (k["rules"])
        for (const auto& r : StrList(k["rules"], "clinical.rules"))
          K.rules.push_back(Resolve(base, r));
      if (k["generate_path"]) K.generate_path = Str(k["generate_path"], "clinical.generate_path");
      if (k["asr"]) K.asr = Bool(k["asr"], "clinical.asr");
      if (k["asr_lm"]) K.asr_lm = Resolve(base, Str(k["asr_lm"], "clinical.asr_lm"));
      if (k["asr_acoustic_model"])
        K.asr_acoustic_model =
            Resolve(base, Str(k["asr_acoustic_model"], "clinical.asr_acoustic_model"));
      if (k["workers"]) K.workers = Num<int>(k["workers"], "clinical.workers", 1, 64);
      if (k["max_tokens"]) K.max_tokens = Num<int>(k["max_tokens"], "clinical.max_tokens", 1, 4096);
      if (k["image_spacing_mm"])
        K.image_spacing_mm =
            Num<double>(k["image_spacing_mm"], "clinical.image_spacing_mm", 0.0, 100.0);
      if (k["batch_job_ttl_s"])
        K.batch_job_ttl_s =
            Num<int64_t>(k["batch_job_ttl_s"], "clinical.batch_job_ttl_s", 0, 30 * 86400);
      if (k["web_root"]) K.web_root = Resolve(base, Str(k["web_root"], "clinical.web_root"));
      if (k["drift_dir"]) K.drift_dir = Resolve(base, Str(k["drift_dir"], "clinical.drift_dir"));
      if (k["drift_reference"])
        K.drift_reference = Resolve(base, Str(k["drift_reference"], "clinical.drift_reference"));
      if (k["drift_window_s"])
        K.drift_window_s =
            Num<int64_t>(k["drift_window_s"], "clinical.drift_window_s", 1, 30 * 86400);
      if (K.drift_dir.empty() != K.drift_reference.empty())
        throw std::runtime_error(
            "clinical.drift_dir and clinical.drift_reference go together: the windows are "
            "binned at the reference's edges");
    }
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError("gateway config: line " + std::to_string(e.mark.line + 1) + ": " +
                                e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(std::string("gateway config: ") + e.what());
  }
  std::string policy_text = DefaultPolicyYaml(), origin = "shipped policy";
  if (!c.policy_file.empty()) {
    auto text = ReadFile(c.policy_file);
    if (!text.ok()) return text.status();
    policy_text = *text;
    origin = c.policy_file;
  }
  ASSIGN_OR_RETURN(c.policy, ParsePolicy(policy_text, origin));
  if (c.endpoints.empty())
    return InvalidArgumentError(
        "gateway config: no 'endpoints'; name at least one deployment with replicas");
  return c;
}

StatusOr<GatewayConfig> LoadGatewayConfig(const std::string& path, const fs::path& home) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseGatewayConfig(text, fs::absolute(path).parent_path(), home);
}

StatusOr<std::string> SetDeploymentWeight(const std::string& yaml_text, const std::string& endpoint,
                                          const std::string& deployment, double weight) {
  if (!(weight >= 0) || !std::isfinite(weight))
    return InvalidArgumentError("a deployment's weight is a number of at least 0");
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return InvalidArgumentError(std::string("the gateway config is not valid YAML: ") + e.what());
  }
  const YAML::Node endpoints = root.IsMap() ? root["endpoints"] : YAML::Node();
  YAML::Node found;
  bool endpoint_found = false, deployment_found = false;
  if (endpoints && endpoints.IsSequence()) {
    for (const YAML::Node& e : endpoints) {
      if (!e.IsMap() || !e["name"] || !e["name"].IsScalar() || e["name"].Scalar() != endpoint)
        continue;
      endpoint_found = true;
      const YAML::Node deployments = e["deployments"];
      if (!deployments || !deployments.IsSequence()) continue;
      for (const YAML::Node& d : deployments)
        if (d.IsMap() && d["name"] && d["name"].IsScalar() && d["name"].Scalar() == deployment) {
          found = d;
          deployment_found = true;
        }
    }
  }
  if (!endpoint_found)
    return NotFoundError("the gateway config has no endpoint '" + endpoint + "'");
  if (!deployment_found)
    return NotFoundError("endpoint '" + endpoint + "' has no deployment '" + deployment + "'");
  const YAML::Node w = found["weight"];
  if (!w || !w.IsScalar() || w.Mark().pos < 0 ||
      static_cast<size_t>(w.Mark().pos) >= yaml_text.size())
    return FailedPreconditionError("deployment '" + deployment + "' of endpoint '" + endpoint +
                                   "' states no weight to change; add `weight: 0` to it");
  // The scalar's characters: quoted up to its closing quote, plain as far as a number goes.
  const size_t begin = static_cast<size_t>(w.Mark().pos);
  size_t end = begin;
  if (yaml_text[begin] == '"' || yaml_text[begin] == '\'') {
    end = yaml_text.find(yaml_text[begin], begin + 1);
    if (end == std::string::npos) return InvalidArgumentError("an unclosed quote in the weight");
    ++end;
  } else {
    while (end < yaml_text.size() && std::strchr("0123456789.eE+-", yaml_text[end]) != nullptr &&
           yaml_text[end] != 0)
      ++end;
  }
  char number[32];
  std::snprintf(number, sizeof(number), "%.10g", weight);
  std::string out = yaml_text.substr(0, begin) + number + yaml_text.substr(end);
  // The edit must have changed exactly that weight.
  try {
    const YAML::Node check = YAML::Load(out);
    for (const YAML::Node& e : check["endpoints"]) {
      if (e["name"].Scalar() != endpoint) continue;
      for (const YAML::Node& d : e["deployments"])
        if (d["name"].Scalar() == deployment && d["weight"].as<double>() == std::stod(number))
          return out;
    }
  } catch (const std::exception&) {
  }
  return FailedPreconditionError("could not set the weight of deployment '" + deployment +
                                 "' in place (an unusual layout); set it by hand");
}

}  // namespace medscribe::gateway
