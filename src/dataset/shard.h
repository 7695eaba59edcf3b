// WebDataset shards: POSIX tar files whose members are named "<key>.<field>" (e.g.
// "enc-000001.json", "enc-000001.img.npy"); the members of one sample are adjacent.
//
// Writing is deterministic (ustar headers with mtime 0, uid/gid 0, mode 0644, members in the order
// added), so the same samples give a byte-identical shard and the same SHA-256. Reading treats the
// file as untrusted: only regular members with plain relative names, size limits checked from the
// headers before any data is read.
//
// Example:
//   ASSIGN_OR_RETURN(auto w, ShardWriter::Create("train-000000.tar"));
//   RETURN_IF_ERROR(w->Add("enc-000001.json", json));
//   ASSIGN_OR_RETURN(ShardSummary s, w->Finish());
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct archive;  // libarchive handle

namespace medscribe::dataset {

struct ShardSummary {
  std::string path;
  std::string sha256;  // hex of the whole file
  uint64_t bytes = 0;
  uint64_t members = 0;
};

class ShardWriter {
 public:
  static StatusOr<std::unique_ptr<ShardWriter>> Create(const std::string& path);
  ~ShardWriter();
  ShardWriter(const ShardWriter&) = delete;
  ShardWriter& operator=(const ShardWriter&) = delete;

  // REQUIRES: name is "<key>.<field>" without '/' and at most 100 bytes.
  Status Add(const std::string& name, std::string_view data);
  // Closes the file and hashes it. No Add afterwards.
  StatusOr<ShardSummary> Finish();

 private:
  explicit ShardWriter(std::string path) : path_(std::move(path)) {}
  std::string path_;
  ::archive* a_ = nullptr;
  uint64_t members_ = 0;
};

struct ShardLimits {
  uint64_t max_member_bytes = uint64_t{64} << 20;
  uint64_t max_members = 1u << 20;
  uint64_t max_total_bytes = uint64_t{4} << 30;
};

struct ShardMember {
  std::string name;  // "<key>.<field>"
  std::string data;
  std::string key() const { return name.substr(0, name.find('.')); }
  std::string field() const {
    const size_t dot = name.find('.');
    return dot == std::string::npos ? std::string() : name.substr(dot + 1);
  }
};

// Reads every member. DataLoss for a corrupt or truncated tar, InvalidArgument for members that
// are not regular files or have unsafe names, ResourceExhausted beyond the limits.
StatusOr<std::vector<ShardMember>> ReadShard(std::string_view bytes,
                                             const ShardLimits& limits = {});

}  // namespace medscribe::dataset
