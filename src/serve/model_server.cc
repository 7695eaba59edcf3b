#include "serve/model_server.h"

#include <simdjson.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <nlohmann/json.hpp>

#include "crypto/hmac.h"
#include "model/findings.h"
#include "model/prompt.h"
#include "model/stated_reading.h"
#include "serve/error_body.h"

namespace medscribe::serve {
namespace {
using Json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxJsonDepth = 64;

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status ParseChatRequest(std::string_view body, int max_tokens, ChatRequest* out) {
  thread_local simdjson::dom::parser parser;
  if (parser.allocate(body.size() + 64, kMaxJsonDepth) != simdjson::SUCCESS)
    return InvalidArgumentError("the request body is too large to parse");
  simdjson::dom::element doc;
  const simdjson::padded_string padded(body);
  if (auto err = parser.parse(padded).get(doc); err) {
    return InvalidArgumentError(err == simdjson::DEPTH_ERROR
                                    ? "the JSON body is nested more than 64 levels deep"
                                    : std::string("the body is not valid JSON: ") +
                                          simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return InvalidArgumentError("the body must be a JSON object");
  for (auto [key, value] : obj) {
    if (key == "logprobs" || key == "top_logprobs") {
      bool on = false;
      if (key == "top_logprobs" || (!value.get(on) && on))
        return InvalidArgumentError(
            "logprobs are not available: the engine never exposes token probabilities");
    } else if (key == "logit_bias") {
      return InvalidArgumentError(
          "logit_bias is not supported: the engine does not let callers steer token scores");
    } else if (key == "n") {
      int64_t n = 1;
      if (value.get(n) || n != 1)
        return InvalidArgumentError("n must be 1 (one draft per request)");
    } else if (key == "tools" || key == "functions" || key == "tool_choice") {
      return InvalidArgumentError("tools are not supported by this model");
    } else if (key == "stream") {
      if (value.get(out->stream)) return InvalidArgumentError("stream must be true or false");
    } else if (key == "max_tokens" || key == "max_completion_tokens") {
      int64_t n = 0;
      if (value.get(n) || n < 1 || n > max_tokens)
        return InvalidArgumentError(std::string(key) + " must be an integer in 1.." +
                                    std::to_string(max_tokens));
      out->sampling.max_tokens = static_cast<int>(n);
    } else if (key == "temperature") {
      if (value.get(out->sampling.temperature)) {
        int64_t t = 0;
        if (value.get(t)) return InvalidArgumentError("temperature must be a number");
        out->sampling.temperature = static_cast<double>(t);
      }
    } else if (key == "top_p") {
      if (value.get(out->sampling.top_p)) {
        int64_t t = 0;
        if (value.get(t)) return InvalidArgumentError("top_p must be a number");
        out->sampling.top_p = static_cast<double>(t);
      }
    } else if (key == "seed") {
      int64_t seed = 0;
      if (value.get(seed)) return InvalidArgumentError("seed must be an integer");
      out->sampling.seed = static_cast<uint64_t>(seed);
    } else if (key == "stop") {
      std::string_view one;
      simdjson::dom::array many;
      if (!value.get(one)) {
        out->sampling.stop.emplace_back(one);
      } else if (!value.get(many)) {
        for (auto s : many) {
          if (s.get(one)) return InvalidArgumentError("stop must be a string or strings");
          out->sampling.stop.emplace_back(one);
        }
      } else if (!value.is_null()) {
        return InvalidArgumentError("stop must be a string or an array of strings");
      }
    } else if (key == "messages") {
      simdjson::dom::array messages;
      if (value.get(messages)) return InvalidArgumentError("messages must be an array");
      for (auto m : messages) {
        simdjson::dom::object message;
        if (m.get(message)) return InvalidArgumentError("each message must be an object");
        std::string_view role;
        if (message["role"].get(role)) return InvalidArgumentError("each message needs a role");
        if (role == "assistant") continue;  // earlier drafts are not part of the prompt
        simdjson::dom::element content;
        if (message["content"].get(content))
          return InvalidArgumentError("each message needs content");
        std::string_view text;
        simdjson::dom::array parts;
        if (!content.get(text)) {
          out->prompt += std::string(text) + "\n";
        } else if (!content.get(parts)) {
          for (auto part : parts) {
            std::string_view type;
            if (part["type"].get(type))
              return InvalidArgumentError("each content part needs a type");
            if (type == "text") {
              if (part["text"].get(text)) return InvalidArgumentError("a text part needs its text");
              out->prompt += std::string(text) + "\n";
            } else if (type == "image_url") {
              std::string_view url;
              if (part["image_url"]["url"].get(url))
                return InvalidArgumentError("an image_url part needs image_url.url");
              if (!out->image_url.empty())
                return InvalidArgumentError(
                    "one image per request: the model reads one study image");
              out->image_url = std::string(url);
              out->prompt += "<image>\n";
            } else {
              return InvalidArgumentError("content parts must be text or image_url, not '" +
                                          std::string(type) + "'");
            }
          }
        } else {
          return InvalidArgumentError("message content must be a string or an array of parts");
        }
      }
    }
  }
  if (out->prompt.empty()) return InvalidArgumentError("messages must hold some text");
  return engine::Validate(out->sampling);
}

ModelServer::ModelServer(std::unique_ptr<engine::Engine> engine,
                         std::function<std::vector<int>(std::string_view)> encode,
                         ModelServerOptions o)
    : engine_(std::move(engine)), encode_(std::move(encode)), o_(std::move(o)) {
  engine_thread_ = std::thread([this] { EngineLoop(); });
}

ModelServer::~ModelServer() {
  stop_ = true;
  wake_.notify_all();
  if (engine_thread_.joinable()) engine_thread_.join();
}

void ModelServer::EngineLoop() {
  while (!stop_) {
    if (engine_->Step()) continue;
    std::unique_lock<std::mutex> lock(mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(5));
  }
}

void ModelServer::Drain() {
  draining_ = true;
  while (in_flight_.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

void ModelServer::Reply(const std::shared_ptr<Responder>& res, const std::string& route, int status,
                        const std::string& body, const std::string& type) {
  metrics_.Request(route, status);
  res->Send(status, type, body);
}

void ModelServer::Error(const std::shared_ptr<Responder>& res, const std::string& route, int status,
                        const std::string& message) {
  Reply(res, route, status, ErrorBody(status, message));
}

void ModelServer::Handle(HttpRequest req, std::shared_ptr<Responder> res) {
  const std::string& p = req.path;
  if (p == "/healthz" && req.method == "GET") return Reply(res, p, 200, R"({"status":"ok"})");
  if (p == "/readyz" && req.method == "GET") {
    if (draining_) return Reply(res, p, 503, R"({"status":"draining"})");
    return Reply(res, p, 200,
                 nlohmann::json{{"status", "ready"}, {"model", o_.model_version}}.dump(
                     -1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (p == "/metrics" && req.method == "GET") {
    const engine::EngineStats s = engine_->stats();
    const std::map<std::string, double> gauges = {
        {"medscribe_running_sequences", s.running},
        {"medscribe_queue_length", s.waiting},
        {"medscribe_kv_cache_usage_ratio",
         s.kv_blocks ? static_cast<double>(s.kv_blocks_used) / static_cast<double>(s.kv_blocks)
                     : 0},
        {"medscribe_in_flight_requests", in_flight_.load()}};
    const std::map<std::string, double> counters = {
        {"medscribe_generated_tokens_total", static_cast<double>(s.generated_tokens)},
        {"medscribe_prompt_tokens_total", static_cast<double>(s.prompt_tokens)},
        {"medscribe_prompt_tokens_computed_total", static_cast<double>(s.computed_prompt_tokens)},
        {"medscribe_encoder_cache_hits_total", static_cast<double>(s.encoder_hits)},
        {"medscribe_encoder_cache_misses_total", static_cast<double>(s.encoder_misses)},
        {"medscribe_preemptions_total", static_cast<double>(s.preemptions)},
        {"medscribe_draft_tokens_total", static_cast<double>(s.drafted)},
        {"medscribe_draft_tokens_accepted_total", static_cast<double>(s.accepted)}};
    metrics_.Request(p, 200);
    return res->Send(200, "text/plain; version=0.0.4", metrics_.Render(gauges, counters));
  }
  if (p == "/v1/models" && req.method == "GET") {
    const Json body = {{"object", "list"},
                       {"data", Json::array({{{"id", o_.model_id},
                                              {"object", "model"},
                                              {"created", 0},
                                              {"owned_by", "medscribe"},
                                              {"version", o_.model_version}}})}};
    return Reply(res, p, 200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  if (p == "/v1/reports:generate") {
    if (req.method != "POST") return Error(res, p, 405, "use POST");
    return Report(req, std::move(res));
  }
  if (p == "/v1/chat/completions") {
    if (req.method != "POST") return Error(res, p, 405, "use POST");
    return Chat(req, std::move(res));
  }
  Error(res, "other", 404, "no route " + req.method + " " + req.path);
}

void ModelServer::Submit(engine::GenerateRequest g, const std::shared_ptr<Responder>& res,
                         const std::string& route) {
  ++in_flight_;  // the request's on_done takes it back
  auto submitted = engine_->Submit(std::move(g));
  if (!submitted.ok()) {
    --in_flight_;
    return Error(res, route, HttpStatusFor(submitted.status().code()),
                 submitted.status().message());
  }
  wake_.notify_one();
}

void ModelServer::Chat(const HttpRequest& req, std::shared_ptr<Responder> res) {
  const std::string route = "/v1/chat/completions";
  if (draining_) return Error(res, route, 503, "the server is shutting down; retry elsewhere");
  ChatRequest chat;
  if (Status s = ParseChatRequest(req.body, o_.max_tokens, &chat); !s.ok())
    return Error(res, route, 400, s.message());
  engine::GenerateRequest g;
  g.prompt.push_back(o_.bos_id);
  for (int id : encode_(chat.prompt)) g.prompt.push_back(id);
  if (!chat.image_url.empty()) {
    auto img = DecodeDataUrl(chat.image_url, o_.image_limits);
    if (!img.ok()) return Error(res, route, 400, img.status().message());
    g.image =
        torch::from_blob(img->pixels.data(), {1, img->height, img->width}, torch::kFloat32).clone();
    const crypto::Digest d = crypto::Sha256(std::string_view(
        reinterpret_cast<const char*>(img->pixels.data()), img->pixels.size() * sizeof(float)));
    g.image_digest = crypto::Hex(d);
  }
  g.sampling = chat.sampling;
  const std::string id =
      "chatcmpl-" +
      crypto::Hex(crypto::Sha256(req.body + std::to_string(UnixNow()) +
                                 std::to_string(reinterpret_cast<uintptr_t>(res.get()))))
          .substr(0, 24);
  const int64_t created = UnixNow();
  const auto start = Clock::now();
  struct Timing {
    Clock::time_point last;
    bool first = true;
  };
  auto timing = std::make_shared<Timing>();
  if (chat.stream) {
    const auto chunk = [id, created, model = o_.model_id](const Json& delta, const Json& finish) {
      const Json c = {
          {"id", id},
          {"object", "chat.completion.chunk"},
          {"created", created},
          {"model", model},
          {"choices", Json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}})}};
      return "data: " + c.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n\n";
    };
    g.on_text = [this, res, timing, start, chunk](std::string_view piece) {
      const auto now = Clock::now();
      if (timing->first) {
        metrics_.ttft.Observe(std::chrono::duration<double>(now - start).count());
        res->Begin(200, "text/event-stream");
        res->Write(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
        timing->first = false;
      } else {
        metrics_.inter_token.Observe(std::chrono::duration<double>(now - timing->last).count());
      }
      timing->last = now;
      res->Write(chunk({{"content", std::string(piece)}}, nullptr));
    };
    g.on_done = [this, res, timing, start, chunk, route](const engine::GenerateResult& r) {
      metrics_.e2e.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      if (timing->first) {
        if (!r.status.ok()) {
          Error(res, route, HttpStatusFor(r.status.code()), r.status.message());
          --in_flight_;
          return;
        }
        res->Begin(200, "text/event-stream");
        res->Write(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
      }
      metrics_.Request(route, 200);
      if (r.status.ok()) {
        res->Write(chunk(Json::object(), r.finish == "length" ? "length" : "stop"));
      } else {
        res->Write("data: " +
                   Json({{"error", {{"message", r.status.message()}}}})
                       .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                   "\n\n");
      }
      res->Write("data: [DONE]\n\n");
      res->End();
      --in_flight_;
    };
  } else {
    g.on_text = [this, timing, start](std::string_view) {
      const auto now = Clock::now();
      if (timing->first) {
        metrics_.ttft.Observe(std::chrono::duration<double>(now - start).count());
        timing->first = false;
      } else {
        metrics_.inter_token.Observe(std::chrono::duration<double>(now - timing->last).count());
      }
      timing->last = now;
    };
    g.on_done = [this, res, id, created, start, route](const engine::GenerateResult& r) {
      metrics_.e2e.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      if (!r.status.ok()) {
        Error(res, route, HttpStatusFor(r.status.code()), r.status.message());
      } else {
        const Json body = {
            {"id", id},
            {"object", "chat.completion"},
            {"created", created},
            {"model", o_.model_id},
            {"system_fingerprint", o_.model_version},
            {"choices",
             Json::array({{{"index", 0},
                           {"message", {{"role", "assistant"}, {"content", r.text}}},
                           {"finish_reason", r.finish == "length" ? "length" : "stop"}}})},
            {"usage",
             {{"prompt_tokens", r.prompt_tokens},
              {"completion_tokens", r.tokens.size()},
              {"total_tokens", r.prompt_tokens + static_cast<int64_t>(r.tokens.size())}}}};
        Reply(res, route, 200, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      --in_flight_;
    };
  }
  Submit(std::move(g), res, route);
}

std::vector<std::pair<std::string, std::string>> ReportSections(std::string_view report) {
  static const char* const kHeadings[] = {
      "EXAMINATION:", "INDICATION:", "COMPARISON:", "FINDINGS:", "IMPRESSION:", "RECOMMENDATION:"};
  std::vector<std::pair<size_t, std::string>> at;  // heading position, name
  for (const char* h : kHeadings) {
    const size_t pos = report.find(h);
    if (pos != std::string_view::npos) at.emplace_back(pos, h);
  }
  std::sort(at.begin(), at.end());
  const auto trim = [](std::string_view v) {
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.front()))) v.remove_prefix(1);
    while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.remove_suffix(1);
    return std::string(v);
  };
  std::vector<std::pair<std::string, std::string>> out;
  const size_t first = at.empty() ? report.size() : at[0].first;
  if (!trim(report.substr(0, first)).empty()) out.emplace_back("", trim(report.substr(0, first)));
  for (size_t i = 0; i < at.size(); ++i) {
    const size_t from = at[i].first + at[i].second.size();
    const size_t to = i + 1 < at.size() ? at[i + 1].first : report.size();
    out.emplace_back(at[i].second.substr(0, at[i].second.size() - 1),
                     trim(report.substr(from, to - from)));
  }
  return out;
}

void ModelServer::Report(const HttpRequest& req, std::shared_ptr<Responder> res) {
  const std::string route = "/v1/reports:generate";
  if (!prompt_of_) return Error(res, route, 404, "this server has no report API");
  if (draining_) return Error(res, route, 503, "the server is shutting down; retry elsewhere");
  thread_local simdjson::dom::parser parser;
  if (parser.allocate(req.body.size() + 64, kMaxJsonDepth) != simdjson::SUCCESS)
    return Error(res, route, 400, "the request body is too large to parse");
  const simdjson::padded_string padded(req.body);
  simdjson::dom::element doc;
  if (auto err = parser.parse(padded).get(doc); err)
    return Error(res, route, 400,
                 std::string("the body is not valid JSON (at most 64 levels): ") +
                     simdjson::error_message(err));
  simdjson::dom::element sample;
  if (doc["sample"].get(sample) || !sample.is_object())
    return Error(res, route, 400,
                 "the body needs \"sample\": a sample object (docs/formats/dataset.md)");
  const std::string sample_json = simdjson::minify(sample);
  int64_t max_tokens = 512;
  if (auto m = doc["max_tokens"].get_int64(); !m.error()) max_tokens = m.value();
  if (max_tokens < 1 || max_tokens > o_.max_tokens)
    return Error(res, route, 400, "max_tokens must be 1.." + std::to_string(o_.max_tokens));
  engine::GenerateRequest g;
  std::string_view image_url;
  std::string digest_input = sample_json;
  const bool has_image = !doc["image"].get(image_url);
  if (has_image) {
    auto img = DecodeDataUrl(image_url, o_.image_limits);
    if (!img.ok()) return Error(res, route, 400, img.status().message());
    // The image must be prepared as the model's dataset was (the sample's first source says how).
    simdjson::dom::element source;
    double prepared_mm = 0;
    bool stated = false;
    if (!sample.at_pointer("/modalities/image/sources/0").get(source)) {
      if (auto mm = source["mm_per_pixel"].get_double(); !mm.error()) prepared_mm = mm.value();
      stated = !source["pixel_spacing_mm"].error();
    }
    if (Status s = CheckImageSpacing(prepared_mm, stated, img->width, o_.image_limits); !s.ok())
      return Error(res, route, 400, s.message());
    g.image =
        torch::from_blob(img->pixels.data(), {1, img->height, img->width}, torch::kFloat32).clone();
    g.image_digest = crypto::Hex(crypto::Sha256(std::string_view(
        reinterpret_cast<const char*>(img->pixels.data()), img->pixels.size() * sizeof(float))));
    digest_input += g.image_digest;
  }
  // A model that reads its findings as text gets the head's reading of this image in its prompt,
  // as it did in training.
  // Its draft states that reading (model/stated_reading.h): sides, lesion size, found findings.
  std::string image_read;
  model::StatedReading stated;
  const model::ModelConfig& mc = engine_->config();
  if (has_image && mc.findings.read_as_text) {
    auto read = engine_->FindingProbabilities(g.image);
    if (!read.ok()) return Error(res, route, 400, read.status().message());
    image_read = model::ImageRead(*read);
    stated = model::ReadingToState(*read);
  }
  // The prompt must leave room for the answer: long notes are cut (as in training, where they
  // are cut as model/prompt.h says) until it does; the answer is shortened only as a
  // last resort.
  const int64_t context = mc.decoder.max_position_embeddings;
  const int64_t image_positions = has_image ? mc.image_tokens() - 1 : 0;
  for (size_t max_note : {model::PromptOptions().max_note_chars, size_t{200}, size_t{0}}) {
    auto text = prompt_of_(sample_json, max_note, image_read);
    if (!text.ok()) return Error(res, route, 400, text.status().message());
    if (!has_image) {
      // Without an image the prompt leaves the image section out.
      const std::string placeholder = "<image>";
      if (text->rfind(placeholder, 0) == 0) text->erase(0, placeholder.size());
    }
    g.prompt.assign(1, o_.bos_id);
    for (int id : encode_(*text)) g.prompt.push_back(id);
    if (static_cast<int64_t>(g.prompt.size()) + image_positions + max_tokens <= context) break;
  }
  const int64_t room = context - static_cast<int64_t>(g.prompt.size()) - image_positions;
  if (room < std::min<int64_t>(max_tokens, 16))
    return Error(res, route, 400,
                 "the sample's prompt takes " + std::to_string(context - room) +
                     " of the model's " + std::to_string(context) +
                     " positions even without notes; too little is left for a report");
  max_tokens = std::min(max_tokens, room);
  g.sampling.max_tokens = static_cast<int>(max_tokens);
  if (std::string_view priority; !doc["priority"].get(priority)) {
    if (priority != "interactive" && priority != "batch")
      return Error(res, route, 400, "priority must be \"interactive\" or \"batch\"");
    if (priority == "batch") g.priority = engine::Priority::kBatch;
  }
  const std::string input_digest = crypto::Hex(crypto::Sha256(digest_input));
  const auto start = Clock::now();
  const bool stream = doc["stream"].is_bool() && doc["stream"].get_bool().value();
  auto body_of = [this, input_digest, image_read, stated](const engine::GenerateResult& r) {
    const std::string report = model::StateReading(r.text, stated);
    Json sections = Json::array();
    for (const auto& [name, body] : ReportSections(report))
      sections.push_back({{"name", name}, {"text", body}});
    Json body{
        {"model", o_.model_version},
        {"report", report},
        {"sections", sections},
        {"finish_reason", r.finish == "length" ? "length" : "stop"},
        {"input_digest", input_digest},
        {"usage", {{"prompt_tokens", r.prompt_tokens}, {"completion_tokens", r.tokens.size()}}}};
    if (!image_read.empty()) body["image_read"] = image_read;
    return body;
  };
  if (stream) {
    // Server-sent events: {"delta": text} as the report grows, then the whole answer (the
    // non-streamed body), then [DONE]. Errors before the first token are plain HTTP errors.
    auto started = std::make_shared<bool>(false);
    auto begin = [res, started] {
      if (*started) return;
      *started = true;
      res->Begin(200, "text/event-stream");
    };
    // Deltas carry whole sentences once a reading is to be stated: the stream's text equals the
    // answer's report.
    auto statement = std::make_shared<model::ReadingStatement>(stated);
    auto delta = [res](const std::string& text) {
      if (text.empty()) return;
      res->Write(
          "data: " +
          Json{{"delta", text}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
          "\n\n");
    };
    g.on_text = [this, begin, start, started, statement, delta](std::string_view piece) {
      if (!*started)
        metrics_.ttft.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      begin();
      delta(statement->Feed(piece));
    };
    g.on_done = [this, res, route, start, started, begin, body_of, statement,
                 delta](const engine::GenerateResult& r) {
      metrics_.e2e.Observe(std::chrono::duration<double>(Clock::now() - start).count());
      if (!*started && !r.status.ok()) {
        Error(res, route, HttpStatusFor(r.status.code()), r.status.message());
        --in_flight_;
        return;
      }
      begin();
      delta(statement->Finish());
      metrics_.Request(route, 200);
      const Json last =
          r.status.ok() ? body_of(r) : Json{{"error", {{"message", r.status.message()}}}};
      res->Write("data: " + last.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
                 "\n\ndata: [DONE]\n\n");
      res->End();
      --in_flight_;
    };
    return Submit(std::move(g), res, route);
  }
  g.on_done = [this, res, route, start, body_of](const engine::GenerateResult& r) {
    metrics_.e2e.Observe(std::chrono::duration<double>(Clock::now() - start).count());
    if (!r.status.ok()) {
      Error(res, route, HttpStatusFor(r.status.code()), r.status.message());
    } else {
      Reply(res, route, 200,
            body_of(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    --in_flight_;
  };
  Submit(std::move(g), res, route);
}

}  // namespace medscribe::serve
