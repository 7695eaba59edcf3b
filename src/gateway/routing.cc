#include "gateway/routing.h"

#include <nlohmann/json.hpp>

#include "common/logging.h"

namespace medscribe::gateway {

std::string Replica::model() const {
  std::lock_guard<std::mutex> lock(mu_);
  return model_;
}

void Replica::set_model(std::string m) {
  std::lock_guard<std::mutex> lock(mu_);
  model_ = std::move(m);
}

std::shared_ptr<Replica> ReplicaSet::Get(const std::string& url, const Address& addr) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& r = by_url_[url];
  if (!r) {
    r = std::make_shared<Replica>();
    r->url = url;
    r->addr = addr;
  }
  return r;
}

std::vector<std::shared_ptr<Replica>> ReplicaSet::All() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::shared_ptr<Replica>> all;
  all.reserve(by_url_.size());
  for (const auto& [url, r] : by_url_) all.push_back(r);
  return all;
}

StatusOr<std::unique_ptr<RoutingTable>> RoutingTable::Build(
    const std::vector<Endpoint>& endpoints,
    const std::map<std::string, std::vector<std::string>>& local_urls, ReplicaSet& replicas) {
  auto t = std::make_unique<RoutingTable>();
  for (const Endpoint& e : endpoints) {
    auto ep = std::make_unique<EndpointRoute>();
    ep->name = e.name;
    for (const Deployment& d : e.deployments) {
      auto dep = std::make_unique<DeploymentRoute>();
      dep->name = d.name;
      dep->weight = d.weight;
      std::vector<std::string> urls = d.replicas;
      if (d.is_local()) {
        auto it = local_urls.find(e.name + "/" + d.name);
        if (it == local_urls.end())
          return FailedPreconditionError(
              "deployment '" + d.name +
              "' gained local replicas on reload; restart the gateway to start them");
        urls = it->second;
      }
      for (const std::string& u : urls) {
        ASSIGN_OR_RETURN(Address a, ParseUrl(u));
        dep->replicas.push_back(replicas.Get(u, a));
      }
      ep->deployments.push_back(std::move(dep));
    }
    ep->current.assign(ep->deployments.size(), 0);
    for (size_t i = 0; i < e.deployments.size(); ++i)
      if (e.deployments[i].name == e.mirror) ep->mirror = static_cast<int>(i);
    ep->mirror_percent = e.mirror_percent;
    for (const std::string& p : e.paths) {
      if (t->by_path_.count(p))
        return InvalidArgumentError("path " + p + " is routed to two endpoints");
      t->by_path_[p] = ep.get();
    }
    t->endpoints_.push_back(std::move(ep));
  }
  return t;
}

EndpointRoute* RoutingTable::Find(const std::string& path) const {
  auto it = by_path_.find(path);
  return it == by_path_.end() ? nullptr : it->second;
}

std::vector<std::string> RoutingTable::Down(int64_t now_ms) const {
  std::vector<std::string> down;
  for (const auto& ep : endpoints_) {
    bool any = false;
    for (const auto& d : ep->deployments)
      for (const auto& r : d->replicas) any = any || r->available(now_ms);
    if (!any) down.push_back(ep->name);
  }
  return down;
}

DeploymentRoute* PickDeployment(EndpointRoute& ep, const DeploymentRoute* exclude, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(ep.mu);
  auto eligible = [&](size_t i, bool need_available) {
    const DeploymentRoute& d = *ep.deployments[i];
    if (d.weight <= 0 || &d == exclude) return false;
    if (!need_available) return true;
    for (const auto& r : d.replicas)
      if (r->available(now_ms)) return true;
    return false;
  };
  for (bool need : {true, false}) {
    double total = 0;
    int best = -1;
    for (size_t i = 0; i < ep.deployments.size(); ++i) {
      if (!eligible(i, need)) continue;
      ep.current[i] += ep.deployments[i]->weight;
      total += ep.deployments[i]->weight;
      if (best < 0 || ep.current[i] > ep.current[static_cast<size_t>(best)])
        best = static_cast<int>(i);
    }
    if (best >= 0) {
      ep.current[static_cast<size_t>(best)] -= total;
      return ep.deployments[static_cast<size_t>(best)].get();
    }
  }
  return nullptr;
}

std::shared_ptr<Replica> PickReplica(DeploymentRoute& d, const Replica* exclude, int64_t now_ms) {
  const size_t n = d.replicas.size();
  if (n == 0) return nullptr;
  const uint64_t start = d.rr.fetch_add(1);
  std::shared_ptr<Replica> best;
  for (bool need : {true, false}) {
    for (size_t k = 0; k < n; ++k) {
      const auto& r = d.replicas[(start + k) % n];
      if (r.get() == exclude || (need && !r->available(now_ms))) continue;
      if (!best || r->outstanding.load() < best->outstanding.load()) best = r;
    }
    if (best) return best;
  }
  return nullptr;
}

bool RecordFailure(Replica& r, bool connect_failure, const EjectionPolicy& policy, int64_t now_ms) {
  const int errors = ++r.errors;
  if (!connect_failure && errors < policy.after_errors) return false;
  if (connect_failure) r.ready = false;
  const bool was_in = r.ejected_until.exchange(now_ms + policy.eject_for.count()) <= now_ms;
  if (was_in)
    LOG_WARN("replica {} ejected for {} ms ({})", r.url, policy.eject_for.count(),
             connect_failure ? "connection refused" : std::to_string(errors) + " errors in a row");
  return was_in;
}

void RecordSuccess(Replica& r) { r.errors = 0; }

asio::awaitable<void> CheckHealth(Upstream& upstream, const ReplicaSet& replicas,
                                  std::chrono::milliseconds timeout, const Clock& clock) {
  for (const std::shared_ptr<Replica>& r : replicas.All()) {
    BufferSink sink;
    sink.limit = 4096;
    UpstreamRequest req;
    req.target = "/readyz";
    req.timeout = timeout;
    const Outcome o = co_await upstream.Exchange(r->addr, req, sink);
    if (o == Outcome::kOk && sink.status == 200) {
      const nlohmann::json j = nlohmann::json::parse(sink.body, nullptr, false);
      if (j.is_object() && j.contains("model") && j["model"].is_string())
        r->set_model(j["model"].get<std::string>());
      if (!r->ready.exchange(true) || r->ejected_until.load() > clock.SteadyMs())
        LOG_INFO("replica {} is ready: admitted", r->url);
      r->ejected_until = 0;
      r->errors = 0;
    } else if (r->ready.exchange(false)) {
      LOG_WARN("replica {} is not ready ({}, HTTP {})", r->url, OutcomeName(o), sink.status);
    }
  }
}

}  // namespace medscribe::gateway
