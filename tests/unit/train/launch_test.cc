#include "train/launch.h"

#include <gtest/gtest.h>

namespace medscribe::train {
namespace {

Topology Resolve(const Environment& env) {
  auto t = ResolveTopology(env);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : Topology{};
}

std::string Error(const Environment& env) {
  auto t = ResolveTopology(env);
  EXPECT_FALSE(t.ok()) << "accepted: " << (t.ok() ? TopologyJson(*t) : "");
  return t.ok() ? "" : t.status().message();
}

TEST(Launch, NoVariablesIsOneProcess) {
  const Topology t = Resolve({{"HOME", "/root"}});
  EXPECT_EQ(t.rank, 0);
  EXPECT_EQ(t.world_size, 1);
  EXPECT_EQ(t.source, "default");
}

TEST(Launch, Torchrun) {
  const Topology t = Resolve({{"RANK", "5"},
                              {"WORLD_SIZE", "8"},
                              {"LOCAL_RANK", "1"},
                              {"LOCAL_WORLD_SIZE", "4"},
                              {"MASTER_ADDR", "10.0.0.2"},
                              {"MASTER_PORT", "29400"},
                              {"TORCHELASTIC_RUN_ID", "job"},
                              {"TORCHELASTIC_RESTART_COUNT", "2"}});
  EXPECT_EQ(t.rank, 5);
  EXPECT_EQ(t.world_size, 8);
  EXPECT_EQ(t.local_rank, 1);
  EXPECT_EQ(t.local_world_size, 4);
  EXPECT_EQ(t.master_addr, "10.0.0.2");
  EXPECT_EQ(t.master_port, 29400);
  EXPECT_EQ(t.restart_count, 2);
  EXPECT_EQ(t.source, "torchrun");
  EXPECT_EQ(TopologyJson(t),
            R"({"local_rank":1,"local_world_size":4,"master_addr":"10.0.0.2","master_port":29400,)"
            R"("rank":5,"restart_count":2,"source":"torchrun","world_size":8})");
}

TEST(Launch, RanksWithoutMasterOrLocalVariablesAreOnThisHost) {
  // E.g. `medscribe ingest` workers, which meet through files, not a rendezvous.
  const Topology t = Resolve({{"RANK", "1"}, {"WORLD_SIZE", "2"}});
  EXPECT_EQ(t.master_addr, "127.0.0.1");
}

TEST(Launch, PyTorchJobWithoutLocalVariables) {
  const Topology t = Resolve({{"RANK", "1"},
                              {"WORLD_SIZE", "2"},
                              {"MASTER_ADDR", "job-master-0"},
                              {"MASTER_PORT", "23456"}});
  EXPECT_EQ(t.rank, 1);
  EXPECT_EQ(t.local_rank, 0);
  EXPECT_EQ(t.local_world_size, 1);
  EXPECT_EQ(t.source, "env");
}

TEST(Launch, OpenMpiOnOneHostNeedsNoMaster) {
  const Topology t = Resolve({{"OMPI_COMM_WORLD_RANK", "1"},
                              {"OMPI_COMM_WORLD_SIZE", "2"},
                              {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                              {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}});
  EXPECT_EQ(t.rank, 1);
  EXPECT_EQ(t.world_size, 2);
  EXPECT_EQ(t.local_rank, 1);
  EXPECT_EQ(t.master_addr, "127.0.0.1");
  EXPECT_EQ(t.source, "openmpi");
}

TEST(Launch, OpenMpiAcrossHostsNeedsMaster) {
  EXPECT_NE(Error({{"OMPI_COMM_WORLD_RANK", "3"},
                   {"OMPI_COMM_WORLD_SIZE", "4"},
                   {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                   {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}})
                .find("-x MASTER_ADDR"),
            std::string::npos);
}

TEST(Launch, AzureMlMpiMasterNode) {
  const Topology t = Resolve({{"OMPI_COMM_WORLD_RANK", "3"},
                              {"OMPI_COMM_WORLD_SIZE", "4"},
                              {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                              {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"},
                              {"AZ_BATCH_MASTER_NODE", "10.0.0.4:6105"}});
  EXPECT_EQ(t.master_addr, "10.0.0.4");
  EXPECT_EQ(t.master_port, 6105);
  EXPECT_EQ(t.source, "azureml");
}

TEST(Launch, KubeflowTrainerOneProcessPerNode) {
  const Topology t = Resolve({{"PET_NNODES", "3"},
                              {"PET_NODE_RANK", "2"},
                              {"PET_NPROC_PER_NODE", "1"},
                              {"PET_MASTER_ADDR", "trainjob-node-0-0.trainjob"},
                              {"PET_MASTER_PORT", "29400"}});
  EXPECT_EQ(t.rank, 2);
  EXPECT_EQ(t.world_size, 3);
  EXPECT_EQ(t.master_addr, "trainjob-node-0-0.trainjob");
  EXPECT_EQ(t.master_port, 29400);
  EXPECT_EQ(t.source, "kubeflow-trainer");
  EXPECT_NE(Error({{"PET_NNODES", "2"},
                   {"PET_NODE_RANK", "0"},
                   {"PET_NPROC_PER_NODE", "4"},
                   {"PET_MASTER_ADDR", "m"}})
                .find("medscribe launch"),
            std::string::npos);
  EXPECT_NE(Error({{"PET_NNODES", "1:4"}, {"PET_NODE_RANK", "0"}}).find("elastic range"),
            std::string::npos);
}

TEST(Launch, TorchVariablesWinOverHostDescriptions) {
  // torchrun inside a SageMaker job: SM_HOSTS counts hosts, RANK/WORLD_SIZE count processes.
  const Topology t = Resolve({{"RANK", "3"},
                              {"WORLD_SIZE", "4"},
                              {"LOCAL_RANK", "1"},
                              {"LOCAL_WORLD_SIZE", "2"},
                              {"MASTER_ADDR", "algo-1"},
                              {"SM_HOSTS", R"(["algo-1","algo-2"])"},
                              {"SM_CURRENT_HOST", "algo-2"}});
  EXPECT_EQ(t.rank, 3);
  EXPECT_EQ(t.world_size, 4);
}

TEST(Launch, SageMaker) {
  const Topology t =
      Resolve({{"SM_HOSTS", R"(["algo-1","algo-2","algo-3"])"}, {"SM_CURRENT_HOST", "algo-3"}});
  EXPECT_EQ(t.rank, 2);
  EXPECT_EQ(t.world_size, 3);
  EXPECT_EQ(t.master_addr, "algo-1");
  EXPECT_EQ(t.master_port, 29500);
  EXPECT_EQ(t.source, "sagemaker");
  EXPECT_NE(Error({{"SM_HOSTS", R"(["algo-1"])"}, {"SM_CURRENT_HOST", "algo-9"}}).find("algo-9"),
            std::string::npos);
  EXPECT_NE(Error({{"SM_HOSTS", "algo-1,algo-2"}, {"SM_CURRENT_HOST", "algo-1"}}).find("JSON list"),
            std::string::npos);
}

TEST(Launch, VertexAi) {
  const std::string spec = R"({"cluster":{"workerpool0":["cmle-training-workerpool0-ab-0:2222"],)"
                           R"("workerpool1":["w-0:2222","w-1:2222"]},"environment":"cloud",)"
                           R"("task":{"type":"workerpool1","index":1}})";
  const Topology t = Resolve({{"CLUSTER_SPEC", spec}});
  EXPECT_EQ(t.rank, 2);
  EXPECT_EQ(t.world_size, 3);
  EXPECT_EQ(t.master_addr, "cmle-training-workerpool0-ab-0");
  EXPECT_EQ(t.master_port, 2222);
  EXPECT_EQ(t.source, "vertex-ai");
  const std::string chief =
      R"({"cluster":{"workerpool0":["c:2222"]},"task":{"type":"workerpool0","index":0}})";
  EXPECT_EQ(Resolve({{"CLUSTER_SPEC", chief}}).rank, 0);
  const std::string reducer = R"({"cluster":{"workerpool0":["c:2222"],"workerpool2":["r:2222"]},)"
                              R"("task":{"type":"workerpool2","index":0}})";
  EXPECT_NE(Error({{"CLUSTER_SPEC", reducer}}).find("not a training worker"), std::string::npos);
  EXPECT_NE(Error({{"CLUSTER_SPEC", "{"}}).find("CLUSTER_SPEC"), std::string::npos);
}

TEST(Launch, IncompleteAndConflictingVariablesAreRefused) {
  EXPECT_NE(Error({{"RANK", "0"}}).find("WORLD_SIZE is not"), std::string::npos);
  EXPECT_NE(Error({{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).find("RANK is not"),
            std::string::npos);
  EXPECT_NE(Error({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}).find("not below"),
            std::string::npos);
  EXPECT_NE(Error({{"RANK", "x"}, {"WORLD_SIZE", "2"}}).find("RANK='x'"), std::string::npos);
  EXPECT_NE(
      Error({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}}).find("MASTER_PORT"),
      std::string::npos);
  EXPECT_NE(Error({{"RANK", "1"},
                   {"WORLD_SIZE", "2"},
                   {"MASTER_ADDR", "h"},
                   {"OMPI_COMM_WORLD_RANK", "0"},
                   {"OMPI_COMM_WORLD_SIZE", "2"}})
                .find("disagree"),
            std::string::npos);
  // A world across hosts with no rendezvous address.
  EXPECT_NE(
      Error({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"}})
          .find("MASTER_ADDR is not set"),
      std::string::npos);
}

}  // namespace
}  // namespace medscribe::train
