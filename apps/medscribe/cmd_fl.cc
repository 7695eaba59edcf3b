// `medscribe fl pki|server|client|loss`: federated learning across sites
// (federated/federation.h).
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli.h"
#include "federated/federation.h"
#include "gateway/local_pki.h"
#include "ingest/manifest.h"
#include "model/config.h"
#include "sentencepiece_encoder.h"
#include "train/trainer.h"

namespace medscribe::cli {
namespace {
namespace fs = std::filesystem;

StatusOr<std::unique_ptr<SentencePieceEncoder>> LoadEncoder(const std::string& dir) {
  ASSIGN_OR_RETURN(tokenizer::Tokenizer t,
                   tokenizer::Tokenizer::Load((fs::path(dir) / "tokenizer.model").string()));
  return std::make_unique<SentencePieceEncoder>(std::move(t));
}

struct FlArgs {
  std::string out, pki, tokenizer, config = "tiny", listen = "127.0.0.1:0", port_file;
  std::vector<std::string> sites;
  int rounds = 5, min_sites = 2;
  double round_timeout = 600, fedprox_mu = 0;
  uint64_t seed = 0;
  // client
  std::string server, site, dataset, work;
  int64_t local_steps = 50, batch_size = 8, warmup = 5;
  double lr = 1e-3, dp_clip = 0, dp_noise = 0;
  int jobs = 0;
  bool no_dictation = false, no_image = false;
  // loss
  std::string model;
  std::vector<std::string> datasets;
  std::string split = "test";
};

int RunPki(const FlArgs& a) {
  const std::vector<std::string>& sites = a.sites;
  if (sites.empty()) return ReportError(InvalidArgumentError("--sites names the sites: a,b,c"));
  auto pki = gateway::EnsureLocalPki(a.out);
  if (!pki.ok()) return ReportError(pki.status());
  std::printf("federation CA %s; server certificate %s\n", pki->ca_cert.c_str(),
              pki->server_cert.c_str());
  for (const std::string& s : sites) {
    auto c = gateway::EnsureClientCertificate(a.out, s);
    if (!c.ok()) return ReportError(c.status());
    std::printf("site %s: %s, %s\n", s.c_str(), c->first.c_str(), c->second.c_str());
  }
  std::printf("give each site ca.pem and its own .pem and .key; keep ca.key offline\n");
  return kExitOk;
}

int RunServer(const FlArgs& a) {
  federated::ServerOptions o;
  o.sites = a.sites;
  const size_t colon = a.listen.rfind(':');
  if (colon == std::string::npos)
    return ReportError(InvalidArgumentError("--listen HOST:PORT, e.g. 0.0.0.0:8443"));
  o.host = a.listen.substr(0, colon);
  o.port = std::atoi(a.listen.c_str() + colon + 1);
  o.port_file = a.port_file;
  o.tls = {(fs::path(a.pki) / "ca.pem").string(), (fs::path(a.pki) / "server.pem").string(),
           (fs::path(a.pki) / "server.key").string()};
  o.min_sites = a.min_sites;
  o.rounds = a.rounds;
  o.round_timeout_s = a.round_timeout;
  o.seed = a.seed;
  o.out_dir = a.out;
  o.fedprox_mu = a.fedprox_mu;
  auto enc = LoadEncoder(a.tokenizer);
  if (!enc.ok()) return ReportError(enc.status());
  o.tokenizer_model = (fs::path(a.tokenizer) / "tokenizer.model").string();
  auto config = model::LoadConfig(a.config);
  if (!config.ok()) return ReportError(config.status());
  o.config = *config;
  o.config.decoder.vocab_size = (*enc)->vocab_size();
  if (Status s = model::Validate(o.config); !s.ok()) return ReportError(s);
  if (o.config.findings.enabled && o.config.findings.read_as_text)
    return ReportError(InvalidArgumentError(
        "a configuration that reads its findings as text needs an image warm-up on each site; "
        "federate a configuration without it (e.g. tiny)"));
  auto r = federated::RunServer(o);
  if (!r.ok()) return ReportError(r.status());
  std::printf("round  sites  survivors  dropped  val_loss  MiB_in  MiB_out  seconds\n");
  for (const federated::RoundRecord& rec : r->rounds)
    std::printf("%5d  %5zu  %9zu  %7zu  %8.4f  %6.1f  %7.1f  %7.1f\n", rec.round,
                rec.participants.size(), rec.survivors.size(), rec.dropped.size(), rec.val_loss,
                rec.bytes_in / 1048576.0, rec.bytes_out / 1048576.0, rec.seconds);
  std::printf("global model: %s (register it: medscribe registry register --run %s --name NAME)\n",
              r->model_dir.c_str(), a.out.c_str());
  return kExitOk;
}

int RunClient(const FlArgs& a) {
  federated::ClientOptions o;
  o.server = a.server;
  o.tls = {(fs::path(a.pki) / "ca.pem").string(), (fs::path(a.pki) / (a.site + ".pem")).string(),
           (fs::path(a.pki) / (a.site + ".key")).string()};
  o.dataset_dir = a.dataset;
  auto id = ingest::DatasetId(a.dataset);
  if (!id.ok()) return ReportError(id.status());
  o.dataset_id = *id;
  o.work_dir = a.work.empty() ? (fs::path("fl-" + a.site)).string() : a.work;
  o.dp_clip = a.dp_clip;
  o.dp_noise = a.dp_noise;
  train::TrainOptions& t = o.local;
  t.max_steps = a.local_steps;
  t.checkpoint_every = a.local_steps;
  t.eval_every = a.local_steps;
  t.batch_size = a.batch_size;
  t.learning_rate = a.lr;
  t.warmup_steps = a.warmup;
  t.threads = a.jobs;
  t.seed = a.seed;
  t.progress = false;
  t.prompt.image = !a.no_image;
  t.prompt.dictation = !a.no_dictation;
  auto enc = LoadEncoder(a.tokenizer);
  if (!enc.ok()) return ReportError(enc.status());
  auto r = federated::RunClient(o, **enc);
  if (!r.ok()) return ReportError(r.status());
  std::printf("site %s: delivered updates to %d round(s); the federation is done\n", a.site.c_str(),
              r->rounds);
  return kExitOk;
}

int RunLoss(const FlArgs& a) {
  auto enc = LoadEncoder(a.model);
  if (!enc.ok()) return ReportError(enc.status());
  model::PromptOptions prompt;
  prompt.image = !a.no_image;
  prompt.dictation = !a.no_dictation;
  auto r = train::EvaluateLoss(a.model, a.datasets, a.split, **enc, prompt);
  if (!r.ok()) return ReportError(r.status());
  std::printf("loss=%.6f tokens=%lld split=%s datasets=%zu\n", r->loss,
              static_cast<long long>(r->tokens), a.split.c_str(), a.datasets.size());
  return kExitOk;
}

}  // namespace

Runner RegisterFl(CLI::App& app) {
  auto a = std::make_shared<FlArgs>();
  app.require_subcommand(1);
  CLI::App* pki = app.add_subcommand(
      "pki",
      "Create the federation's CA, the server's certificate and one client certificate "
      "per site (mutual TLS)");
  pki->add_option("--out", a->out, "Directory of the certificates and keys")->required();
  pki->add_option("--sites", a->sites, "The sites' names, comma-separated")
      ->delimiter(',')
      ->required();

  CLI::App* server = app.add_subcommand(
      "server",
      "Coordinate rounds of federated averaging with secure aggregation; write the "
      "global model as a run directory");
  server->add_option("--sites", a->sites, "The sites allowed to join (their certificates' names)")
      ->delimiter(',')
      ->required();
  server->add_option("--pki", a->pki, "Directory with ca.pem, server.pem, server.key")->required();
  server->add_option("--tokenizer", a->tokenizer, "The tokenizer every site uses")->required();
  server->add_option("--out", a->out, "Run directory of the global model")->required();
  server->add_option("--config", a->config, "Model preset or JSON file")->capture_default_str();
  server->add_option("--rounds", a->rounds, "Rounds of federated averaging")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  server
      ->add_option("--min-sites", a->min_sites,
                   "Updates a round needs (at least 2: one update is never revealed alone)")
      ->capture_default_str();
  server
      ->add_option("--round-timeout", a->round_timeout,
                   "Seconds a round waits for the missing sites before going on without "
                   "them: for keys from its start, for updates from the first update's arrival "
                   "(the first is awaited up to 5 times as long), for seeds from the unmask "
                   "phase's start")
      ->capture_default_str();
  server
      ->add_option("--fedprox-mu", a->fedprox_mu,
                   "FedProx: the sites' proximal weight mu (0: FedAvg)")
      ->capture_default_str();
  server->add_option("--listen", a->listen, "HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  server->add_option("--port-file", a->port_file, "Write the bound port here");
  server->add_option("--seed", a->seed, "Seed of the global model's initialization")
      ->capture_default_str();

  CLI::App* client = app.add_subcommand(
      "client", "Take part in a federation with this site's dataset (it never leaves the site)");
  client->add_option("--server", a->server, "https://HOST:PORT of the federation server")
      ->required();
  client->add_option("--site", a->site, "This site's name (its certificate in --pki)")->required();
  client->add_option("--pki", a->pki, "Directory with ca.pem and SITE.pem, SITE.key")->required();
  client->add_option("--dataset", a->dataset, "This site's dataset version")->required();
  client->add_option("--tokenizer", a->tokenizer, "The federation's tokenizer")->required();
  client->add_option("--work", a->work, "Working directory (default ./fl-SITE)");
  client->add_option("--local-steps", a->local_steps, "Local training steps per round")
      ->capture_default_str();
  client->add_option("--batch-size", a->batch_size, "Local batch size")->capture_default_str();
  client->add_option("--lr", a->lr, "Local learning rate")->capture_default_str();
  client->add_option("--warmup", a->warmup, "Local warmup steps")->capture_default_str();
  client->add_option("--jobs", a->jobs, "CPU threads (0: all cores)")->capture_default_str();
  client->add_option("--seed", a->seed, "Seed of the local sample order")->capture_default_str();
  client
      ->add_option("--dp-clip", a->dp_clip,
                   "Client-side DP: clip each round's update to this L2 norm (0: off)")
      ->capture_default_str();
  client
      ->add_option("--dp-noise", a->dp_noise,
                   "Client-side DP: Gaussian noise of this multiple of --dp-clip on the update")
      ->capture_default_str();
  client->add_flag("--no-dictation", a->no_dictation, "Train without the dictation transcript");
  client->add_flag("--no-image", a->no_image, "Train without the image");

  CLI::App* loss = app.add_subcommand(
      "loss",
      "The mean token loss of a model on a split of one or more datasets together "
      "(e.g. the union of the sites' test splits)");
  loss->add_option("--model", a->model,
                   "Model directory (config.json, model.safetensors, "
                   "tokenizer.model)")
      ->required();
  loss->add_option("--dataset", a->datasets, "Dataset directory (repeat for several)")->required();
  loss->add_option("--split", a->split, "Split")->capture_default_str();
  loss->add_flag("--no-dictation", a->no_dictation, "Prompts without the dictation transcript");
  loss->add_flag("--no-image", a->no_image, "Prompts without the image");

  return [a, pki, server, client](GlobalOptions&) {
    if (pki->parsed()) return RunPki(*a);
    if (server->parsed()) return RunServer(*a);
    if (client->parsed()) return RunClient(*a);
    return RunLoss(*a);
  };
}

}  // namespace medscribe::cli
