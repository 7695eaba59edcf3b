#include "tokenizer/tokenizer.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace medscribe::tokenizer {
namespace fs = std::filesystem;

Tokenizer::Tokenizer() : sp_(std::make_unique<sentencepiece::SentencePieceProcessor>()) {}
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Status Tokenizer::Train(const std::vector<std::string>& texts, const std::string& dir,
                        const TrainOptions& o) {
  if (texts.empty()) return InvalidArgumentError("no text to train the tokenizer on");
  if (o.vocab_size < 300) return InvalidArgumentError("--vocab must be at least 300");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return IoError("cannot create '" + dir + "': " + ec.message());
  // SentencePiece reads its corpus from a file: one line per text, newlines inside a text become
  // spaces (sections of a report are lines).
  const fs::path corpus = fs::path(dir) / ".tokenizer-corpus.txt";
  {
    std::ofstream out(corpus, std::ios::trunc);
    for (const std::string& t : texts) {
      std::string line = t;
      for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
      }
      out << line << '\n';
    }
    if (!out.flush()) return IoError("cannot write '" + corpus.string() + "'");
  }
  std::string symbols;
  for (const char* s : kSectionTokens) symbols += (symbols.empty() ? "" : ",") + std::string(s);
  const std::string args =
      "--input=" + corpus.string() + " --model_prefix=" + (fs::path(dir) / "tokenizer").string() +
      " --vocab_size=" + std::to_string(o.vocab_size) +
      " --model_type=unigram --byte_fallback=true --character_coverage=0.9995"
      " --split_digits=true --hard_vocab_limit=false --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3"
      " --user_defined_symbols=" +
      symbols + " --num_threads=" + std::to_string(std::max(1, o.threads)) +
      " --input_sentence_size=2000000 --shuffle_input_sentence=false --minloglevel=2";
  const auto status = sentencepiece::SentencePieceTrainer::Train(args);
  fs::remove(corpus, ec);
  if (!status.ok()) return InternalError("tokenizer training failed: " + status.ToString());
  return OkStatus();
}

StatusOr<Tokenizer> Tokenizer::FromBytes(const std::string& serialized) {
  Tokenizer t;
  if (!t.sp_->LoadFromSerializedProto(serialized).ok()) {
    return DataLossError("not a SentencePiece model");
  }
  if (t.sp_->pad_id() != kPadId || t.sp_->unk_id() != kUnkId || t.sp_->bos_id() != kBosId ||
      t.sp_->eos_id() != kEosId) {
    return FailedPreconditionError(
        "the tokenizer's special ids differ from MedScribe's "
        "(pad 0, unk 1, bos 2, eos 3); train it with `medscribe tokenizer train`");
  }
  for (const char* s : kSectionTokens) {
    if (t.sp_->PieceToId(s) == t.sp_->unk_id()) {
      return FailedPreconditionError(std::string("the tokenizer lacks the section token ") + s);
    }
  }
  return t;
}

StatusOr<Tokenizer> Tokenizer::Load(const std::string& model_path) {
  std::ifstream in(model_path, std::ios::binary);
  if (!in) return NotFoundError("cannot open tokenizer '" + model_path + "'");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto t = FromBytes(bytes);
  if (!t.ok()) return Status(t.status().code(), model_path + ": " + t.status().message());
  return t;
}

std::vector<int> Tokenizer::Encode(std::string_view text) const {
  std::vector<int> ids;
  (void)sp_->Encode(text, &ids);
  return ids;
}

std::string Tokenizer::Decode(const std::vector<int>& ids) const {
  std::string text;
  (void)sp_->Decode(ids, &text);
  return text;
}

int Tokenizer::vocab_size() const { return sp_->GetPieceSize(); }
int Tokenizer::SpecialId(std::string_view token) const { return sp_->PieceToId(token); }
std::string Tokenizer::Serialized() const { return sp_->serialized_model_proto(); }

}  // namespace medscribe::tokenizer
