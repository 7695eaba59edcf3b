#include "train/launch.h"

#include <cerrno>
#include <cstdlib>
#include <optional>

#include "model/json.h"

extern char** environ;

namespace medscribe::train {
namespace json = model::json;
namespace {

const std::string* Get(const Environment& env, const std::string& name) {
  const auto it = env.find(name);
  return it == env.end() || it->second.empty() ? nullptr : &it->second;
}

StatusOr<int> ParseInt(const std::string& name, const std::string& v, int lo, int hi) {
  char* end = nullptr;
  errno = 0;
  const long x = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || errno || x < lo || x > hi) {
    return InvalidArgumentError(name + "='" + v + "' is not an integer in [" + std::to_string(lo) +
                                ", " + std::to_string(hi) + "]");
  }
  return static_cast<int>(x);
}

// The integer variable `name`, or nullopt when it is unset.
StatusOr<std::optional<int>> Int(const Environment& env, const std::string& name, int lo, int hi) {
  const std::string* v = Get(env, name);
  if (!v) return std::optional<int>();
  ASSIGN_OR_RETURN(int x, ParseInt(name, *v, lo, hi));
  return std::optional<int>(x);
}

constexpr int kMaxWorld = 1 << 20;

// "host:port" (IPv6 in brackets) into the topology's master.
Status SetMaster(Topology& t, const std::string& name, const std::string& hostport) {
  const size_t colon = hostport.rfind(':');
  const size_t bracket = hostport.rfind(']');
  if (colon == std::string::npos || colon == 0 ||
      (bracket != std::string::npos && bracket > colon)) {
    t.master_addr = hostport;
    return OkStatus();
  }
  std::string host = hostport.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  t.master_addr = host;
  ASSIGN_OR_RETURN(t.master_port, ParseInt(name + " port", hostport.substr(colon + 1), 1, 65535));
  return OkStatus();
}

// MASTER_ADDR / MASTER_PORT when set (they may accompany any description).
Status MasterFromTorchVariables(const Environment& env, Topology& t, bool* found) {
  *found = false;
  if (const std::string* a = Get(env, "MASTER_ADDR")) {
    t.master_addr = *a;
    *found = true;
  }
  ASSIGN_OR_RETURN(std::optional<int> port, Int(env, "MASTER_PORT", 1, 65535));
  if (port) t.master_port = *port;
  return OkStatus();
}

Status CheckRanks(const Topology& t, const std::string& what) {
  if (t.rank >= t.world_size) {
    return InvalidArgumentError(what + ": rank " + std::to_string(t.rank) +
                                " is not below the world size " + std::to_string(t.world_size));
  }
  if (t.local_rank >= t.local_world_size) {
    return InvalidArgumentError(what + ": local rank " + std::to_string(t.local_rank) +
                                " is not below the local world size " +
                                std::to_string(t.local_world_size));
  }
  if (t.local_world_size > t.world_size) {
    return InvalidArgumentError(what + ": the local world size " +
                                std::to_string(t.local_world_size) + " exceeds the world size " +
                                std::to_string(t.world_size));
  }
  return OkStatus();
}

// RANK / WORLD_SIZE and friends, or nullopt when neither is set.
StatusOr<std::optional<Topology>> FromTorch(const Environment& env) {
  ASSIGN_OR_RETURN(std::optional<int> rank, Int(env, "RANK", 0, kMaxWorld - 1));
  ASSIGN_OR_RETURN(std::optional<int> world, Int(env, "WORLD_SIZE", 1, kMaxWorld));
  if (!rank && !world) return std::optional<Topology>();
  if (!rank || !world) {
    return InvalidArgumentError(std::string(rank ? "RANK is set but WORLD_SIZE is not"
                                                 : "WORLD_SIZE is set but RANK is not") +
                                "; a launcher sets both (or neither, for one process)");
  }
  Topology t;
  t.rank = *rank;
  t.world_size = *world;
  ASSIGN_OR_RETURN(std::optional<int> local_rank, Int(env, "LOCAL_RANK", 0, kMaxWorld - 1));
  ASSIGN_OR_RETURN(std::optional<int> local_world, Int(env, "LOCAL_WORLD_SIZE", 1, kMaxWorld));
  if (local_rank) t.local_rank = *local_rank;
  if (local_world)
    t.local_world_size = *local_world;
  else if (local_rank)
    t.local_world_size = t.world_size;  // unknown: at most the world
  ASSIGN_OR_RETURN(std::optional<int> restarts, Int(env, "TORCHELASTIC_RESTART_COUNT", 0, 1 << 30));
  if (restarts) t.restart_count = *restarts;
  if (const std::string* a = Get(env, "TORCHELASTIC_USE_AGENT_STORE")) t.agent_store = *a == "True";
  bool master = false;
  RETURN_IF_ERROR(MasterFromTorchVariables(env, t, &master));
  if (Get(env, "MEDSCRIBE_LAUNCH"))
    t.source = "medscribe-launch";
  else if (Get(env, "TORCHELASTIC_RUN_ID"))
    t.source = "torchrun";
  else if (Get(env, "AZUREML_RUN_ID") || Get(env, "AZ_BATCH_MASTER_NODE"))
    t.source = "azureml";
  else
    t.source = "env";
  if (!master && t.world_size > 1) {
    if (const std::string* az = Get(env, "AZ_BATCH_MASTER_NODE")) {
      RETURN_IF_ERROR(SetMaster(t, "AZ_BATCH_MASTER_NODE", *az));
    } else if (local_world && t.local_world_size < t.world_size) {
      // Without LOCAL_WORLD_SIZE nothing says the ranks are on several hosts: 127.0.0.1.
      return InvalidArgumentError("WORLD_SIZE=" + std::to_string(t.world_size) +
                                  " spans hosts but MASTER_ADDR is not set; set it to the host "
                                  "of rank 0");
    }
  }
  RETURN_IF_ERROR(CheckRanks(t, "RANK/WORLD_SIZE"));
  return std::optional<Topology>(t);
}

StatusOr<std::optional<Topology>> FromOpenMpi(const Environment& env) {
  ASSIGN_OR_RETURN(std::optional<int> rank, Int(env, "OMPI_COMM_WORLD_RANK", 0, kMaxWorld - 1));
  ASSIGN_OR_RETURN(std::optional<int> world, Int(env, "OMPI_COMM_WORLD_SIZE", 1, kMaxWorld));
  if (!rank && !world) return std::optional<Topology>();
  if (!rank || !world) {
    return InvalidArgumentError(
        "OMPI_COMM_WORLD_RANK and OMPI_COMM_WORLD_SIZE must both be set (start with mpirun)");
  }
  Topology t;
  t.source = Get(env, "AZ_BATCH_MASTER_NODE") || Get(env, "AZ_BATCHAI_MPI_MASTER_NODE") ? "azureml"
                                                                                        : "openmpi";
  t.rank = *rank;
  t.world_size = *world;
  ASSIGN_OR_RETURN(std::optional<int> local_rank,
                   Int(env, "OMPI_COMM_WORLD_LOCAL_RANK", 0, kMaxWorld - 1));
  ASSIGN_OR_RETURN(std::optional<int> local_world,
                   Int(env, "OMPI_COMM_WORLD_LOCAL_SIZE", 1, kMaxWorld));
  t.local_rank = local_rank.value_or(0);
  t.local_world_size = local_world.value_or(1);
  bool master = false;
  RETURN_IF_ERROR(MasterFromTorchVariables(env, t, &master));
  if (!master) {
    if (const std::string* az = Get(env, "AZ_BATCH_MASTER_NODE")) {
      RETURN_IF_ERROR(SetMaster(t, "AZ_BATCH_MASTER_NODE", *az));
    } else if (const std::string* az1 = Get(env, "AZ_BATCHAI_MPI_MASTER_NODE")) {
      t.master_addr = *az1;
    } else if (t.world_size > 1 && t.local_world_size < t.world_size) {
      return InvalidArgumentError(
          "mpirun started ranks on several hosts but MASTER_ADDR is not set; pass "
          "`-x MASTER_ADDR=<host of rank 0> -x MASTER_PORT=<port>` to mpirun");
    }
  }
  RETURN_IF_ERROR(CheckRanks(t, "OMPI_COMM_WORLD_*"));
  return std::optional<Topology>(t);
}

StatusOr<std::optional<Topology>> FromKubeflowTrainer(const Environment& env) {
  const std::string* nnodes = Get(env, "PET_NNODES");
  const std::string* node_rank = Get(env, "PET_NODE_RANK");
  if (!nnodes && !node_rank) return std::optional<Topology>();
  if (!nnodes || !node_rank)
    return InvalidArgumentError("PET_NNODES and PET_NODE_RANK must both be set");
  if (nnodes->find(':') != std::string::npos) {
    return InvalidArgumentError("PET_NNODES='" + *nnodes +
                                "' is an elastic range; start the job through torchrun, which "
                                "resolves it");
  }
  Topology t;
  t.source = "kubeflow-trainer";
  ASSIGN_OR_RETURN(t.world_size, ParseInt("PET_NNODES", *nnodes, 1, kMaxWorld));
  ASSIGN_OR_RETURN(t.rank, ParseInt("PET_NODE_RANK", *node_rank, 0, kMaxWorld - 1));
  if (const std::string* nproc = Get(env, "PET_NPROC_PER_NODE"); nproc && *nproc != "1") {
    return InvalidArgumentError(
        "PET_NPROC_PER_NODE=" + *nproc +
        " asks for several processes per node; start them with `medscribe launch` (which reads "
        "PET_*) or torchrun");
  }
  if (const std::string* a = Get(env, "PET_MASTER_ADDR"))
    t.master_addr = *a;
  else if (t.world_size > 1)
    return InvalidArgumentError("PET_NNODES > 1 but PET_MASTER_ADDR is not set");
  ASSIGN_OR_RETURN(std::optional<int> port, Int(env, "PET_MASTER_PORT", 1, 65535));
  if (port) t.master_port = *port;
  RETURN_IF_ERROR(CheckRanks(t, "PET_*"));
  return std::optional<Topology>(t);
}

StatusOr<std::optional<Topology>> FromSageMaker(const Environment& env) {
  const std::string* hosts = Get(env, "SM_HOSTS");
  const std::string* current = Get(env, "SM_CURRENT_HOST");
  if (!hosts && !current) return std::optional<Topology>();
  if (!hosts || !current)
    return InvalidArgumentError("SM_HOSTS and SM_CURRENT_HOST must both be set");
  auto list = json::Parse(*hosts);
  if (!list.ok() || !list->is_array() || list->as_array().empty()) {
    return InvalidArgumentError("SM_HOSTS='" + *hosts +
                                "' is not a JSON list of host names, e.g. [\"algo-1\",\"algo-2\"]");
  }
  Topology t;
  t.source = "sagemaker";
  t.world_size = static_cast<int>(list->as_array().size());
  t.rank = -1;
  for (size_t i = 0; i < list->as_array().size(); ++i) {
    const json::Value& h = list->as_array()[i];
    if (!h.is_string()) return InvalidArgumentError("SM_HOSTS holds a value that is not a name");
    if (h.as_string() == *current) t.rank = static_cast<int>(i);
  }
  if (t.rank < 0) {
    return InvalidArgumentError("SM_CURRENT_HOST='" + *current + "' is not in SM_HOSTS=" + *hosts);
  }
  t.master_addr = list->as_array()[0].as_string();
  ASSIGN_OR_RETURN(std::optional<int> port, Int(env, "MASTER_PORT", 1, 65535));
  if (port) t.master_port = *port;
  return std::optional<Topology>(t);
}

StatusOr<std::optional<Topology>> FromVertex(const Environment& env) {
  const std::string* spec = Get(env, "CLUSTER_SPEC");
  if (!spec) return std::optional<Topology>();
  const Status bad = InvalidArgumentError(
      "CLUSTER_SPEC is not Vertex AI's cluster description "
      "({\"cluster\":{\"workerpool0\":[\"host:port\"],...},\"task\":{\"type\":...,\"index\":...}}"
      ")");
  auto j = json::Parse(*spec);
  if (!j.ok() || !j->is_object()) return bad;
  const json::Value* cluster = j->Find("cluster");
  const json::Value* task = j->Find("task");
  if (!cluster || !cluster->is_object() || !task || !task->is_object()) return bad;
  auto type = json::GetString(*task, "type");
  auto index = json::GetInt(*task, "index");
  if (!type.ok() || !index.ok() || *index < 0) return bad;
  auto pool = [&](const char* name) -> StatusOr<std::vector<std::string>> {
    std::vector<std::string> out;
    const json::Value* p = cluster->Find(name);
    if (!p) return out;
    if (!p->is_array()) return bad;
    for (const json::Value& h : p->as_array()) {
      if (!h.is_string()) return bad;
      out.push_back(h.as_string());
    }
    return out;
  };
  ASSIGN_OR_RETURN(std::vector<std::string> chief, pool("workerpool0"));
  ASSIGN_OR_RETURN(std::vector<std::string> workers, pool("workerpool1"));
  if (chief.size() != 1) {
    return InvalidArgumentError("CLUSTER_SPEC: workerpool0 (the chief) must hold one replica");
  }
  Topology t;
  t.source = "vertex-ai";
  t.world_size = static_cast<int>(1 + workers.size());
  if (*type == "workerpool0") {
    t.rank = static_cast<int>(*index);
  } else if (*type == "workerpool1") {
    t.rank = static_cast<int>(1 + *index);
  } else {
    return InvalidArgumentError("CLUSTER_SPEC: this replica is in " + *type +
                                " (reduction servers, evaluators), not a training worker pool");
  }
  RETURN_IF_ERROR(SetMaster(t, "CLUSTER_SPEC workerpool0", chief[0]));
  ASSIGN_OR_RETURN(std::optional<int> port, Int(env, "MASTER_PORT", 1, 65535));
  if (port) t.master_port = *port;
  RETURN_IF_ERROR(CheckRanks(t, "CLUSTER_SPEC"));
  return std::optional<Topology>(t);
}

}  // namespace

