// `medscribe token issue|jwks|verify`: the development OIDC issuer of the embedded set-up. Its
// ES256 key lives in HOME/keys/dev_issuer.pem (0600), created on first use.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>

#include "cli.h"
#include "serve/jwt.h"

namespace medscribe::cli {
namespace {

struct TokenArgs {
  std::string sub, role = "radiologist", department, patient, name, audience = "medscribe",
                   ttl = "15m", issuer = "https://medscribe.local/dev-issuer", token, jwks;
  std::vector<std::string> clients;
};

const char* const kRoles[] = {"radiologist", "resident", "attending",
                              "auditor",     "admin",    "service"};

// A token lifetime: a duration of at most 24 hours.
StatusOr<int64_t> ParseTtl(const std::string& s) {
  ASSIGN_OR_RETURN(const int64_t seconds, ParseDuration(s, "--ttl"));
  if (seconds > 24 * 3600)
    return InvalidArgumentError("--ttl at most 24h: development tokens are short-lived");
  return seconds;
}

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Runner RegisterToken(CLI::App& app) {
  app.require_subcommand(1);
  auto a = std::make_shared<TokenArgs>();
  CLI::App* issue =
      app.add_subcommand("issue", "Sign a short-lived ES256 token with the development issuer");
  issue->add_option("--sub", a->sub, "Subject (a pseudonymous user id)")->required();
  issue
      ->add_option("--role", a->role, "radiologist, resident, attending, auditor, admin or service")
      ->capture_default_str();
  issue->add_option("--department", a->department, "Department the caller works for");
  issue->add_option("--patient", a->patient,
                    "Limit the token to this patient pseudonym (SMART launch context)");
  issue->add_option("--name", a->name,
                    "Display name (OIDC name claim), e.g. \"Lee^Anna\"; signed reports carry it");
  issue->add_option("--audience", a->audience, "aud claim")->capture_default_str();
  issue->add_option("--ttl", a->ttl, "Lifetime: 900, 900s, 15m, 2h (at most 24h)")
      ->capture_default_str();
  issue->add_option("--issuer", a->issuer, "iss claim")->capture_default_str();
  CLI::App* jwks = app.add_subcommand("jwks", "Print the development issuer's public keys (JWKS)");
  jwks->add_option("--issuer", a->issuer, "iss claim")->capture_default_str();
  CLI::App* verify =
      app.add_subcommand("verify", "Verify a token (read from stdin) against a JWKS file");
  verify->add_option("--jwks", a->jwks, "JWKS file")->required();
  verify->add_option("--issuer", a->issuer, "Expected iss")->capture_default_str();
  verify->add_option("--audience", a->audience, "Expected aud")->capture_default_str();
  verify->add_option("--client", a->clients,
                     "A client id the token's azp may name (repeatable; default: the audience)");
  return [=](GlobalOptions& g) {
    if (verify->parsed()) {
      std::string jwks_text, token;
      FILE* f = std::fopen(a->jwks.c_str(), "rb");
      if (!f) return ReportError(NotFoundError("cannot open '" + a->jwks + "'"));
      char buf[4096];
      for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) jwks_text.append(buf, n);
      std::fclose(f);
      std::getline(std::cin, token);
      auto keys = serve::KeySet::Parse(jwks_text);
      if (!keys.ok()) return ReportError(keys.status());
      auto c = serve::VerifyJwt(token, *keys, {a->issuer, a->audience, 30, a->clients}, Now());
      if (!c.ok()) {
        std::fprintf(stderr, "error: %s\n", c.status().message().c_str());
        return kExitFailed;
      }
      std::printf("ok: sub %s, role %s, department %s, %s, expires in %lld s\n", c->sub.c_str(),
                  c->role.c_str(), c->department.c_str(), c->alg.c_str(),
                  static_cast<long long>(c->exp - Now()));
      return kExitOk;
    }
    auto issuer = serve::DevIssuer::LoadOrCreate(g.home + "/keys/dev_issuer.pem", a->issuer);
    if (!issuer.ok()) return ReportError(issuer.status());
    if (jwks->parsed()) {
      std::printf("%s\n", issuer->Jwks().c_str());
      return kExitOk;
    }
    if (std::find(std::begin(kRoles), std::end(kRoles), a->role) == std::end(kRoles)) {
      return ReportError(InvalidArgumentError(
          "--role must be radiologist, resident, attending, auditor, admin or service"));
    }
    auto ttl = ParseTtl(a->ttl);
    if (!ttl.ok()) return ReportError(ttl.status());
    auto token = issuer->Issue(a->sub, a->role, a->department, a->audience, *ttl, Now(), a->patient,
                               a->name);
    if (!token.ok()) return ReportError(token.status());
    std::printf("%s\n", token->c_str());
    return kExitOk;
  };
}

}  // namespace medscribe::cli
