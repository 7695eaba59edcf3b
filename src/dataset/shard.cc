#include "dataset/shard.h"

#include <archive.h>
#include <archive_entry.h>

#include "common/files.h"
#include "crypto/hmac.h"

namespace medscribe::dataset {
namespace {

bool SafeName(const std::string& name) {
  return !name.empty() && name.size() <= 100 && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos && name != "." && name != ".." &&
         name.find('.') != std::string::npos && name[0] != '.';
}

// Frees a libarchive handle on scope exit.
struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};

}  // namespace

StatusOr<std::unique_ptr<ShardWriter>> ShardWriter::Create(const std::string& path) {
  std::unique_ptr<ShardWriter> w(new ShardWriter(path));
  w->a_ = archive_write_new();
  if (w->a_ == nullptr) return InternalError("libarchive: cannot create a writer");
  if (archive_write_set_format_ustar(w->a_) != ARCHIVE_OK ||
      archive_write_open_filename(w->a_, path.c_str()) != ARCHIVE_OK) {
    return IoError("cannot create shard '" + path + "': " + archive_error_string(w->a_));
  }
  return w;
}

ShardWriter::~ShardWriter() {
  if (a_ != nullptr) archive_write_free(a_);
}

Status ShardWriter::Add(const std::string& name, std::string_view data) {
  if (a_ == nullptr) return FailedPreconditionError("shard already finished");
  if (!SafeName(name)) return InvalidArgumentError("invalid shard member name '" + name + "'");
  archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name.c_str());
  archive_entry_set_size(e, static_cast<la_int64_t>(data.size()));
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_mtime(e, 0, 0);
  archive_entry_set_uid(e, 0);
  archive_entry_set_gid(e, 0);
  int rc = archive_write_header(a_, e);
  archive_entry_free(e);
  if (rc != ARCHIVE_OK)
    return IoError(std::string("cannot write shard member header: ") + archive_error_string(a_));
  if (!data.empty() &&
      archive_write_data(a_, data.data(), data.size()) != static_cast<la_ssize_t>(data.size())) {
    return IoError(std::string("cannot write shard member: ") + archive_error_string(a_));
  }
  ++members_;
  return OkStatus();
}

StatusOr<ShardSummary> ShardWriter::Finish() {
  if (a_ == nullptr) return FailedPreconditionError("shard already finished");
  const int rc = archive_write_close(a_);
  archive_write_free(a_);
  a_ = nullptr;
  if (rc != ARCHIVE_OK) return IoError("cannot finish shard '" + path_ + "'");
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path_));
  ShardSummary s;
  s.path = path_;
  s.sha256 = crypto::Hex(crypto::Sha256(bytes));
  s.bytes = bytes.size();
  s.members = members_;
  return s;
}

StatusOr<std::vector<ShardMember>> ReadShard(std::string_view bytes, const ShardLimits& limits) {
  std::unique_ptr<archive, ReadCloser> a(archive_read_new());
  if (!a) return InternalError("libarchive: cannot create a reader");
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return DataLossError(std::string("not a tar shard: ") + archive_error_string(a.get()));
  }
  std::vector<ShardMember> members;
  uint64_t total = 0;
  archive_entry* e = nullptr;
  while (true) {
    const int rc = archive_read_next_header(a.get(), &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK)
      return DataLossError(std::string("corrupt shard: ") + archive_error_string(a.get()));
    const char* path = archive_entry_pathname(e);
    ShardMember m;
    m.name = path ? path : "";
    if (archive_entry_filetype(e) != AE_IFREG) {
      return InvalidArgumentError("shard member '" + m.name + "' is not a regular file");
    }
    if (!SafeName(m.name))
      return InvalidArgumentError("shard member name '" + m.name + "' is not <key>.<field>");
    const la_int64_t size = archive_entry_size(e);
    if (size < 0 || static_cast<uint64_t>(size) > limits.max_member_bytes) {
      return Status(ErrorCode::kResourceExhausted,
                    "shard member '" + m.name + "' exceeds the size limit");
    }
    total += static_cast<uint64_t>(size);
    if (members.size() >= limits.max_members || total > limits.max_total_bytes) {
      return Status(ErrorCode::kResourceExhausted, "shard exceeds the member or size limit");
    }
    m.data.resize(static_cast<size_t>(size));
    const la_ssize_t n = size ? archive_read_data(a.get(), m.data.data(), m.data.size()) : 0;
    if (n != size) return DataLossError("shard member '" + m.name + "' is truncated");
    members.push_back(std::move(m));
  }
  return members;
}

}  // namespace medscribe::dataset
