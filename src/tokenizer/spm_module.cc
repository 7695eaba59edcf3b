// libmedscribe_spm: SentencePiece behind a C interface, loaded with dlopen by tokenizer.cc.
//
// Debian's libsentencepiece exports the protocol-buffer runtime it embeds. In a process that
// also loads LibTorch (and with it libprotobuf), the two sets of symbols interpose and the process
// crashes at start-up. Loading SentencePiece privately (RTLD_LOCAL | RTLD_DEEPBIND) through this
// module keeps each library bound to its own copy.
//
// Every function returns errors as a malloc'd message the caller frees with ms_spm_free_buffer.
#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

char* Dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p) std::memcpy(p, s.data(), s.size() + 1);
  return p;
}

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void ms_spm_free_buffer(void* p) { std::free(p); }

// A processor from a serialized model, or null with *error set.
__attribute__((visibility("default"))) void* ms_spm_load(const char* data, size_t n, char** error) {
  auto* sp = new sentencepiece::SentencePieceProcessor();
  const auto status = sp->LoadFromSerializedProto(std::string_view(data, n));
  if (!status.ok()) {
    *error = Dup(status.ToString());
    delete sp;
    return nullptr;
  }
  return sp;
}

__attribute__((visibility("default"))) void ms_spm_delete(void* sp) {
  delete static_cast<sentencepiece::SentencePieceProcessor*>(sp);
}

// ids: malloc'd array of *count ints.
__attribute__((visibility("default"))) int ms_spm_encode(void* sp, const char* text, size_t n,
                                                         int** ids, size_t* count) {
  std::vector<int> out;
  const auto s = static_cast<sentencepiece::SentencePieceProcessor*>(sp)->Encode(
      std::string_view(text, n), &out);
  *count = out.size();
  *ids = static_cast<int*>(std::malloc(std::max<size_t>(1, out.size()) * sizeof(int)));
  if (!*ids) return -1;
  if (!out.empty()) std::memcpy(*ids, out.data(), out.size() * sizeof(int));
  return s.ok() ? 0 : -1;
}

__attribute__((visibility("default"))) char* ms_spm_decode(void* sp, const int* ids, size_t n,
                                                           size_t* length) {
  std::string text;
  (void)static_cast<sentencepiece::SentencePieceProcessor*>(sp)->Decode(
      std::vector<int>(ids, ids + n), &text);
  *length = text.size();
  return Dup(text);
}

__attribute__((visibility("default"))) int ms_spm_piece_size(void* sp) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->GetPieceSize();
}

__attribute__((visibility("default"))) int ms_spm_piece_to_id(void* sp, const char* piece,
                                                              size_t n) {
  return static_cast<sentencepiece::SentencePieceProcessor*>(sp)->PieceToId(
      std::string_view(piece, n));
}

// The piece of `id` (malloc'd, *length bytes), its score and kind: 0 normal, 1 unknown,
// 2 control, 3 unused, 4 byte.
__attribute__((visibility("default"))) char* ms_spm_piece(void* sp, int id, float* score, int* kind,
                                                          size_t* length) {
  auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(sp);
  *score = p->GetScore(id);
  *kind = p->IsUnknown(id) ? 1 : p->IsControl(id) ? 2 : p->IsUnused(id) ? 3 : p->IsByte(id) ? 4 : 0;
  const std::string& piece = p->IdToPiece(id);
  *length = piece.size();
  return Dup(piece);
}

// which: 0 pad, 1 unk, 2 bos, 3 eos.
__attribute__((visibility("default"))) int ms_spm_special(void* sp, int which) {
  auto* p = static_cast<sentencepiece::SentencePieceProcessor*>(sp);
  switch (which) {
    case 0:
      return p->pad_id();
    case 1:
      return p->unk_id();
    case 2:
      return p->bos_id();
    default:
      return p->eos_id();
  }
}

__attribute__((visibility("default"))) char* ms_spm_serialized(void* sp, size_t* length) {
  const std::string s =
      static_cast<sentencepiece::SentencePieceProcessor*>(sp)->serialized_model_proto();
  *length = s.size();
  char* p = static_cast<char*>(std::malloc(std::max<size_t>(1, s.size())));
  if (p) std::memcpy(p, s.data(), s.size());
  return p;
}

// Trains with SentencePiece's command-line style arguments; null on success, else the error.
__attribute__((visibility("default"))) char* ms_spm_train(const char* args) {
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  return status.ok() ? nullptr : Dup(status.ToString());
}

}  // extern "C"
