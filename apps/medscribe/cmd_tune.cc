// `medscribe tune --config STUDY.yaml --out DIR [--parallel K] [--worker] [--register NAME]`:
// a hyperparameter study (tune/search_space.h) whose trials are `medscribe train` runs under
// `medscribe launch`, sampled by TPE or at random, pruned by ASHA on the validation loss they
// report, kept in DIR/study.sqlite so that a killed tuner resumes and several tuners share one
// study; at the end a table of the trials, a plot (DIR/trials.svg), both as one page
// (DIR/trials.html) and, when asked, the best
// trial registered with the study in its lineage.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "cli.h"
#include "common/files.h"
#include "common/strings.h"
#include "common/subprocess.h"
#include "registry_access.h"
#include "tune/study.h"

namespace medscribe::cli {
namespace fs = std::filesystem;
namespace {

struct TuneArgs {
  std::string config, out, register_name, study;
  int parallel = 1;
  bool worker = false, show = false;
  int stale_s = 60;
};

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string HostName() {
  char host[256] = {0};
  if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == 0) return "localhost";
  return host;
}

// An owner "HOST/PID/WORKER" is alive unless it is on this host and its process is gone; owners
// on other hosts are judged by their heartbeats alone.
bool OwnerAlive(const std::string& owner) {
  const size_t a = owner.find('/'), b = owner.find('/', a + 1);
  if (a == std::string::npos || b == std::string::npos) return true;
  if (owner.substr(0, a) != HostName()) return true;
  const pid_t pid = static_cast<pid_t>(std::atol(owner.substr(a + 1, b - a - 1).c_str()));
  return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

std::string Describe(const tune::Assignment& params) {
  std::string s;
  for (const auto& [k, v] : params) s += (s.empty() ? "" : " ") + k + "=" + v;
  return s;
}

// The validation losses in a run's metrics.jsonl, from byte `*offset` on (advanced past the
// complete lines read).
std::vector<std::pair<int64_t, double>> ReadValidation(const fs::path& metrics, size_t* offset) {
  std::vector<std::pair<int64_t, double>> out;
  std::ifstream in(metrics, std::ios::binary);
  if (!in) return out;
  in.seekg(static_cast<std::streamoff>(*offset));
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a line still being written
    *offset += line.size() + 1;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("val_loss") && j["val_loss"].is_number() &&
        j.contains("step") && j["step"].is_number_integer())
      out.emplace_back(j["step"].get<int64_t>(), j["val_loss"].get<double>());
  }
  return out;
}

// The study database: --study (a SQLite file or a postgresql:// URL), else DIR/study.sqlite.
std::string StudyLocation(const TuneArgs& a) {
  return a.study.empty() ? (fs::path(a.out) / "study.sqlite").string() : a.study;
}

class Tuner {
 public:
  Tuner(const GlobalOptions& g, const TuneArgs& a, tune::StudyConfig c)
      : g_(g), a_(a), config_(std::move(c)), db_(StudyLocation(a)) {}

  // Runs one worker until no trial is left to take. Each worker has its own connection.
  Status Work(int index) {
    ASSIGN_OR_RETURN(tune::Study study, tune::Study::Open(db_, config_, /*create=*/false));
    const std::string owner =
        HostName() + "/" + std::to_string(getpid()) + "/" + std::to_string(index);
    bool said_waiting = false;
    while (true) {
      ASSIGN_OR_RETURN(auto trial, study.Claim(owner, Now(), a_.stale_s, OwnerAlive));
      if (!trial) {
        ASSIGN_OR_RETURN(const bool done, study.Done());
        if (done) return OkStatus();
        // Trials run elsewhere: wait, to take them over if their worker stops.
        if (!said_waiting)
          Say("worker " + std::to_string(index) + ": waiting for trials running in other workers");
        said_waiting = true;
        std::this_thread::sleep_for(std::chrono::seconds(2));
        continue;
      }
      said_waiting = false;
      RETURN_IF_ERROR(Run(study, owner, *trial));
    }
  }

