// Federated learning across hospitals (`medscribe fl server|client`): rounds of FedAvg (or
// FedProx) between a coordinating server and sites that keep their data. Each round:
//
//   keys    every site downloads the global model, reports its validation loss on its own
//           validation split, and publishes a fresh X25519 public key (secure_aggregation.h);
//   train   the sites that published (the round's participants) train locally from the global
//           model, weight their change by their number of training examples, encode it in
//           fixed point, mask it against every other participant, and upload it;
//   unmask  only when a participant sent nothing within `round_timeout_s` of the round's first
//           update: the survivors reveal their pair seeds with the dropped sites, and the
//           server removes those masks;
//   then    the server adds the updates (it only ever sees their sum), divides by the sum of
//           the weights, applies the mean change to the global model and writes it.
//
// A round needs at least `min_sites` updates; with fewer it is repeated as a new attempt (every
// request names the attempt it belongs to, so a late update is refused with 409 instead of
// being added with another attempt's masks, and its site waits for the next). All traffic is HTTPS
// with mutual TLS (transport.h); a site is known by its certificate's common name, and may join
// only when the server lists it. The model the server writes at the end is a run directory
// (model/config.json, model/model.safetensors, model/tokenizer.model, run.json with a lineage
// that names each site and its dataset id, never its data, and each round; metrics.jsonl with
// the global model's validation loss per round) for `medscribe registry register`.
//
// Thread safety: each object runs on the thread that calls it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "federated/transport.h"
#include "model/config.h"
#include "train/data.h"
#include "train/trainer.h"

namespace medscribe::federated {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;  // written with the bound port once listening (for port 0)
  TlsFiles tls;
  std::vector<std::string> sites;  // the common names allowed to join
  int min_sites = 2;               // updates a round needs (2: secure aggregation hides one)
  int rounds = 5;
  // How long the keys phase waits for more than `min_sites` keys, the train phase for the
  // others after the first update (the first update is awaited up to 5 times as long: training
  // time depends on the sites' hardware; past that the round is repeated, so that restarted
  // sites can join), and the unmask phase for the seeds.
  double round_timeout_s = 600;
  model::ModelConfig config;    // decoder.vocab_size set to the tokenizer's
  uint64_t seed = 0;            // of the global model's initialization
  std::string tokenizer_model;  // copied into the final model
  std::string out_dir;
  double fedprox_mu = 0;   // announced to the sites
  double scale = 1 << 16;  // fixed-point scale of the updates
  bool progress = true;
};

struct RoundRecord {
  int round = 0;
  std::vector<std::string> participants, survivors, dropped;
  double val_loss = 0;  // the global model at the round's start, over the sites' validation
  int64_t val_tokens = 0;
  int64_t bytes_in = 0, bytes_out = 0;  // request and response bodies of the round
  double seconds = 0;
};

struct ServerResult {
  std::vector<RoundRecord> rounds;
  std::string model_dir;
};

// Serves the federation until `rounds` rounds have an aggregate, then writes the run directory.
StatusOr<ServerResult> RunServer(const ServerOptions& o);

struct ClientOptions {
  std::string server;  // https://HOST:PORT
  TlsFiles tls;
  std::string dataset_dir, dataset_id, work_dir;
  train::TrainOptions local;  // local training of each round: steps, batch, learning rate, ...
  double dp_clip = 0, dp_noise = 0;  // client-side DP on the update: clip its L2 norm, add noise
  double poll_s = 0.2;
  bool progress = true;
};

struct ClientResult {
  int rounds = 0;  // rounds this site delivered an update to
};

// Takes part until the server says the federation is done. Unavailable when the server stays
// unreachable for 60 s.
StatusOr<ClientResult> RunClient(const ClientOptions& o, const train::TextEncoder& encoder);

}  // namespace medscribe::federated
