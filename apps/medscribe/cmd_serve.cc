// `medscribe serve`: one model behind the model server's HTTP API (src/serve/model_server.h).
// SIGTERM or SIGINT: readiness turns 503 at once, requests in flight finish, then the process
// exits 0.
#include <sys/prctl.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>

#include <chrono>
#include <filesystem>
#include <thread>

#include "common/signals.h"
#include "model/json.h"
#include "model/prompt.h"
#include "registry/registry.h"
#include "registry_access.h"
#include "report_engine.h"
#include "serve/http_server.h"
#include "serve/model_server.h"

namespace medscribe::cli {
namespace {

struct ServeArgs {
  std::string model, listen = "127.0.0.1:8000", port_file, format = "f32", draft_model;
  std::string tls_cert, tls_key, tls_client_ca, health_listen;
  int threads = 0, io_threads = 2, max_tokens = 1024;
  double drain_grace = 0;
  size_t max_body_mb = 32;
  long exit_with_parent = 0;  // a supervising gateway's pid
};

// `value` of `flag` as HOST and PORT (0..65535; 0: any free port). InvalidArgument naming the
// flag otherwise.
StatusOr<std::pair<std::string, uint16_t>> ParseListen(const std::string& flag,
                                                       const std::string& value) {
  const size_t colon = value.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgumentError(flag + " must be HOST:PORT, e.g. 127.0.0.1:8000");
  int port = -1;
  try {
    size_t used = 0;
    port = std::stoi(value.substr(colon + 1), &used);
    if (used != value.size() - colon - 1) port = -1;
  } catch (...) {
  }
  if (port < 0 || port > 65535)
    return InvalidArgumentError(flag + " port must be 0..65535 (0: any free port)");
  return std::pair{value.substr(0, colon), static_cast<uint16_t>(port)};
}

int RunServe(GlobalOptions& g, const ServeArgs& a) {
  if (a.exit_with_parent > 0) {
    // A replica started by a gateway ends with it, even when the gateway is killed with -9.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != static_cast<pid_t>(a.exit_with_parent)) return kExitFailed;
  }
  auto listen = ParseListen("--listen", a.listen);
  if (!listen.ok()) return ReportError(listen.status());
  const auto& [host, port] = *listen;
  auto probes = ParseListen("--health-listen", a.health_listen.empty() ? ":0" : a.health_listen);
  if (!probes.ok()) return ReportError(probes.status());
  auto format = engine::ParseWeightFormat(a.format);
  if (!format.ok()) return ReportError(format.status());
  // The model, verified, and how clients name it.
  std::string dir, version = a.model;
  if (auto reg = OpenRegistry(g); reg.ok()) {
    if (auto e = reg->Resolve(a.model); e.ok()) {
      dir = e->dir;
      version = e->name + "@" + std::to_string(e->version);
    } else if (!std::filesystem::exists(std::filesystem::path(a.model) / "config.json")) {
      return ReportError(e.status());
    }
  }
  if (dir.empty()) {
    auto d = ResolveModelDir(g, a.model);
    if (!d.ok()) return ReportError(d.status());
    dir = *d;
  }
  engine::EngineOptions o;
  o.format = *format;
  o.threads = a.threads;
  if (!a.draft_model.empty()) {
    auto d = ResolveModelDir(g, a.draft_model);
    if (!d.ok()) return ReportError(d.status());
    o.draft_model_dir = *d;
  }
  auto loaded = LoadReportEngine(dir, o);
  if (!loaded.ok()) return ReportError(loaded.status());
  std::shared_ptr<TokenizerText> text = loaded->text;
  serve::ModelServerOptions so;
  so.model_id = a.model.substr(0, a.model.find('@'));
  so.model_version = version;
  so.max_tokens = a.max_tokens;
  so.bos_id = tokenizer::kBosId;
  so.image_limits.dicom_size = loaded->engine->config().vision.image_size;
  so.image_limits.mm_per_pixel = loaded->engine->config().vision.mm_per_pixel;
  serve::ModelServer server(
      std::move(loaded->engine), [text](std::string_view s) { return text->tokenizer().Encode(s); },
      so);
  server.SetPromptBuilder([](std::string_view sample, size_t max_note,
                             std::string_view image_read) -> StatusOr<std::string> {
    ASSIGN_OR_RETURN(model::json::Value v, model::json::Parse(sample));
    model::PromptOptions po;
    po.max_note_chars = max_note;
    po.image_read = std::string(image_read);
    ASSIGN_OR_RETURN(model::Prompt p, model::BuildPrompt(v, po));
    return p.text;
  });

  // Signals, whichever thread the kernel hands them to, come to this one, which drains and stops.
  auto signals = SignalWaiter::Create({SIGTERM, SIGINT});
  if (!signals.ok()) return ReportError(signals.status());

  serve::HttpLimits limits;
  limits.max_body_bytes = a.max_body_mb << 20;
  serve::HttpServer http(
      [&server](serve::HttpRequest r, std::shared_ptr<serve::Responder> res) {
        server.Handle(std::move(r), std::move(res));
      },
      limits);
  if (!a.tls_cert.empty() || !a.tls_key.empty()) {
    if (a.tls_cert.empty() || a.tls_key.empty())
      return ReportError(InvalidArgumentError("--tls-cert and --tls-key go together"));
    if (Status s = http.EnableTls({a.tls_cert, a.tls_key, a.tls_client_ca}); !s.ok())
      return ReportError(s);
  } else if (!a.tls_client_ca.empty()) {
    return ReportError(InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key"));
  }
  if (Status s = http.Start(host, static_cast<uint16_t>(port), a.io_threads); !s.ok())
    return ReportError(s);
  // Probes and metrics on a plain port of their own, so that the main port can require the
  // gateway's client certificate (kubelet and Prometheus present none). Nothing else is served
  // there: no PHI passes through it.
  std::unique_ptr<serve::HttpServer> health;
  if (!a.health_listen.empty()) {
    health = std::make_unique<serve::HttpServer>(
        [&server](serve::HttpRequest r, std::shared_ptr<serve::Responder> res) {
          if (r.method == "GET" &&
              (r.path == "/healthz" || r.path == "/readyz" || r.path == "/metrics"))
            return server.Handle(std::move(r), std::move(res));
          res->Send(
              404, "application/json",
              R"({"error":{"message":"this port serves /healthz, /readyz and /metrics only","code":404}})");
        },
        serve::HttpLimits{.max_header_bytes = 8 << 10, .max_body_bytes = 4096});
    if (Status s = health->Start(probes->first, probes->second, 1); !s.ok()) return ReportError(s);
    std::fprintf(stderr, "probes and metrics on http://%s:%u\n", probes->first.c_str(),
                 static_cast<unsigned>(health->port()));
  }
  const std::string url = std::string(a.tls_cert.empty() ? "http" : "https") + "://" + host + ":" +
                          std::to_string(http.port());
  if (!a.port_file.empty()) {
    std::ofstream(a.port_file + ".tmp") << http.port() << "\n";
    std::filesystem::rename(a.port_file + ".tmp", a.port_file);
  }
  std::fprintf(stderr, "serving %s on %s (OpenAI-compatible: %s/v1/chat/completions)\n",
               version.c_str(), url.c_str(), url.c_str());
  const int sig = (*signals)->Wait();
  std::fprintf(stderr, "signal %d: draining (%d requests in flight)\n", sig, server.in_flight());
  // Load balancers see 503 for at least the grace period; requests in flight finish.
  const auto grace_end = std::chrono::steady_clock::now() +
                         std::chrono::milliseconds(static_cast<int64_t>(a.drain_grace * 1000));
  server.Drain();
  std::this_thread::sleep_until(grace_end);
  server.Drain();
  http.Stop();
  http.Wait();
  if (health) {
    health->Stop();
    health->Wait();
  }
  std::fprintf(stderr, "stopped\n");
  return kExitOk;
}

}  // namespace

Runner RegisterServe(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  app.add_option("--model", a->model, "Registry NAME[@VERSION|@ALIAS] or a model directory")
      ->required();
  app.add_option("--listen", a->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--port-file", a->port_file, "Write the port actually bound to this file");
  app.add_option("--format", a->format, "Pack a float model's weights as f32, bf16, int8 or int4")
      ->capture_default_str();
  app.add_option("--draft-model", a->draft_model, "A draft model for speculative decoding");
  app.add_option("--threads", a->threads, "Engine threads (0: all cores)")->capture_default_str();
  app.add_option("--io-threads", a->io_threads, "HTTP threads")->capture_default_str();
  app.add_option("--max-tokens", a->max_tokens, "Largest max_tokens a request may ask for")
      ->capture_default_str();
  app.add_option("--max-body-mb", a->max_body_mb, "Largest request body in MiB (413 beyond)")
      ->capture_default_str();
  app.add_option("--tls-cert", a->tls_cert, "Serve HTTPS with this PEM certificate chain");
  app.add_option("--tls-key", a->tls_key, "The certificate's PEM private key");
  app.add_option("--tls-client-ca", a->tls_client_ca,
                 "Require client certificates signed by this CA (mutual TLS)");
  app.add_option("--health-listen", a->health_listen,
                 "Also serve /healthz, /readyz and /metrics (only) over plain HTTP on HOST:PORT, "
                 "for probes and scrapers that hold no client certificate");
  app.add_option("--exit-with-parent", a->exit_with_parent,
                 "Stop (SIGTERM) when the process with this pid, the parent, ends (set by a "
                 "gateway for its local replicas)")
      ->group("");
  app.add_option("--drain-grace", a->drain_grace,
                 "On SIGTERM, keep answering (readiness 503) at least this many seconds")
      ->capture_default_str();
  return [a](GlobalOptions& g) { return RunServe(g, *a); };
}

}  // namespace medscribe::cli
