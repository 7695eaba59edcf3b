// The model server's HTTP API around one engine (docs/api.md):
//   GET  /healthz                 alive
//   GET  /readyz                  200 when the model is loaded and the server is not draining
//   GET  /metrics                 Prometheus text format
//   GET  /v1/models               the served model, OpenAI style
//   POST /v1/chat/completions     OpenAI-compatible; text and image parts (PNG, JPEG, DICOM data
//                                 URLs); `stream` as server-sent events
//   POST /v1/reports:generate     the domain API: one sample (docs/formats/dataset.md schema) and
//                                 its image in, the draft with its sections, the model version
//                                 and a digest of the inputs out
// The engine runs on its own thread; handlers only parse, validate and submit, and requests
// answer from the engine's callbacks. Request content never reaches logs or metrics.
//
// Thread safety: Handle may be called from any number of threads.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "engine/engine.h"
#include "serve/http_server.h"
#include "serve/image_decode.h"
#include "serve/metrics.h"

namespace medscribe::serve {

struct ModelServerOptions {
  std::string model_id;       // the name clients use ("model" field, /v1/models)
  std::string model_version;  // NAME@VERSION, reported in responses
  int max_tokens = 1024;      // cap on a request's max_tokens
  int32_t bos_id = 2;
  ImageLimits image_limits;
};

// What a chat completion request asks for.
struct ChatRequest {
  std::string prompt;     // the messages' text, with "<image>" where the image part was
  std::string image_url;  // the one image's data URL, or ""
  bool stream = false;
  engine::SamplingParams sampling;
};
// Parses and validates an untrusted request body (JSON depth at most 64; refuses logprobs,
// logit_bias, n > 1, tools, more than one image). InvalidArgument naming the problem.
Status ParseChatRequest(std::string_view body, int max_tokens, ChatRequest* out);

// A report's sections by their headings (EXAMINATION, INDICATION, COMPARISON, FINDINGS,
// IMPRESSION, RECOMMENDATION), in order of appearance; text before the first heading is "".
std::vector<std::pair<std::string, std::string>> ReportSections(std::string_view report);

class ModelServer {
 public:
  // `encode` turns prompt text into token ids (the model's tokenizer).
  ModelServer(std::unique_ptr<engine::Engine> engine,
              std::function<std::vector<int>(std::string_view)> encode, ModelServerOptions o);
  // The report API's prompt builder (absent: /v1/reports:generate answers 404): the prompt of a
  // sample with its notes cut to `max_note_chars`, carrying `image_read` (model::ImageRead of the
  // request's image, for a model with findings.read_as_text; else "") as model/prompt.h says.
  using PromptBuilder = std::function<StatusOr<std::string>(
      std::string_view sample_json, size_t max_note_chars, std::string_view image_read)>;
  void SetPromptBuilder(PromptBuilder f) { prompt_of_ = std::move(f); }
  ~ModelServer();

  void Handle(HttpRequest req, std::shared_ptr<Responder> res);
  // Readiness turns 503 at once; returns when no request is in flight.
  void Drain();
  int in_flight() const { return in_flight_.load(); }

 private:
  void EngineLoop();
  void Chat(const HttpRequest& req, std::shared_ptr<Responder> res);
  void Report(const HttpRequest& req, std::shared_ptr<Responder> res);
  // Counts the request in flight and hands it to the engine (an error answer if refused).
  void Submit(engine::GenerateRequest g, const std::shared_ptr<Responder>& res,
              const std::string& route);
  void Reply(const std::shared_ptr<Responder>& res, const std::string& route, int status,
             const std::string& body, const std::string& type = "application/json");
  void Error(const std::shared_ptr<Responder>& res, const std::string& route, int status,
             const std::string& message);

  std::unique_ptr<engine::Engine> engine_;
  std::function<std::vector<int>(std::string_view)> encode_;
  // Builds the training-time prompt text of a sample (model/prompt.h), or InvalidArgument.
  PromptBuilder prompt_of_;
  ModelServerOptions o_;
  ServerMetrics metrics_;
  std::atomic<bool> draining_{false}, stop_{false};
  std::atomic<int> in_flight_{0};
  std::mutex mu_;
  std::condition_variable wake_;
  std::thread engine_thread_;
};

}  // namespace medscribe::serve
