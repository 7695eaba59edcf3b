// libFuzzer target: the model server's untrusted inputs — a chat completion request body and,
// from it, the image data URL (PNG, JPEG, DICOM decoders).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serve/image_decode.h"
#include "serve/model_server.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace medscribe::serve;
  if (size > (1u << 20)) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ChatRequest chat;
  if (ParseChatRequest(bytes, 1024, &chat).ok() && !chat.image_url.empty()) {
    ImageLimits limits;
    limits.max_pixels = 1 << 20;
    (void)DecodeDataUrl(chat.image_url, limits);
  }
  // The raw bytes as each image format too.
  ImageLimits limits;
  limits.max_pixels = 1 << 20;
  (void)DecodePng(bytes, limits);
  (void)DecodeJpeg(bytes, limits);
  return 0;
}