  void Say(const std::string& line) {
    std::lock_guard<std::mutex> lock(mu_);
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

 private:
  std::vector<std::string> Command(const tune::Trial& t, const fs::path& dir) const {
    const std::string exe = SelfExecutable();
    const int64_t every = config_.asha.min_steps > 0 ? config_.asha.min_steps : config_.steps;
    std::vector<std::string> argv = {exe,
                                     "--home",
                                     g_.home,
                                     "launch",
                                     "--nproc",
                                     std::to_string(config_.nproc),
                                     "--stop-grace",
                                     "5",
                                     "--",
                                     exe,
                                     "--home",
                                     g_.home,
                                     "--log-level",
                                     "warn",
                                     "train"};
    argv.insert(argv.end(), config_.train_args.begin(), config_.train_args.end());
    for (const tune::Param& p : config_.space) {
      argv.push_back("--" + p.name);
      argv.push_back(t.params.at(p.name));
    }
    for (const std::string& s :
         {std::string("--max-steps"), std::to_string(config_.steps), std::string("--eval-every"),
          std::to_string(every), std::string("--checkpoint-every"), std::to_string(every),
          std::string("--out"), dir.string()})
      argv.push_back(s);
    return argv;
  }

  Status Run(tune::Study& study, const std::string& owner, const tune::Trial& t) {
    char name[32];
    std::snprintf(name, sizeof(name), "trial-%04d", t.id);
    const fs::path dir = fs::path(a_.out) / "trials" / name;
    const fs::path log = fs::path(a_.out) / "trials" / (std::string(name) + ".log");
    std::error_code ec;
    fs::create_directories(dir.parent_path(), ec);
    const std::string head = "trial " + std::to_string(t.id) + "/" + std::to_string(config_.trials);
    Say(head + (t.starts > 1 ? " resumed: " : " started: ") + Describe(t.params) +
        (config_.asha.brackets > 1 ? " (bracket " + std::to_string(t.bracket) + ")" : ""));
    const auto t0 = std::chrono::steady_clock::now();
    // The launcher gets SIGTERM, and stops its workers, if this tuner dies.
    ASSIGN_OR_RETURN(const pid_t pid, StartLoggedProcess(Command(t, dir), log.string()));
    size_t offset = 0;
    std::vector<int64_t> reported;
    for (const auto& [step, value] : t.reports) reported.push_back(step);
    std::optional<double> last;
    std::optional<std::string> stop;  // why the trial is being stopped
    tune::TrialState end = tune::TrialState::kFailed;
    int64_t last_beat = Now();
    int status = 0;
    bool exited = false;
    while (!exited) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      exited = waitpid(pid, &status, WNOHANG) == pid;
      for (const auto& [step, value] : ReadValidation(dir / "metrics.jsonl", &offset)) {
        last = value;
        if (stop || std::find(reported.begin(), reported.end(), step) != reported.end()) continue;
        reported.push_back(step);
        auto go_on = study.Report(t.id, owner, step, value);
        if (!go_on.ok()) {
          stop = go_on.status().message();
          end = tune::TrialState::kRunning;  // not ours any more: leave it as it is
        } else if (!*go_on) {
          char buf[160];
          std::snprintf(buf, sizeof(buf),
                        "pruned at step %lld: val_loss %.4f not among the best "
                        "1/%d at this rung",
                        static_cast<long long>(step), value, config_.asha.reduction_factor);
          stop = buf;
          end = tune::TrialState::kPruned;
        }
        if (stop) {
          kill(pid, SIGTERM);
          Say(head + ": " + *stop);
        }
      }
      if (!exited && Now() - last_beat >= 5) {
        last_beat = Now();
        if (Status s = study.Heartbeat(t.id, owner, last_beat); !s.ok() && !stop) {
          stop = s.message();
          end = tune::TrialState::kRunning;
          kill(pid, SIGTERM);
        }
      }
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (end == tune::TrialState::kRunning) return OkStatus();  // taken over
    std::string note;
    if (!stop) {
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      end = ok && last ? tune::TrialState::kCompleted : tune::TrialState::kFailed;
      if (end == tune::TrialState::kFailed)
        note = "exit " +
               std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)) +
               "; see " + log.string();
    } else {
      note = *stop;
    }
    RETURN_IF_ERROR(study.Finish(t.id, owner, end, last, seconds, note));
    char buf[200];
    std::snprintf(buf, sizeof(buf), ": %s, val_loss %s, %.0f s", tune::StateName(end),
                  last ? std::to_string(*last).c_str() : "-", seconds);
    Say(head + buf + (end == tune::TrialState::kFailed ? " (" + note + ")" : ""));
    return OkStatus();
  }

  const GlobalOptions& g_;
  const TuneArgs& a_;
  tune::StudyConfig config_;
  std::string db_;
  std::mutex mu_;
};

