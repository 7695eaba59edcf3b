// Runs one function per rank on threads of this process, joined in one Gloo group on loopback,
// for tests of collectives and point-to-point protocols.
#pragma once

#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "testing/free_port.h"
#include "train/distributed.h"
#include "train/launch.h"

namespace medscribe::testing {

// Runs fn(rank, world communicator) on `world` threads; returns each rank's error ("" when
// none), including a failed rendezvous.
inline std::vector<std::string> RunRanks(
    int world, const std::function<std::string(int, train::Communicator*)>& fn) {
  const int port = FreePort();
  std::vector<std::string> errors(static_cast<size_t>(world));
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r) {
    threads.emplace_back([&, r] {
      train::Topology t;
      t.rank = r;
      t.world_size = world;
      t.master_port = port;
      auto comm = train::Connect(t, 60);
      if (!comm.ok()) {
        errors[static_cast<size_t>(r)] = comm.status().message();
        return;
      }
      errors[static_cast<size_t>(r)] = fn(r, comm->get());
    });
  }
  for (std::thread& th : threads) th.join();
  return errors;
}

}  // namespace medscribe::testing
