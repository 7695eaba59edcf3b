#include "tokenizer/tokenizer.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>

namespace medscribe::tokenizer {
namespace fs = std::filesystem;

namespace {

// The C interface of libmedscribe_spm (spm_module.cc).
struct Module {
  void (*free_buffer)(void*);
  void* (*load)(const char*, size_t, char**);
  void (*destroy)(void*);
  int (*encode)(void*, const char*, size_t, int**, size_t*);
  char* (*decode)(void*, const int*, size_t, size_t*);
  int (*piece_size)(void*);
  int (*piece_to_id)(void*, const char*, size_t);
  int (*special)(void*, int);
  char* (*serialized)(void*, size_t*);
  char* (*train)(const char*);
  char* (*piece)(void*, int, float*, int*, size_t*);
};

StatusOr<const Module*> LoadModule() {
  static std::once_flag once;
  static Module module;
  static Status status;
  std::call_once(once, [] {
    std::string path;
    if (const char* env = std::getenv("MEDSCRIBE_SPM_MODULE"); env && *env) {
      path = env;
    } else {
      std::error_code ec;
      path =
          (fs::read_symlink("/proc/self/exe", ec).parent_path() / "libmedscribe_spm.so").string();
    }
    // A link-map namespace of its own: SentencePiece, its embedded protobuf and its C++ runtime
    // are bound only to each other.
    void* h = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      status = FailedPreconditionError(
          "cannot load the SentencePiece module '" + path + "': " + dlerror() +
          " (it is built next to the medscribe binary; or set MEDSCRIBE_SPM_MODULE)");
      return;
    }
    auto sym = [&](const char* name) { return dlsym(h, name); };
    module.free_buffer = reinterpret_cast<void (*)(void*)>(sym("ms_spm_free_buffer"));
    module.load = reinterpret_cast<void* (*)(const char*, size_t, char**)>(sym("ms_spm_load"));
    module.destroy = reinterpret_cast<void (*)(void*)>(sym("ms_spm_delete"));
    module.encode =
        reinterpret_cast<int (*)(void*, const char*, size_t, int**, size_t*)>(sym("ms_spm_encode"));
    module.decode =
        reinterpret_cast<char* (*)(void*, const int*, size_t, size_t*)>(sym("ms_spm_decode"));
    module.piece_size = reinterpret_cast<int (*)(void*)>(sym("ms_spm_piece_size"));
    module.piece_to_id =
        reinterpret_cast<int (*)(void*, const char*, size_t)>(sym("ms_spm_piece_to_id"));
    module.special = reinterpret_cast<int (*)(void*, int)>(sym("ms_spm_special"));
    module.serialized = reinterpret_cast<char* (*)(void*, size_t*)>(sym("ms_spm_serialized"));
    module.train = reinterpret_cast<char* (*)(const char*)>(sym("ms_spm_train"));
    module.piece =
        reinterpret_cast<char* (*)(void*, int, float*, int*, size_t*)>(sym("ms_spm_piece"));
    if (!module.free_buffer || !module.load || !module.destroy || !module.encode ||
        !module.decode || !module.piece_size || !module.piece_to_id || !module.special ||
        !module.serialized || !module.train || !module.piece) {
      status = FailedPreconditionError("'" + path + "' is not MedScribe's SentencePiece module");
    }
  });
  if (!status.ok()) return status;
  return &module;
}

// Takes ownership of a malloc'd message from the module.
std::string Take(const Module& m, char* p) {
  std::string s = p ? p : "";
  m.free_buffer(p);
  return s;
}

}  // namespace

// Owns one processor of the module. Not copyable: it deletes the processor.
struct Tokenizer::Handle {
  const Module* m;
  void* sp;
  Handle(const Module* module, void* processor) : m(module), sp(processor) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { m->destroy(sp); }
};

Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;
Tokenizer::~Tokenizer() = default;

