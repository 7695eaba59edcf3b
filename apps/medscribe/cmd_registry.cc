// `medscribe registry register|list|show|alias|aliases|verify`: signed, versioned model artifacts.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>

#include "cli.h"
#include "common/files.h"
#include "registry/registry.h"
#include "registry_access.h"

namespace medscribe::cli {
namespace {

void Print(const registry::Entry& e) {
  std::string aliases;
  for (const auto& a : e.aliases) aliases += (aliases.empty() ? "" : ",") + a;
  std::printf("%s@%ld\t%s\tdataset %s\tcommit %s\trun %s\t%s\n", e.name.c_str(), e.version,
              e.created_at.c_str(), e.dataset_id.substr(0, 16).c_str(), e.code_commit.c_str(),
              e.run_id.c_str(), aliases.empty() ? "-" : aliases.c_str());
}

// "USER@HOST" of whoever runs the command.
std::string WhoAmI() {
  const char* user = std::getenv("USER");
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0) host[0] = 0;
  return std::string(user && *user ? user : "unknown") + "@" + (host[0] ? host : "localhost");
}

}  // namespace

Runner RegisterRegistry(CLI::App& app) {
  app.require_subcommand(1);
  auto run = std::make_shared<std::string>();
  auto name = std::make_shared<std::string>();
  auto ref = std::make_shared<std::string>();
  auto alias = std::make_shared<std::string>();
  CLI::App* reg =
      app.add_subcommand("register", "Register a finished training run as a new signed version");
  reg->add_option("--run", *run, "Run directory (medscribe train --out)")
      ->required()
      ->type_name("RUN_DIR");
  reg->add_option("--name", *name, "Model name")->required();
  auto encrypt = std::make_shared<bool>(false);
  reg->add_flag("--encrypt", *encrypt,
                "Store the weights and the tokenizer encrypted under the registry key ring "
                "(HOME/keys/registry.ring, created when missing; seal it with `keys seal "
                "--registry`): they decrypt only where the ring is, into memory");
  CLI::App* list = app.add_subcommand("list", "List every version with its lineage and aliases");
  CLI::App* show = app.add_subcommand("show", "Verify and show one version's manifest");
  show->add_option("MODEL", *ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  CLI::App* al =
      app.add_subcommand("alias", "Point an alias (staging, production, ...) at a version");
  al->add_option("MODEL", *ref, "NAME@VERSION")->required();
  al->add_option("ALIAS", *alias, "Alias name")->required();
  auto by = std::make_shared<std::string>();
  al->add_option("--by", *by, "Who moves the alias, recorded and signed (default: USER@HOST)");
  CLI::App* history = app.add_subcommand(
      "aliases", "Show every move of a model's aliases: version, who, when, signature check");
  history->add_option("NAME", *name, "Model name")->required();
  CLI::App* verify = app.add_subcommand("verify", "Check a version's signature and file hashes");
  verify->add_option("MODEL", *ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  return [=](GlobalOptions& g) {
    auto r = OpenRegistry(g);
    if (!r.ok()) return ReportError(r.status());
    if (reg->parsed()) {
      std::optional<crypto::KeyRing> ring;
      if (*encrypt) {
        auto k = RegistryKeyRing(g, /*create=*/true);
        if (!k.ok()) return ReportError(k.status());
        ring = std::move(k).value();
      }
      auto e = r->Register(*run, *name, {ring ? &*ring : nullptr});
      if (!e.ok()) return ReportError(e.status());
      std::printf("registered %s@%ld (signed%s) in %s\n", e->name.c_str(), e->version,
                  e->encrypted ? (", encrypted under key " + ring->active_id()).c_str() : "",
                  e->dir.c_str());
      return kExitOk;
    }
    if (list->parsed()) {
      auto all = r->List();
      if (!all.ok()) return ReportError(all.status());
      for (const auto& e : *all) Print(e);
      return kExitOk;
    }
    if (al->parsed()) {
      auto parsed = registry::ParseModelRef(*ref);
      if (!parsed.ok()) return ReportError(parsed.status());
      if (!parsed->version)
        return ReportError(InvalidArgumentError("give the version: NAME@VERSION"));
      const std::string who = by->empty() ? WhoAmI() : *by;
      if (Status s = r->Alias(parsed->name, *parsed->version, *alias, who); !s.ok())
        return ReportError(s);
      std::printf("%s@%s -> version %ld (signed, by %s)\n", parsed->name.c_str(), alias->c_str(),
                  *parsed->version, who.c_str());
      return kExitOk;
    }
    if (history->parsed()) {
      auto moves = r->AliasHistory(*name);
      if (!moves.ok()) return ReportError(moves.status());
      bool all_ok = true;
      for (const auto& m : *moves) {
        std::printf("%s\t%s@%s -> %ld\tby %s\t%s\n", m.moved_at.c_str(), m.name.c_str(),
                    m.alias.c_str(), m.version, m.moved_by.c_str(),
                    m.signature_ok ? "signature ok" : "SIGNATURE INVALID");
        all_ok = all_ok && m.signature_ok;
      }
      if (moves->empty()) std::printf("no alias of %s was ever set\n", name->c_str());
      return all_ok ? kExitOk : kExitFailed;
    }
    auto e = r->Verify(*ref);  // no decryption: the manifest and hashes need no key
    if (!e.ok()) return ReportError(e.status());
    if (show->parsed()) {
      auto manifest = ReadFile(e->dir + "/manifest.json");
      if (!manifest.ok()) return ReportError(manifest.status());
      std::printf("%s", manifest->c_str());
      return kExitOk;
    }
    std::printf(
        "ok: %s@%ld: signature valid, every file matches its hash%s\n", e->name.c_str(), e->version,
        e->encrypted ? " (encrypted: the weights decrypt only with the registry key ring)" : "");
    return kExitOk;
  };
}

}  // namespace medscribe::cli
