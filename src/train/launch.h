// The launch contract: where a training process learns its rank, the size of its world and the
// rendezvous address. One binary runs under every launcher a platform provides; each describes
// the job in its own environment variables:
//
//   torchrun, Kubeflow PyTorchJob, Azure ML (PyTorch), `medscribe launch`:
//       MASTER_ADDR MASTER_PORT RANK WORLD_SIZE [LOCAL_RANK LOCAL_WORLD_SIZE]
//       [TORCHELASTIC_RESTART_COUNT]
//   OpenMPI (mpirun, Azure ML MPI):
//       OMPI_COMM_WORLD_RANK OMPI_COMM_WORLD_SIZE OMPI_COMM_WORLD_LOCAL_RANK
//       OMPI_COMM_WORLD_LOCAL_SIZE; the master from MASTER_ADDR/MASTER_PORT, Azure's
//       AZ_BATCH_MASTER_NODE (host:port) or AZ_BATCHAI_MPI_MASTER_NODE, else 127.0.0.1 when
//       every rank is on this host
//   Kubeflow Trainer v2: PET_NNODES PET_NODE_RANK PET_NPROC_PER_NODE PET_MASTER_ADDR
//       PET_MASTER_PORT (one process per node when started directly)
//   SageMaker: SM_HOSTS (JSON list) and SM_CURRENT_HOST, one process per host, the first host
//       is the master
//   Vertex AI: CLUSTER_SPEC (JSON: cluster.workerpool0 is the chief, workerpool1 the workers;
//       task.type and task.index name this replica)
//
// Process-level variables (torch-style, OpenMPI) win over host-level descriptions (PET_*,
// SageMaker, Vertex AI), which a launcher on the host has already turned into process-level
// ones; when both process-level sets are present they must agree.
//
// Thread safety: pure functions.
#pragma once

#include <map>
#include <string>

#include "common/status.h"

namespace medscribe::train {

struct Topology {
  int rank = 0, world_size = 1;
  int local_rank = 0, local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  int restart_count = 0;  // TORCHELASTIC_RESTART_COUNT: restarts of the job so far
  // TORCHELASTIC_USE_AGENT_STORE=True: torchrun's agent already serves the rendezvous store at
  // the master address; every rank (rank 0 too) joins it as a client, under the key prefix
  // /worker/attempt_<restart_count>.
  bool agent_store = false;
  // Which description was used: default (no variables: one process), medscribe-launch,
  // torchrun, env (torch-style variables, e.g. PyTorchJob), azureml, openmpi,
  // kubeflow-trainer, sagemaker, vertex-ai.
  std::string source = "default";
};

using Environment = std::map<std::string, std::string>;

// The variables of this process.
Environment ProcessEnvironment();

// The topology `env` describes. InvalidArgument naming the variables when a value is malformed,
// a set is incomplete (RANK without WORLD_SIZE, ...), two descriptions disagree, the rank is out
// of range, or several ranks would need a master address that no variable gives.
StatusOr<Topology> ResolveTopology(const Environment& env);

// One JSON object: rank, world_size, local_rank, local_world_size, master_addr, master_port,
// restart_count, source.
std::string TopologyJson(const Topology& t);

}  // namespace medscribe::train