// The best completed trial (lowest objective), or nullptr.
const tune::Trial* Best(const std::vector<tune::Trial>& trials) {
  const tune::Trial* best = nullptr;
  for (const tune::Trial& t : trials)
    if (t.state == tune::TrialState::kCompleted && t.value && (!best || *t.value < *best->value))
      best = &t;
  return best;
}

// The table of trials: a header row, then one row per trial (`*` marks the best): trial, state,
// objective, step, seconds, starts, then each parameter.
std::vector<std::vector<std::string>> TableRows(const tune::StudyConfig& c,
                                                const std::vector<tune::Trial>& trials) {
  const tune::Trial* best = Best(trials);
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"trial", "state", c.objective, "step", "seconds", "starts"});
  for (const tune::Param& p : c.space) rows.back().push_back(p.name);
  for (const tune::Trial& t : trials) {
    char seconds[32];
    std::snprintf(seconds, sizeof(seconds), "%.0f", t.seconds);
    rows.push_back({std::to_string(t.id) + (&t == best ? "*" : ""), tune::StateName(t.state),
                    t.value ? std::to_string(*t.value).substr(0, 8) : "-", std::to_string(t.step),
                    seconds, std::to_string(t.starts)});
    for (const tune::Param& p : c.space) {
      const auto it = t.params.find(p.name);
      rows.back().push_back(it == t.params.end() ? "-" : it->second);
    }
  }
  return rows;
}

void PrintTable(const std::vector<std::vector<std::string>>& rows) {
  for (const auto& r : rows) {
    std::printf("%-6s %-10s %10s %6s %8s %7s", r[0].c_str(), r[1].c_str(), r[2].c_str(),
                r[3].c_str(), r[4].c_str(), r[5].c_str());
    for (size_t i = 6; i < r.size(); ++i) std::printf("  %-12s", r[i].c_str());
    std::printf("\n");
  }
}

// One page with the study's table and its plot, for a browser.
std::string HtmlReport(const tune::StudyConfig& c,
                       const std::vector<std::vector<std::string>>& rows, const std::string& svg) {
  std::string html = "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>" +
                     XmlEscape(c.name) +
                     "</title><style>body{font-family:sans-serif}td,th{padding:2px 8px;"
                     "text-align:right}</style></head><body>\n<h1>Study " +
                     XmlEscape(c.name) + "</h1>\n<table>\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    html += "<tr>";
    for (const std::string& cell : rows[i])
      html += (i == 0 ? "<th>" : "<td>") + XmlEscape(cell) + (i == 0 ? "</th>" : "</td>");
    html += "</tr>\n";
  }
  return html + "</table>\n<p>* the best trial</p>\n" + svg + "</body></html>\n";
}

