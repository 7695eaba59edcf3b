// The gateway's embedded certificate authority: on first start it creates, under one directory,
// a local CA (ca.pem, ca.key), a server certificate for the gateway (server.pem, server.key; names
// localhost, 127.0.0.1 and ::1 plus any given) and a client certificate for mutual TLS to model
// replicas (client.pem, client.key). Keys are EC P-256, written 0600; certificates are valid for
// 825 days (the CA for ten years). Existing files are kept, so restarts reuse them and clients
// that trust ca.pem keep working.
//
// Thread safety: not for concurrent use on the same directory.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace medscribe::gateway {

struct LocalPki {
  std::filesystem::path ca_cert, ca_key, server_cert, server_key, client_cert, client_key;
  bool created = false;  // whether this call created the CA
};

// Ensures the files exist in `dir` (created 0700 when absent). IoError naming the file on failure.
StatusOr<LocalPki> EnsureLocalPki(const std::filesystem::path& dir,
                                  const std::vector<std::string>& extra_names = {});

// A client certificate named `cn` (e.g. a site of a federation, federated/federation.h), issued
// by the CA in `dir` (EnsureLocalPki first): DIR/<cn>.pem and DIR/<cn>.key (0600), kept when they
// exist. Returns (certificate, key). InvalidArgument for a name other than letters, digits, '.',
// '-' and '_'.
StatusOr<std::pair<std::filesystem::path, std::filesystem::path>> EnsureClientCertificate(
    const std::filesystem::path& dir, const std::string& cn);

}  // namespace medscribe::gateway