Environment ProcessEnvironment() {
  Environment env;
  for (char** e = environ; e && *e; ++e) {
    const std::string kv = *e;
    const size_t eq = kv.find('=');
    if (eq != std::string::npos) env.emplace(kv.substr(0, eq), kv.substr(eq + 1));
  }
  return env;
}

StatusOr<Topology> ResolveTopology(const Environment& env) {
  ASSIGN_OR_RETURN(std::optional<Topology> torch, FromTorch(env));
  ASSIGN_OR_RETURN(std::optional<Topology> mpi, FromOpenMpi(env));
  if (torch && mpi) {
    if (torch->rank != mpi->rank || torch->world_size != mpi->world_size) {
      return InvalidArgumentError(
          "RANK=" + std::to_string(torch->rank) +
          " WORLD_SIZE=" + std::to_string(torch->world_size) +
          " disagree with OpenMPI's OMPI_COMM_WORLD_RANK=" + std::to_string(mpi->rank) +
          " OMPI_COMM_WORLD_SIZE=" + std::to_string(mpi->world_size) +
          "; unset one of the two sets");
    }
    return *torch;
  }
  if (torch) return *torch;
  if (mpi) return *mpi;
  // Host-level descriptions: one process per host.
  ASSIGN_OR_RETURN(std::optional<Topology> pet, FromKubeflowTrainer(env));
  if (pet) return *pet;
  ASSIGN_OR_RETURN(std::optional<Topology> sm, FromSageMaker(env));
  if (sm) return *sm;
  ASSIGN_OR_RETURN(std::optional<Topology> vertex, FromVertex(env));
  if (vertex) return *vertex;
  Topology t;  // one process
  bool master = false;
  RETURN_IF_ERROR(MasterFromTorchVariables(env, t, &master));
  return t;
}

std::string TopologyJson(const Topology& t) {
  return json::Dump(json::Value(json::Object{{"rank", json::Value(t.rank)},
                                             {"world_size", json::Value(t.world_size)},
                                             {"local_rank", json::Value(t.local_rank)},
                                             {"local_world_size", json::Value(t.local_world_size)},
                                             {"master_addr", json::Value(t.master_addr)},
                                             {"master_port", json::Value(t.master_port)},
                                             {"restart_count", json::Value(t.restart_count)},
                                             {"source", json::Value(t.source)}}));
}

}  // namespace medscribe::train