// Validation loss against step, one line per trial; pruned trials dashed, the best one thick.
std::string Plot(const tune::StudyConfig& c, const std::vector<tune::Trial>& trials) {
  double lo = 1e300, hi = -1e300;
  for (const tune::Trial& t : trials)
    for (const auto& [s, v] : t.reports) lo = std::min(lo, v), hi = std::max(hi, v);
  if (lo > hi) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1;
  const double W = 640, H = 400, L = 60, R = 20, T = 30, B = 40;
  const auto X = [&](double step) { return L + (W - L - R) * step / static_cast<double>(c.steps); };
  const auto Y = [&](double v) { return T + (H - T - B) * (hi - v) / (hi - lo); };
  const tune::Trial* best = Best(trials);
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"400\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"60\" y=\"18\">" +
      XmlEscape(c.name) + ": " + XmlEscape(c.objective) +
      " by step (dashed: pruned; thick: best)</text>\n";
  char buf[256];
  std::snprintf(buf, sizeof(buf),
                "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>"
                "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" stroke=\"black\"/>\n",
                L, H - B, W - R, H - B, L, T, L, H - B);
  svg += buf;
  std::snprintf(buf, sizeof(buf),
                "<text x=\"%g\" y=\"%g\">%.3f</text><text x=\"%g\" y=\"%g\">%.3f</text>"
                "<text x=\"%g\" y=\"%g\">step %lld</text>\n",
                4.0, T + 4, hi, 4.0, H - B, lo, W - R - 70, H - 12,
                static_cast<long long>(c.steps));
  svg += buf;
  const char* colors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  for (const tune::Trial& t : trials) {
    if (t.reports.empty()) continue;
    std::string points;
    for (const auto& [s, v] : t.reports) {
      std::snprintf(buf, sizeof(buf), "%.1f,%.1f ", X(static_cast<double>(s)), Y(v));
      points += buf;
      std::snprintf(buf, sizeof(buf), "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\" fill=\"%s\"/>",
                    X(static_cast<double>(s)), Y(v), colors[(t.id - 1) % 10]);
      svg += buf;
    }
    std::snprintf(buf, sizeof(buf),
                  "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%d\"%s points=\"%s\"/>",
                  colors[(t.id - 1) % 10], &t == best ? 3 : 1,
                  t.state == tune::TrialState::kPruned ? " stroke-dasharray=\"4 3\"" : "",
                  points.c_str());
    svg += buf;
    const auto& [s, v] = t.reports.back();
    std::snprintf(buf, sizeof(buf), "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%d</text>\n",
                  X(static_cast<double>(s)) + 3, Y(v), colors[(t.id - 1) % 10], t.id);
    svg += buf;
  }
  return svg + "</svg>\n";
}

// Writes the tuning record into the best trial's run.json and registers it.
Status RegisterBest(const GlobalOptions& g, const tune::Study& study, const tune::Trial& best,
                    const std::string& out, const std::string& name) {
  char trial[32];
  std::snprintf(trial, sizeof(trial), "trial-%04d", best.id);
  const fs::path run = fs::path(out) / "trials" / trial;
  ASSIGN_OR_RETURN(const std::string text, ReadFile(run / "run.json"));
  nlohmann::ordered_json j = nlohmann::ordered_json::parse(text, nullptr, false);
  if (!j.is_object()) return DataLossError((run / "run.json").string() + " is not JSON");
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  for (const auto& [k, v] : best.params) params[k] = v;
  j["tuning"] = {
      {"study", study.config().name},          {"study_id", study.id()}, {"trial", best.id},
      {"objective", study.config().objective}, {"value", *best.value},   {"params", params}};
  RETURN_IF_ERROR(WriteFile(run / "run.json", j.dump(2) + "\n"));
  ASSIGN_OR_RETURN(auto reg, OpenRegistry(g));
  ASSIGN_OR_RETURN(registry::Entry e, reg.Register(run.string(), name));
  std::printf("registered %s@%ld: trial %d of study %s (%s %.4f)\n", e.name.c_str(), e.version,
              best.id, study.id().c_str(), study.config().objective.c_str(), *best.value);
  return OkStatus();
}