Status Tokenizer::Train(const std::vector<std::string>& texts, const std::string& dir,
                        const TrainOptions& o) {
  if (texts.empty()) return InvalidArgumentError("no text to train the tokenizer on");
  if (o.vocab_size < 300) return InvalidArgumentError("--vocab must be at least 300");
  for (const std::string& s : o.symbols) {
    if (s.empty() || s.find_first_of(", \t\r\n") != std::string::npos)
      return InvalidArgumentError("tokenizer symbol '" + s +
                                  "' must be non-empty, without commas or white space");
  }
  ASSIGN_OR_RETURN(const Module* m, LoadModule());
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
  for (const std::string& s : o.symbols) symbols += "," + s;
  const std::string args =
      "--input=" + corpus.string() + " --model_prefix=" + (fs::path(dir) / "tokenizer").string() +
      " --vocab_size=" + std::to_string(o.vocab_size) +
      " --model_type=unigram --byte_fallback=true --character_coverage=0.9995"
      " --split_digits=true --hard_vocab_limit=false --pad_id=0 --unk_id=1 --bos_id=2 --eos_id=3"
      " --user_defined_symbols=" +
      symbols + " --num_threads=" + std::to_string(std::max(1, o.threads)) +
      " --input_sentence_size=2000000 --shuffle_input_sentence=false --minloglevel=2";
  const std::string error = Take(*m, m->train(args.c_str()));
  fs::remove(corpus, ec);
  if (!error.empty()) return InternalError("tokenizer training failed: " + error);
  return OkStatus();
}

StatusOr<Tokenizer> Tokenizer::FromBytes(const std::string& serialized) {
  ASSIGN_OR_RETURN(const Module* m, LoadModule());
  char* error = nullptr;
  void* sp = m->load(serialized.data(), serialized.size(), &error);
  if (!sp) {
    Take(*m, error);
    return DataLossError("not a SentencePiece model");
  }
  Tokenizer t;
  t.sp_.reset(new Handle{m, sp});
  if (m->special(sp, 0) != kPadId || m->special(sp, 1) != kUnkId || m->special(sp, 2) != kBosId ||
      m->special(sp, 3) != kEosId) {
    return FailedPreconditionError(
        "the tokenizer's special ids differ from MedScribe's (pad 0, unk 1, bos 2, eos 3); train "
        "it with "
        "`medscribe tokenizer train`");
  }
  for (const char* s : kSectionTokens) {
    if (t.SpecialId(s) == kUnkId) {
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
  int* ids = nullptr;
  size_t n = 0;
  (void)sp_->m->encode(sp_->sp, text.data(), text.size(), &ids, &n);
  std::vector<int> out(ids, ids + n);
  sp_->m->free_buffer(ids);
  return out;
}

std::string Tokenizer::Decode(const std::vector<int>& ids) const {
  size_t n = 0;
  char* p = sp_->m->decode(sp_->sp, ids.data(), ids.size(), &n);
  std::string out(p ? p : "", p ? n : 0);
  sp_->m->free_buffer(p);
  return out;
}

int Tokenizer::vocab_size() const { return sp_->m->piece_size(sp_->sp); }
int Tokenizer::SpecialId(std::string_view token) const {
  return sp_->m->piece_to_id(sp_->sp, token.data(), token.size());
}
Piece Tokenizer::PieceAt(int id) const {
  Piece out;
  if (id < 0 || id >= vocab_size()) return out;
  float score = 0;
  int kind = 0;
  size_t n = 0;
  char* p = sp_->m->piece(sp_->sp, id, &score, &kind, &n);
  out.text.assign(p ? p : "", p ? n : 0);
  sp_->m->free_buffer(p);
  out.score = score;
  constexpr PieceKind kKinds[] = {PieceKind::kNormal, PieceKind::kUnknown, PieceKind::kControl,
                                  PieceKind::kUnused, PieceKind::kByte};
  out.kind = kind >= 0 && kind < 5 ? kKinds[kind] : PieceKind::kNormal;
  // SentencePiece's public API does not tell user-defined symbols; MedScribe's are all
  // "<name>" with score 0 and never begin a word (no "▁").
  if (out.kind == PieceKind::kNormal && score == 0 && out.text.size() > 2 &&
      out.text.front() == '<' && out.text.back() == '>')
    out.kind = PieceKind::kUserDefined;
  return out;
}

std::string Tokenizer::Serialized() const {
  size_t n = 0;
  char* p = sp_->m->serialized(sp_->sp, &n);
  std::string out(p ? p : "", p ? n : 0);
  sp_->m->free_buffer(p);
  return out;
}

}  // namespace medscribe::tokenizer
