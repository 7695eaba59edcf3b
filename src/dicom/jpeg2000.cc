#include "dicom/jpeg2000.h"

#include <openjpeg.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>

namespace medscribe::dicom {
namespace {

// RAII for OpenJPEG's C handles.
struct CodecDeleter {
  void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
  void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
  void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};
using Codec = std::unique_ptr<opj_codec_t, CodecDeleter>;
using Stream = std::unique_ptr<opj_stream_t, StreamDeleter>;
using Image = std::unique_ptr<opj_image_t, ImageDeleter>;

// OpenJPEG reports through callbacks; the first error is kept for the Status.
struct Messages {
  std::string error;
};
void OnError(const char* msg, void* user) {
  auto* m = static_cast<Messages*>(user);
  if (m->error.empty()) {
    m->error = msg;
    while (!m->error.empty() && (m->error.back() == '\n' || m->error.back() == ' '))
      m->error.pop_back();
  }
}
void Ignore(const char*, void*) {}

// A read-only stream over caller-owned bytes.
struct ReadBuffer {
  const uint8_t* data;
  size_t size, offset = 0;
};
OPJ_SIZE_T Read(void* out, OPJ_SIZE_T n, void* user) {
  auto* b = static_cast<ReadBuffer*>(user);
  if (b->offset >= b->size) return static_cast<OPJ_SIZE_T>(-1);
  const size_t k = std::min<size_t>(n, b->size - b->offset);
  std::memcpy(out, b->data + b->offset, k);
  b->offset += k;
  return k;
}
OPJ_OFF_T Skip(OPJ_OFF_T n, void* user) {
  auto* b = static_cast<ReadBuffer*>(user);
  if (n < 0) {
    const size_t back = std::min<size_t>(static_cast<size_t>(-n), b->offset);
    b->offset -= back;
    return -static_cast<OPJ_OFF_T>(back);
  }
  const size_t k = std::min<size_t>(static_cast<size_t>(n), b->size - b->offset);
  b->offset += k;
  return static_cast<OPJ_OFF_T>(k);
}
OPJ_BOOL Seek(OPJ_OFF_T to, void* user) {
  auto* b = static_cast<ReadBuffer*>(user);
  if (to < 0 || static_cast<size_t>(to) > b->size) return OPJ_FALSE;
  b->offset = static_cast<size_t>(to);
  return OPJ_TRUE;
}

// A growing stream for the encoder.
struct WriteBuffer {
  std::string data;
  size_t offset = 0;
};
OPJ_SIZE_T Write(void* in, OPJ_SIZE_T n, void* user) {
  auto* b = static_cast<WriteBuffer*>(user);
  if (b->offset + n > b->data.size()) b->data.resize(b->offset + n);
  std::memcpy(b->data.data() + b->offset, in, n);
  b->offset += n;
  return n;
}
OPJ_OFF_T WriteSkip(OPJ_OFF_T n, void* user) {
  auto* b = static_cast<WriteBuffer*>(user);
  if (n < 0 && static_cast<size_t>(-n) > b->offset) return -1;
  b->offset = static_cast<size_t>(static_cast<OPJ_OFF_T>(b->offset) + n);
  if (b->offset > b->data.size()) b->data.resize(b->offset);
  return n;
}
OPJ_BOOL WriteSeek(OPJ_OFF_T to, void* user) {
  auto* b = static_cast<WriteBuffer*>(user);
  if (to < 0) return OPJ_FALSE;
  b->offset = static_cast<size_t>(to);
  if (b->offset > b->data.size()) b->data.resize(b->offset);
  return OPJ_TRUE;
}

constexpr unsigned char kJp2Signature[] = {0x00, 0x00, 0x00, 0x0C, 0x6A, 0x50,
                                           0x20, 0x20, 0x0D, 0x0A, 0x87, 0x0A};

}  // namespace

StatusOr<Jpeg2000Frame> DecodeJpeg2000(std::string_view bytes, const Jpeg2000Geometry& expect) {
  OPJ_CODEC_FORMAT format;
  const auto* u = reinterpret_cast<const uint8_t*>(bytes.data());
  if (bytes.size() >= sizeof(kJp2Signature) &&
      std::memcmp(u, kJp2Signature, sizeof(kJp2Signature)) == 0) {
    format = OPJ_CODEC_JP2;
  } else if (bytes.size() >= 4 && u[0] == 0xFF && u[1] == 0x4F && u[2] == 0xFF && u[3] == 0x51) {
    format = OPJ_CODEC_J2K;
  } else {
    return InvalidArgumentError(
        "the frame is not a JPEG 2000 codestream (no SOC/SIZ marker or JP2 signature)");
  }
  Messages messages;
  Codec codec(opj_create_decompress(format));
  if (!codec) return InternalError("cannot create a JPEG 2000 decoder");
  opj_set_error_handler(codec.get(), OnError, &messages);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  opj_dparameters_t params;
  opj_set_default_decoder_parameters(&params);
  if (!opj_setup_decoder(codec.get(), &params))
    return InternalError("cannot set up the JPEG 2000 decoder: " + messages.error);
  // A codestream cut short is an error, never an image of fewer quality layers.
  opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);
  ReadBuffer buffer{u, bytes.size()};
  Stream stream(opj_stream_create(64 * 1024, OPJ_TRUE));
  if (!stream) return InternalError("cannot create a JPEG 2000 stream");
  opj_stream_set_user_data(stream.get(), &buffer, nullptr);
  opj_stream_set_user_data_length(stream.get(), bytes.size());
  opj_stream_set_read_function(stream.get(), Read);
  opj_stream_set_skip_function(stream.get(), Skip);
  opj_stream_set_seek_function(stream.get(), Seek);
  opj_image_t* raw = nullptr;
  if (!opj_read_header(stream.get(), codec.get(), &raw)) {
    // OpenJPEG reads Part 2 codestreams but not their array-based multi-component transforms.
    if (messages.error.find("multiple component transformation") != std::string::npos)
      return UnimplementedError(
          "the JPEG 2000 codestream uses a Part 2 array-based multi-component transform, which "
          "OpenJPEG does not decode");
    return DataLossError("the JPEG 2000 header cannot be read: " + messages.error);
  }
  Image image(raw);
  // The geometry, before the decoder allocates anything the size of the image.
  const int64_t width = static_cast<int64_t>(image->x1) - image->x0;
  const int64_t height = static_cast<int64_t>(image->y1) - image->y0;
  auto declared = [&] {
    return std::to_string(expect.columns) + " x " + std::to_string(expect.rows) + " with " +
           std::to_string(expect.components) + " sample(s) of at most " +
           std::to_string(expect.bits_allocated) + " bits";
  };
  if (width != expect.columns || height != expect.rows ||
      static_cast<int>(image->numcomps) != expect.components)
    return DataLossError("the JPEG 2000 frame is " + std::to_string(width) + " x " +
                         std::to_string(height) + " with " + std::to_string(image->numcomps) +
                         " component(s) but the DICOM header declares " + declared());
  for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.dx != 1 || comp.dy != 1)
      return DataLossError("the JPEG 2000 frame subsamples component " + std::to_string(c) +
                           ", which DICOM does not allow");
    if (comp.prec == 0 || static_cast<int>(comp.prec) > std::min(expect.bits_allocated, 31))
      return DataLossError("the JPEG 2000 frame stores " + std::to_string(comp.prec) +
                           "-bit samples but the DICOM header declares " + declared());
  }
  if (!opj_decode(codec.get(), stream.get(), image.get()) ||
      !opj_end_decompress(codec.get(), stream.get()))
    return DataLossError(
        "the JPEG 2000 frame cannot be decoded: " +
        (messages.error.empty() ? std::string("damaged codestream") : messages.error));
  Jpeg2000Frame out;
  out.rows = static_cast<int>(height);
  out.columns = static_cast<int>(width);
  out.components = static_cast<int>(image->numcomps);
  out.precision = static_cast<int>(image->comps[0].prec);
  out.is_signed = image->comps[0].sgnd != 0;
  const size_t plane = static_cast<size_t>(width) * static_cast<size_t>(height);
  out.samples.resize(plane * image->numcomps);
  for (OPJ_UINT32 c = 0; c < image->numcomps; ++c) {
    const opj_image_comp_t& comp = image->comps[c];
    if (comp.data == nullptr || static_cast<int64_t>(comp.w) != width ||
        static_cast<int64_t>(comp.h) != height)
      return DataLossError("the JPEG 2000 decoder returned a partial image");
    std::copy_n(comp.data, plane, out.samples.begin() + static_cast<long>(c * plane));
  }
  return out;
}

