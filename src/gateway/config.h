// The gateway's configuration (docs/gateway.md): a YAML file, with the authorization policy in
// its own YAML file. Every default is safe: TLS on with the local CA, the development issuer's
// keys, the shipped policy, limits on.
//
// Thread safety: plain values; a loaded config is immutable and shared by pointer.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::gateway {

struct LocalReplicaConfig {
  std::string model;  // NAME[@ALIAS|@VERSION] in the registry
  int count = 1;
  std::vector<std::string> args;  // extra `medscribe serve` arguments
};

struct Deployment {
  std::string name;
  double weight = 0;                  // share of the endpoint's traffic
  std::vector<std::string> replicas;  // base URLs
  LocalReplicaConfig local;           // used when local.model is set
  bool is_local() const { return !local.model.empty(); }
};

struct Endpoint {
  std::string name;
  std::vector<std::string> paths;  // exact request paths routed here
  std::vector<Deployment> deployments;
  std::string mirror;  // a deployment (weight 0 allowed) that gets copies
  double mirror_percent = 100;
};

// Authorization policy: which scopes each role has, which scope each route needs.
struct RoutePolicy {
  std::string method, path;
  std::vector<std::string> scopes;  // any one of them suffices
  std::string action;               // the audit record's action
  bool phi = false;                 // touches patient data: audited
  bool context = false;             // the body names an encounter whose department is checked
  bool public_route = false;        // no token needed (health, discovery)
};

struct Policy {
  std::map<std::string, std::vector<std::string>> roles;  // role → scopes
  std::vector<RoutePolicy> routes;
  std::vector<std::string> all_departments_roles;  // roles not limited to their department
  const RoutePolicy* Find(const std::string& method, const std::string& path) const;
};
StatusOr<Policy> ParsePolicy(const std::string& yaml_text, const std::string& origin);
// The shipped policy (config/policy.yaml in docs/gateway.md).
const std::string& DefaultPolicyYaml();
// Whether `granted` (e.g. "user/*.write", "system/*.*") covers `needed`
// ("user/DiagnosticReport.write").
bool ScopeCovers(const std::string& granted, const std::string& needed);

struct RateLimit {
  double rps = 0;    // tokens per second (0: no limit)
  double burst = 0;  // bucket size
};

struct Limits {
  size_t max_body_bytes = 16u << 20;
  size_t max_header_bytes = 16u << 10;
  size_t max_target_bytes = 4096;
  std::chrono::milliseconds header_timeout{5000}, body_timeout{20000}, idle_timeout{30000};
  size_t json_max_depth = 64;
  size_t image_max_bytes = 12u << 20;  // one data: URL
  RateLimit per_principal{20, 40}, per_address{100, 200};
  int max_in_flight = 512;  // all requests
  int max_in_flight_per_principal = 32;
  std::chrono::milliseconds upstream_timeout{300000};
};

