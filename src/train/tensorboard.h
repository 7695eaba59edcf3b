// A TensorBoard event file writer (scalars only), so that `tensorboard --logdir RUN_DIR` plots a
// run. Format: TFRecord framing (length, masked CRC-32C of the length, data, masked CRC-32C of the
// data) around tensorflow.Event protocol buffers, encoded here by hand (fields: wall_time 1,
// step 2, file_version 3, summary 5; Summary.value 1; Value.tag 1, Value.simple_value 2).
//
// Thread safety: not thread-safe.
#pragma once

#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace medscribe::train {

uint32_t Crc32c(std::string_view data);

class EventWriter {
 public:
  // Creates `dir`/events.out.tfevents.<time>.medscribe and writes the version record.
  static StatusOr<EventWriter> Create(const std::string& dir);
  Status Scalar(const std::string& tag, double value, int64_t step);

 private:
  explicit EventWriter(std::ofstream out) : out_(std::move(out)) {}
  Status Record(const std::string& event);
  std::ofstream out_;
};

}  // namespace medscribe::train