StatusOr<std::string> EncodeJpeg2000Lossless(const std::vector<int32_t>& values, int rows,
                                             int columns, int precision, bool is_signed,
                                             int components, bool color_transform) {
  const size_t plane = static_cast<size_t>(rows) * static_cast<size_t>(columns);
  if (rows <= 0 || columns <= 0 || precision < 1 || precision > 16 ||
      (components != 1 && components != 3) || values.size() != plane * components)
    return InvalidArgumentError(
        "JPEG 2000 encoding needs 1 or 3 planes of rows x columns values of 1-16 bits");
  std::vector<opj_image_cmptparm_t> comps(static_cast<size_t>(components));
  for (auto& comp : comps) {
    comp = opj_image_cmptparm_t{};
    comp.dx = comp.dy = 1;
    comp.w = static_cast<OPJ_UINT32>(columns);
    comp.h = static_cast<OPJ_UINT32>(rows);
    comp.prec = static_cast<OPJ_UINT32>(precision);
    comp.sgnd = is_signed ? 1 : 0;
  }
  Image image(opj_image_create(static_cast<OPJ_UINT32>(components), comps.data(),
                               components == 3 ? OPJ_CLRSPC_SRGB : OPJ_CLRSPC_GRAY));
  if (!image) return InternalError("cannot create a JPEG 2000 image");
  image->x0 = image->y0 = 0;
  image->x1 = static_cast<OPJ_UINT32>(columns);
  image->y1 = static_cast<OPJ_UINT32>(rows);
  for (int c = 0; c < components; ++c)
    std::copy_n(values.begin() + static_cast<long>(plane * static_cast<size_t>(c)), plane,
                image->comps[c].data);
  opj_cparameters_t params;
  opj_set_default_encoder_parameters(&params);
  params.irreversible = 0;  // reversible 5/3 wavelet: lossless
  params.tcp_numlayers = 1;
  params.tcp_rates[0] = 0;  // no rate limit
  params.cp_disto_alloc = 1;
  // The reversible color transform (YBR_RCT) for RGB planes; none for planes already in YBR.
  params.tcp_mct = components == 3 && color_transform ? 1 : 0;
  params.numresolution =
      std::max(1, std::min(6, 1 + static_cast<int>(std::log2(std::min(rows, columns)))));
  Messages messages;
  Codec codec(opj_create_compress(OPJ_CODEC_J2K));
  if (!codec) return InternalError("cannot create a JPEG 2000 encoder");
  opj_set_error_handler(codec.get(), OnError, &messages);
  opj_set_warning_handler(codec.get(), Ignore, nullptr);
  opj_set_info_handler(codec.get(), Ignore, nullptr);
  if (!opj_setup_encoder(codec.get(), &params, image.get()))
    return InternalError("cannot set up the JPEG 2000 encoder: " + messages.error);
  WriteBuffer out;
  Stream stream(opj_stream_create(64 * 1024, OPJ_FALSE));
  if (!stream) return InternalError("cannot create a JPEG 2000 stream");
  opj_stream_set_user_data(stream.get(), &out, nullptr);
  opj_stream_set_write_function(stream.get(), Write);
  opj_stream_set_skip_function(stream.get(), WriteSkip);
  opj_stream_set_seek_function(stream.get(), WriteSeek);
  if (!opj_start_compress(codec.get(), image.get(), stream.get()) ||
      !opj_encode(codec.get(), stream.get()) || !opj_end_compress(codec.get(), stream.get()))
    return InternalError("JPEG 2000 encoding failed: " + messages.error);
  return std::move(out.data);
}

}  // namespace medscribe::dicom
