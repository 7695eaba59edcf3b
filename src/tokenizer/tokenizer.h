// The report tokenizer: a SentencePiece model (libsentencepiece) with byte fallback, so that any
// UTF-8 text — Traditional Chinese included — encodes without unknown tokens, and with one piece
// per prompt section.
//
// Fixed ids: 0 <pad>, 1 <unk>, 2 <s> (bos), 3 </s> (eos, ends a report), then the section tokens
// <image> <history> <labs> <dictation> <report> as user-defined symbols (never split, never
// produced from ordinary text), then TrainOptions::symbols (change tokens, and word-start pieces
// such as "▁new" that ordinary text does produce, as one piece).
//
// Example:
//   ASSIGN_OR_RETURN(Tokenizer tok, Tokenizer::Load("run/tokenizer.model"));
//   std::vector<int> ids = tok.Encode("<report> No acute findings.");
//
// SentencePiece runs inside libmedscribe_spm, loaded privately next to the executable (or from
// $MEDSCRIBE_SPM_MODULE): Debian's SentencePiece exports an embedded protobuf runtime that would
// otherwise clash with LibTorch's. FailedPrecondition when the module cannot be loaded.
//
// Thread safety: Encode and Decode may be called concurrently on one Tokenizer.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace medscribe::tokenizer {

inline constexpr int kPadId = 0, kUnkId = 1, kBosId = 2, kEosId = 3;
inline constexpr const char* kSectionTokens[] = {"<image>", "<history>", "<labs>", "<dictation>",
                                                 "<report>"};

struct TrainOptions {
  int vocab_size = 8000;
  int threads = 2;
  // More user-defined symbols (each one piece, never split), after the section tokens: e.g.
  // the prompt's change tokens (model/dictated_change.h).
  std::vector<std::string> symbols;
  // SentencePiece may return a smaller vocabulary when the text has too few distinct pieces.
};

enum class PieceKind { kNormal, kUnknown, kControl, kUserDefined, kUnused, kByte };
struct Piece {
  std::string text;  // SentencePiece's form: "▁" marks a word start, "<0x0A>" a byte
  float score = 0;
  PieceKind kind = PieceKind::kNormal;
};

class Tokenizer {
 public:
  // Trains on `texts` (one sentence or document each) and writes `<dir>/tokenizer.model`.
  // InvalidArgument for an empty corpus or a vocabulary below 300 (byte fallback needs 256).
  static Status Train(const std::vector<std::string>& texts, const std::string& dir,
                      const TrainOptions& options);
  // NotFound / DataLoss when the file is missing or not a SentencePiece model, FailedPrecondition
  // when it lacks MedScribe's special tokens.
  static StatusOr<Tokenizer> Load(const std::string& model_path);
  static StatusOr<Tokenizer> FromBytes(const std::string& serialized);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<int> Encode(std::string_view text) const;
  std::string Decode(const std::vector<int>& ids) const;
  int vocab_size() const;
  // Id of a section token such as "<image>".
  int SpecialId(std::string_view token) const;
  // The vocabulary entry of `id` (0 <= id < vocab_size(); an empty normal piece otherwise), as
  // GGUF export writes it. User-defined symbols are told by their shape ("<...>", score 0).
  Piece PieceAt(int id) const;
  // The serialized model (what tokenizer.model holds).
  std::string Serialized() const;

 private:
  Tokenizer() = default;
  struct Handle;
  std::unique_ptr<Handle> sp_;
};

}  // namespace medscribe::tokenizer
