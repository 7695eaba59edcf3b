#include "train/tensorboard.h"

#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>

namespace medscribe::train {
namespace {

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0x82F63B78u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t Masked(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

void Varint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}
void Key(int field, int wire, std::string& out) {
  Varint(static_cast<uint64_t>(field << 3 | wire), out);
}
void Bytes(int field, std::string_view b, std::string& out) {
  Key(field, 2, out);
  Varint(b.size(), out);
  out += b;
}
template <typename T>
void Fixed(int field, T v, std::string& out) {
  Key(field, sizeof(T) == 8 ? 1 : 5, out);
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));  // little-endian hosts
  out.append(buf, sizeof(T));
}

double Now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

uint32_t Crc32c(std::string_view data) {
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned char b : data) c = kTable[(c ^ b) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

StatusOr<EventWriter> EventWriter::Create(const std::string& dir) {
  const auto t = static_cast<long>(Now());
  const std::string path =
      (std::filesystem::path(dir) / ("events.out.tfevents." + std::to_string(t) + ".medscribe"))
          .string();
  std::ofstream out(path, std::ios::binary | std::ios::app);
  if (!out) return IoError("cannot create '" + path + "'");
  EventWriter w(std::move(out));
  std::string event;
  Fixed<double>(1, Now(), event);
  Bytes(3, "brain.Event:2", event);
  RETURN_IF_ERROR(w.Record(event));
  return w;
}

Status EventWriter::Scalar(const std::string& tag, double value, int64_t step) {
  std::string v;
  Bytes(1, tag, v);
  Fixed<float>(2, static_cast<float>(value), v);
  std::string summary;
  Bytes(1, v, summary);
  std::string event;
  Fixed<double>(1, Now(), event);
  Key(2, 0, event);
  Varint(static_cast<uint64_t>(step), event);
  Bytes(5, summary, event);
  return Record(event);
}

Status EventWriter::Record(const std::string& event) {
  char len[8];
  const uint64_t n = event.size();
  std::memcpy(len, &n, 8);
  const uint32_t len_crc = Masked(Crc32c(std::string_view(len, 8)));
  const uint32_t data_crc = Masked(Crc32c(event));
  out_.write(len, 8);
  out_.write(reinterpret_cast<const char*>(&len_crc), 4);
  out_.write(event.data(), static_cast<std::streamsize>(event.size()));
  out_.write(reinterpret_cast<const char*>(&data_crc), 4);
  out_.flush();
  return out_ ? OkStatus() : IoError("cannot write the TensorBoard event file");
}

}  // namespace medscribe::train
