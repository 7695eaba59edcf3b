// `medscribe registry register|list|show|alias|verify`: signed, versioned model artifacts.
#include <cstdio>
#include <memory>

#include "cli.h"
#include "common/files.h"
#include "registry/registry.h"

namespace medscribe::cli {
namespace {

void Print(const registry::Entry& e) {
  std::string aliases;
  for (const auto& a : e.aliases) aliases += (aliases.empty() ? "" : ",") + a;
  std::printf("%s@%ld\t%s\tdataset %s\tcommit %s\trun %s\t%s\n", e.name.c_str(), e.version,
              e.created_at.c_str(), e.dataset_id.substr(0, 16).c_str(), e.code_commit.c_str(),
              e.run_id.c_str(), aliases.empty() ? "-" : aliases.c_str());
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
  CLI::App* list = app.add_subcommand("list", "List every version with its lineage and aliases");
  CLI::App* show = app.add_subcommand("show", "Verify and show one version's manifest");
  show->add_option("MODEL", *ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  CLI::App* al =
      app.add_subcommand("alias", "Point an alias (staging, production, ...) at a version");
  al->add_option("MODEL", *ref, "NAME@VERSION")->required();
  al->add_option("ALIAS", *alias, "Alias name")->required();
  CLI::App* verify = app.add_subcommand("verify", "Check a version's signature and file hashes");
  verify->add_option("MODEL", *ref, "NAME, NAME@VERSION or NAME@ALIAS")->required();
  return [=](GlobalOptions& g) {
    auto r = registry::Registry::Open(g.home);
    if (!r.ok()) return ReportError(r.status());
    if (reg->parsed()) {
      auto e = r->Register(*run, *name);
      if (!e.ok()) return ReportError(e.status());
      std::printf("registered %s@%ld (signed) in %s\n", e->name.c_str(), e->version,
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
      if (Status s = r->Alias(parsed->name, *parsed->version, *alias); !s.ok())
        return ReportError(s);
      std::printf("%s@%s -> version %ld\n", parsed->name.c_str(), alias->c_str(), *parsed->version);
      return kExitOk;
    }
    auto e = r->Resolve(*ref);
    if (!e.ok()) return ReportError(e.status());
    if (show->parsed()) {
      auto manifest = ReadFile(e->dir + "/manifest.json");
      if (!manifest.ok()) return ReportError(manifest.status());
      std::printf("%s", manifest->c_str());
      return kExitOk;
    }
    std::printf("ok: %s@%ld: signature valid, every file matches its hash\n", e->name.c_str(),
                e->version);
    return kExitOk;
  };
}

}  // namespace medscribe::cli
