// The SentencePiece report tokenizer as the ML core's text encoder (train/data.h).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "train/data.h"

namespace medscribe::cli {

class SentencePieceEncoder final : public train::TextEncoder {
 public:
  explicit SentencePieceEncoder(tokenizer::Tokenizer t) : t_(std::move(t)) {}
  std::vector<int> Encode(const std::string& text) const override { return t_.Encode(text); }
  std::string Decode(const std::vector<int>& ids) const override { return t_.Decode(ids); }
  int vocab_size() const override { return t_.vocab_size(); }
  int image_token() const override { return t_.SpecialId("<image>"); }
  int bos() const override { return tokenizer::kBosId; }
  int eos() const override { return tokenizer::kEosId; }
  int pad() const override { return tokenizer::kPadId; }
  const tokenizer::Tokenizer& tokenizer() const { return t_; }

 private:
  tokenizer::Tokenizer t_;
};

}  // namespace medscribe::cli