int RunTune(GlobalOptions& g, const TuneArgs& a) {
  if (a.config.empty())
    return ReportError(InvalidArgumentError("--config STUDY.yaml is required (docs/tuning.md)"));
  auto text = ReadFile(a.config);
  if (!text.ok()) return ReportError(text.status());
  auto config = tune::ParseStudyConfig(*text, fs::path(a.config).stem().string());
  if (!config.ok())
    return ReportError(Status(config.status().code(), a.config + ": " + config.status().message()));
  // Every parameter must be a training option.
  CLI::App probe;
  (void)RegisterTrain(probe);
  for (const tune::Param& p : config->space)
    if (probe.get_option_no_throw("--" + p.name) == nullptr)
      return ReportError(InvalidArgumentError(a.config + ": space." + p.name +
                                              ": `medscribe train` has no option --" + p.name));
  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec) return ReportError(IoError("cannot create " + a.out + ": " + ec.message()));
  auto study = tune::Study::Open(StudyLocation(a), *config, !a.worker);
  if (!study.ok()) return ReportError(study.status());
  if (!a.show) {
    Tuner tuner(g, a, *config);
    tuner.Say("study " + config->name + " (" + study->id() +
              "): " + std::to_string(config->trials) + " trials, " + config->sampler + " sampler" +
              (config->asha.min_steps > 0
                   ? ", ASHA from step " + std::to_string(config->asha.min_steps) + " (1/" +
                         std::to_string(config->asha.reduction_factor) + " go on per rung)"
                   : "") +
              ", " + std::to_string(a.parallel) + " at a time");
    std::vector<std::thread> workers;
    std::vector<Status> results(static_cast<size_t>(a.parallel));
    for (int i = 0; i < a.parallel; ++i)
      workers.emplace_back([&, i] { results[static_cast<size_t>(i)] = tuner.Work(i); });
    for (std::thread& w : workers) w.join();
    for (const Status& s : results)
      if (!s.ok()) return ReportError(s);
  }
  auto trials = study->Trials();
  if (!trials.ok()) return ReportError(trials.status());
  const auto rows = TableRows(*config, *trials);
  PrintTable(rows);
  const std::string svg = (fs::path(a.out) / "trials.svg").string();
  const std::string plot = Plot(*config, *trials);
  if (Status s = WriteFile(svg, plot); !s.ok()) return ReportError(s);
  const std::string html = (fs::path(a.out) / "trials.html").string();
  if (Status s = WriteFile(html, HtmlReport(*config, rows, plot)); !s.ok()) return ReportError(s);
  std::printf("plot: %s; table and plot for a browser: %s\n", svg.c_str(), html.c_str());
  const tune::Trial* best = Best(*trials);
  if (best)
    std::printf("best: trial %d, %s %.6f, %s\n", best->id, config->objective.c_str(), *best->value,
                Describe(best->params).c_str());
  if (!a.register_name.empty()) {
    auto done = study->Done();
    if (!done.ok()) return ReportError(done.status());
    if (!*done)
      return ReportError(FailedPreconditionError("the study is not finished; register later"));
    if (!best)
      return ReportError(FailedPreconditionError("no trial completed: nothing to register"));
    if (Status s = RegisterBest(g, *study, *best, a.out, a.register_name); !s.ok())
      return ReportError(s);
  }
  return kExitOk;
}

}  // namespace

Runner RegisterTune(CLI::App& app) {
  auto a = std::make_shared<TuneArgs>();
  app.add_option("--config", a->config,
                 "Study file: search space, sampler, ASHA, trials and the fixed `medscribe train` "
                 "arguments (docs/tuning.md)")
      ->type_name("STUDY.yaml");
  app.add_option(
         "--out", a->out,
         "Study directory: study.sqlite, trials/, trials.svg, trials.html (an existing study "
         "resumes)")
      ->required()
      ->type_name("DIR");
  app.add_option("--parallel", a->parallel, "Trials run at once by this tuner")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--study", a->study,
                 "The study database: a SQLite file (default DIR/study.sqlite; tuners on this "
                 "machine share it) or a postgresql:// URL (tuners on several machines share it; "
                 "give them one shared --out so that a trial taken over resumes its checkpoint)")
      ->type_name("FILE|URL");
  app.add_flag("--worker", a->worker,
               "Join an existing study (another tuner started it) instead of creating one");
  app.add_option("--stale", a->stale_s,
                 "Seconds without a heartbeat after which another worker's running trial is "
                 "taken over (a worker on this host that died is taken over at once)")
      ->capture_default_str()
      ->check(CLI::Range(5, 86400));
  app.add_flag("--show", a->show, "Print the trials table and write the plot; run nothing");
  app.add_option("--register", a->register_name,
                 "When the study is finished, register its best trial under this name");
  return [a](GlobalOptions& g) { return RunTune(g, *a); };
}

}  // namespace medscribe::cli