// The clinical workflow the gateway serves in-process (docs/workflow.md). Disabled unless the
// config has a `clinical` section.
struct ClinicalConfig {
  bool enabled = false;
  // Record (FHIR) and image (PACS) sides: "cohort:DIR" (a cohort directory, also the sink),
  // or an http(s) base URL (FHIR R4 / DICOMweb).
  std::string records, images;
  std::string token_file;  // bearer token for the FHIR and DICOMweb servers (optional)
  std::string ca_file;     // trust anchors for https sources (system store when empty)
  int64_t source_timeout_ms = 20000;
  std::string store;     // SQLite file or postgresql:// URL; default HOME/clinical/drafts.db
  std::string key_ring;  // KEK ring; default HOME/keys/kek.ring (created when missing)
  // The ring sealed to a TPM's measured state (`medscribe keys seal`) and the TPM (a TCTI such
  // as device:/dev/tpmrm0): when set, the ring is released by that TPM at start, and the
  // gateway refuses to start when it is not; key_ring is then not read.
  std::string key_ring_sealed, tpm;
  std::string deid_key;            // de-identification key; default HOME/keys/deid.key
  std::vector<std::string> rules;  // rule files; empty: the shipped sets
  std::string generate_path = "/v1/reports:generate";  // an endpoint path that drafts
  std::string asr_lm;  // language model for dictations (PocketSphinx default when empty)
  std::string asr_acoustic_model;  // acoustic model directory (`asr adapt`; en-us when empty)
  bool asr = true;                 // transcribe dictations
  int workers = 2;                 // concurrent interactive drafts
  int max_tokens = 384;
  // Images that state their pixel spacing are resampled to this many mm per pixel before
  // drafting, as the served model's dataset was (`medscribe ingest --image-spacing`); 0: fitted.
  double image_spacing_mm = 0;
  // Finished batch jobs are forgotten this long after they end (their drafts stay); at most
  // 1,000 jobs are kept, the oldest finished going first.
  int64_t batch_job_ttl_s = 86400;
  std::string web_root;  // serve the review page from this folder; empty: the built-in copy
  // Drift monitoring of live traffic (monitor/live.h, docs/monitoring.md): when drift_dir is
  // set, every draft and signature is counted into windows of drift_window_s seconds there,
  // binned at the reference profile in drift_reference (the served model's run.json or
  // registry directory, a dataset directory, or a profile JSON).
  std::string drift_dir, drift_reference;
  int64_t drift_window_s = 3600;
};

struct GatewayConfig {
  std::string listen = "127.0.0.1:8443";
  std::filesystem::path home;
  // TLS: "local" (the embedded CA under HOME/tls), "files" (cert/key below) or "off".
  std::string tls_mode = "local";
  std::string tls_cert, tls_key, tls_client_ca;
  // Replicas over https: trusted CA; mutual TLS with the local CA's client certificate.
  bool upstream_mtls = false;
  std::string upstream_ca;
  // The client certificate presented to replicas (PEM chain and key); empty: the local CA's.
  std::string upstream_cert, upstream_key;
  // Authentication.
  std::string issuer;  // expected `iss`; default: this gateway's development issuer
  std::string audience = "medscribe";
  // Client ids a token's `azp` may name (auth.clients); empty: only the audience itself.
  std::vector<std::string> clients;
  std::string jwks_file, jwks_url;  // neither: the development issuer's key
  std::string jwks_ca;              // CA for an https JWKS URL (default: the system's)
  int64_t leeway_s = 30;
  std::chrono::seconds jwks_refresh{300};
  bool dev_issuer = true;
  std::string policy_file;  // empty: the shipped policy
  Policy policy;
  Limits limits;
  std::filesystem::path audit_path;  // default HOME/audit/gateway.log
  std::chrono::milliseconds health_interval{1000};
  int eject_after_errors = 3;
  std::chrono::milliseconds eject_for{10000};
  int io_threads = 2;
  std::vector<Endpoint> endpoints;
  ClinicalConfig clinical;
};

// Parses the gateway YAML; relative file names resolve against the file's directory. The
// policy file is read too. InvalidArgument naming the key (and line) on any error.
StatusOr<GatewayConfig> LoadGatewayConfig(const std::string& path,
                                          const std::filesystem::path& home);
StatusOr<GatewayConfig> ParseGatewayConfig(const std::string& yaml_text,
                                           const std::filesystem::path& base_dir,
                                           const std::filesystem::path& home);

// `yaml_text` (a gateway configuration) with the weight of `deployment` in `endpoint` set to
// `weight`: only that number's characters change, comments and layout stay byte for byte.
// InvalidArgument for text that does not parse or a negative weight; NotFound naming the
// endpoint or deployment; FailedPrecondition when the deployment does not state a `weight:`
// to change (add one).
StatusOr<std::string> SetDeploymentWeight(const std::string& yaml_text, const std::string& endpoint,
                                          const std::string& deployment, double weight);

}  // namespace medscribe::gateway
