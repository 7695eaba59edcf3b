// `medscribe rules test FILE...`: loads rule files (docs/rules.md) and runs their fixtures.
// Exit 0 when every fixture raises exactly the rules it expects; 1 when one does not; 2 when a
// file cannot be loaded (the message names the file, line and reason).
#include <cstdio>

#include "cli.h"
#include "clinical/rules.h"

namespace medscribe::cli {

Runner RegisterRules(CLI::App& app) {
  auto files = std::make_shared<std::vector<std::string>>();
  app.require_subcommand(1);
  CLI::App* test =
      app.add_subcommand("test", "Check rule files and run the fixtures in their 'tests' section");
  test->add_option("files", *files, "Rule files (YAML)")->required()->check(CLI::ExistingFile);
  return [files](GlobalOptions&) {
    int failed = 0;
    for (const std::string& f : *files) {
      auto rules = clinical::RuleSet::Load(f);
      if (!rules.ok()) return ReportError(rules.status());
      const auto results = clinical::RunFixtures(*rules);
      int ok = 0;
      for (const auto& r : results) {
        if (r.ok) {
          ++ok;
          continue;
        }
        ++failed;
        std::printf("FAIL %s: %s", f.c_str(), r.name.c_str());
        for (const auto& id : r.missing) std::printf("  missing %s", id.c_str());
        for (const auto& id : r.unexpected) std::printf("  unexpected %s", id.c_str());
        for (const auto& e : r.errors) std::printf("  error %s", e.c_str());
        std::printf("\n");
      }
      std::printf("%s: %zu rules, %d/%zu tests pass\n", f.c_str(), rules->size(), ok,
                  results.size());
    }
    return failed == 0 ? kExitOk : kExitFailed;
  };
}

}  // namespace medscribe::cli
