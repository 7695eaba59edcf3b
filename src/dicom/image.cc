#include "dicom/image.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmimage/diregist.h>  // color images (RGB, YBR, palette)
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "dicom/dcmtk_access.h"
#include "dicom/info.h"
#include "dicom/jpeg2000.h"
#include "dicom/jpeg_header.h"

namespace medscribe::dicom {
namespace {

template <typename T>
void AppendAsFloat(const void* data, size_t n, double slope, double intercept,
                   std::vector<float>& out) {
  const T* p = static_cast<const T*>(data);
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<float>(p[i] * slope + intercept));
}

Status ConvertInterData(const DiPixel* px, size_t n, double slope, double intercept,
                        std::vector<float>& out) {
  out.reserve(n);
  const void* d = px->getData();
  switch (px->getRepresentation()) {
    case EPR_Uint8:
      AppendAsFloat<Uint8>(d, n, slope, intercept, out);
      break;
    case EPR_Sint8:
      AppendAsFloat<Sint8>(d, n, slope, intercept, out);
      break;
    case EPR_Uint16:
      AppendAsFloat<Uint16>(d, n, slope, intercept, out);
      break;
    case EPR_Sint16:
      AppendAsFloat<Sint16>(d, n, slope, intercept, out);
      break;
    case EPR_Uint32:
      AppendAsFloat<Uint32>(d, n, slope, intercept, out);
      break;
    case EPR_Sint32:
      AppendAsFloat<Sint32>(d, n, slope, intercept, out);
      break;
    default:
      return InternalError("unexpected pixel representation");
  }
  return OkStatus();
}

// The first `frames` frames of Float Pixel Data (32 bits) or Double Float Pixel Data (64 bits),
// as DCMTK read them in the machine's byte order. DataLoss when the element holds fewer values
// than the frames need.
StatusOr<std::vector<float>> FloatPixelValues(DcmDataset* ds, const DicomInfo& info, int frames) {
  const size_t frame = static_cast<size_t>(info.rows) * static_cast<size_t>(info.columns);
  const size_t need = frame * static_cast<size_t>(info.frames);
  const bool single = info.float_bits == 32;
  const std::string name = single ? "Float Pixel Data" : "Double Float Pixel Data";
  unsigned long count = 0;
  const Float32* f32 = nullptr;
  const Float64* f64 = nullptr;
  const bool read =
      single ? ds->findAndGetFloat32Array(DCM_FloatPixelData, f32, &count).good() && f32
             : ds->findAndGetFloat64Array(DCM_DoubleFloatPixelData, f64, &count).good() && f64;
  if (!read) return DataLossError("cannot read " + name);
  if (count < need) {
    return DataLossError(name + " holds " + std::to_string(count) +
                         " values; rows x columns x frames needs " + std::to_string(need));
  }
  std::vector<float> out(frame * static_cast<size_t>(frames));
  for (size_t i = 0; i < out.size(); ++i) out[i] = single ? f32[i] : static_cast<float>(f64[i]);
  return out;
}

// A JPEG 2000 sample as the DICOM header declares it. Where the codestream's signedness
// disagrees with Pixel Representation (some encoders write signed CT values as unsigned), the
// value's BitsStored bits are read as the header says: two's complement when it says signed.
int64_t AsDeclared(int32_t v, const Jpeg2000Frame& frame, const DicomInfo& info) {
  const bool header_signed = info.pixel_representation == 1;
  if (header_signed == frame.is_signed) return v;
  const int bits = std::clamp(info.bits_stored > 0 ? info.bits_stored : frame.precision, 1, 31);
  const int64_t range = int64_t{1} << bits;
  const int64_t stored = static_cast<int64_t>(v) & (range - 1);
  return header_signed && stored >= range / 2 ? stored - range : stored;
}

bool IsJpegFamily(E_TransferSyntax xfer) {
  switch (xfer) {
    case EXS_JPEGProcess1:
    case EXS_JPEGProcess2_4:
    case EXS_JPEGProcess14:
    case EXS_JPEGProcess14SV1:
    case EXS_JPEGLSLossless:
    case EXS_JPEGLSLossy:
      return true;
    default:
      return false;
  }
}

// Checks that every compressed frame declares the geometry of the DICOM header, before any
// decoder runs (see jpeg_header.h).
Status CheckJpegFrames(DcmDataset* ds, E_TransferSyntax xfer, const DicomInfo& info) {
  DcmPixelSequence* seq = PixelFragments(ds, xfer, nullptr);
  if (seq == nullptr) return DataLossError("compressed pixel data has no fragments");
  int frames_seen = 0;
  for (unsigned long i = 1; i < seq->card(); ++i) {  // item 0 is the basic offset table
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (!FragmentAt(seq, i, item, data)) continue;
    const Uint32 n = item->getLength();
    // The first fragment must open a frame (decoders read it to learn the bit depth); later
    // fragments either open a frame or continue one.
    if (i > 1 && (n < 2 || data[0] != 0xFF || data[1] != 0xD8)) continue;
    ASSIGN_OR_RETURN(JpegFrameHeader h, ReadJpegFrameHeader(data, n));
    if (h.width != info.columns || (h.height != info.rows && h.height != 0) || h.precision > 16) {
      return DataLossError("compressed frame is " + std::to_string(h.width) + " x " +
                           std::to_string(h.height) + " but the DICOM header says " +
                           std::to_string(info.columns) + " x " + std::to_string(info.rows));
    }
    ++frames_seen;
  }
  if (frames_seen == 0) return DataLossError("compressed pixel data holds no JPEG frame");
  return OkStatus();
}

// The bytes of the first `wanted` frames of encapsulated pixel data: located by the basic
// offset table when it has entries, else one fragment per frame when the counts agree, else
// all fragments as one frame when there is one, else split where a fragment opens a new
// JPEG 2000 codestream (SOC marker FF 4F). DataLoss when the frames cannot be told apart.
StatusOr<std::vector<std::string>> FrameBytes(DcmPixelSequence* seq, int frames, int wanted) {
  struct Fragment {
    uint64_t position;  // from the first fragment's item tag, as offset tables count
    const Uint8* data;
    Uint32 size;
  };
  std::vector<Fragment> fragments;
  uint64_t position = 0;
  for (unsigned long i = 1; i < seq->card(); ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (!FragmentAt(seq, i, item, data)) {
      if (item != nullptr && item->getLength() == 0) {
        position += 8;
        continue;
      }
      return DataLossError("fragment " + std::to_string(i) + " of the pixel data cannot be read");
    }
    fragments.push_back({position, data, item->getLength()});
    position += 8 + static_cast<uint64_t>(item->getLength());
  }
  if (fragments.empty()) return DataLossError("compressed pixel data holds no fragment");
  std::vector<uint64_t> starts;  // the first fragment of each frame, by index
  DcmPixelItem* table = nullptr;
  Uint8* table_data = nullptr;
  if (seq->getItem(table, 0).good() && table->getLength() >= 4 &&
      table->getUint8Array(table_data).good() && table_data != nullptr) {
    const Uint32 entries = table->getLength() / 4;
    size_t k = 0;
    for (Uint32 e = 0; e < entries; ++e) {
      const uint64_t offset = static_cast<uint64_t>(table_data[4 * e]) |
                              static_cast<uint64_t>(table_data[4 * e + 1]) << 8 |
                              static_cast<uint64_t>(table_data[4 * e + 2]) << 16 |
                              static_cast<uint64_t>(table_data[4 * e + 3]) << 24;
      while (k < fragments.size() && fragments[k].position < offset) ++k;
      if (k == fragments.size() || fragments[k].position != offset)
        return DataLossError("the basic offset table points between fragments (entry " +
                             std::to_string(e) + ")");
      starts.push_back(k);
    }
  } else if (static_cast<size_t>(frames) == fragments.size()) {
    for (size_t k = 0; k < fragments.size(); ++k) starts.push_back(k);
  } else if (frames == 1) {
    starts.push_back(0);
  } else {
    for (size_t k = 0; k < fragments.size(); ++k)
      if (fragments[k].size >= 2 && fragments[k].data[0] == 0xFF && fragments[k].data[1] == 0x4F)
        starts.push_back(k);
  }
  if (starts.size() != static_cast<size_t>(frames) || starts.front() != 0)
    return DataLossError("the pixel data holds " + std::to_string(starts.size()) +
                         " frame(s) but the header declares " + std::to_string(frames));
  std::vector<std::string> out;
  for (int f = 0; f < wanted; ++f) {
    const size_t first = starts[static_cast<size_t>(f)];
    const size_t end = f + 1 < frames ? starts[static_cast<size_t>(f) + 1] : fragments.size();
    std::string bytes;
    for (size_t k = first; k < end; ++k)
      bytes.append(reinterpret_cast<const char*>(fragments[k].data), fragments[k].size);
    out.push_back(std::move(bytes));
  }
  return out;
}

// The first `wanted` frames of JPEG 2000 pixel data, each codestream's geometry checked against
// the header (samples per pixel included) before it is decoded.
StatusOr<std::vector<Jpeg2000Frame>> DecodeJpeg2000Frames(DcmDataset* ds, E_TransferSyntax xfer,
                                                          const DicomInfo& info, int wanted) {
  DcmPixelSequence* seq = PixelFragments(ds, xfer, nullptr);
  if (seq == nullptr) return DataLossError("compressed pixel data has no fragments");
  ASSIGN_OR_RETURN(std::vector<std::string> bytes, FrameBytes(seq, info.frames, wanted));
  const Jpeg2000Geometry expect{info.rows, info.columns, info.samples_per_pixel,
                                info.bits_allocated > 0 ? info.bits_allocated : 16};
  std::vector<Jpeg2000Frame> frames;
  for (size_t f = 0; f < bytes.size(); ++f) {
    auto frame = DecodeJpeg2000(bytes[f], expect);
    if (!frame.ok())
      return Status(frame.status().code(),
                    "frame " + std::to_string(f + 1) + ": " + frame.status().message());
    frames.push_back(std::move(*frame));
  }
  return frames;
}

// The linear VOI function of PS3.3 C.11.2.1.2.1, scaled to [0, 1].
double VoiLinear(double x, double center, double width) {
  const double c = center - 0.5, w = width - 1;
  if (w <= 0) return x <= c ? 0.0 : 1.0;
  if (x <= c - w / 2) return 0.0;
  if (x > c + w / 2) return 1.0;
  return (x - c) / w + 0.5;
}

// Weights of one output coordinate over the input: area averaging when shrinking (every input
// pixel counts), linear interpolation between pixel centers when enlarging.
struct Taps {
  size_t first = 0;
  std::vector<float> weights;
};
std::vector<Taps> ResampleTaps(size_t in, size_t out) {
  std::vector<Taps> taps(out);
  const double ratio = static_cast<double>(in) / out;
  for (size_t o = 0; o < out; ++o) {
    Taps& t = taps[o];
    if (ratio > 1) {
      const double a = o * ratio, b = (o + 1) * ratio;
      t.first = static_cast<size_t>(a);
      const size_t last = std::min(in - 1, static_cast<size_t>(std::ceil(b)) - 1);
      for (size_t i = t.first; i <= last; ++i) {
        const double overlap = std::min<double>(b, i + 1) - std::max<double>(a, i);
        t.weights.push_back(static_cast<float>(std::max(0.0, overlap) / ratio));
      }
    } else {
      const double x = std::clamp((o + 0.5) * ratio - 0.5, 0.0, static_cast<double>(in - 1));
      t.first = static_cast<size_t>(x);
      const double f = x - t.first;
      t.weights.push_back(static_cast<float>(1 - f));
      if (t.first + 1 < in) t.weights.push_back(static_cast<float>(f));
    }
  }
  return taps;
}

// Separable resampling of a rows x cols image to h x w.
std::vector<float> Resize(const std::vector<float>& in, size_t rows, size_t cols, size_t h,
                          size_t w) {
  const std::vector<Taps> tx = ResampleTaps(cols, w), ty = ResampleTaps(rows, h);
  std::vector<float> horizontal(rows * w);
  for (size_t y = 0; y < rows; ++y) {
    for (size_t x = 0; x < w; ++x) {
      float acc = 0;
      for (size_t k = 0; k < tx[x].weights.size(); ++k)
        acc += tx[x].weights[k] * in[y * cols + tx[x].first + k];
      horizontal[y * w + x] = acc;
    }
  }
  std::vector<float> out(h * w);
  for (size_t y = 0; y < h; ++y) {
    for (size_t x = 0; x < w; ++x) {
      float acc = 0;
      for (size_t k = 0; k < ty[y].weights.size(); ++k)
        acc += ty[y].weights[k] * horizontal[(ty[y].first + k) * w + x];
      out[y * w + x] = std::clamp(acc, 0.0f, 1.0f);
    }
  }
  return out;
}

// One frame of values in [0, 1] resized to fit size x size with the aspect ratio kept, centered,
// the rest 0.
DecodedImage FitToSquare(const std::vector<float>& values, size_t rows, size_t cols, int size) {
  DecodedImage out;
  const double scale = static_cast<double>(size) / std::max(rows, cols);
  const auto w = static_cast<size_t>(std::clamp<long>(std::lround(cols * scale), 1, size));
  const auto h = static_cast<size_t>(std::clamp<long>(std::lround(rows * scale), 1, size));
  const std::vector<float> resized = Resize(values, rows, cols, h, w);
  out.rows = out.cols = size;
  out.pixels.assign(static_cast<size_t>(size) * size, 0.0f);
  const size_t x0 = (size - w) / 2, y0 = (size - h) / 2;
  for (size_t y = 0; y < h; ++y)
    std::copy_n(resized.begin() + y * w, w, out.pixels.begin() + (y0 + y) * size + x0);
  return out;
}

// One axis of PlaceAtSpacing: the source pixels [src_first, src_first + src_count) become the
// output pixels [out_first, out_first + out_count), centered; `scale` is output pixels per
// source pixel.
struct AxisSpan {
  size_t src_first, src_count, out_first, out_count;
};
AxisSpan PlaceAxis(size_t n, double scale, int size) {
  const double full = static_cast<double>(n) * scale;
  if (full <= size) {
    const auto out = static_cast<size_t>(std::clamp<long>(std::lround(full), 1, size));
    return {0, n, (size - out) / 2, out};
  }
  const auto src =
      static_cast<size_t>(std::clamp<long>(std::lround(size / scale), 1, static_cast<long>(n)));
  return {(n - src) / 2, src, 0, static_cast<size_t>(size)};
}

// One frame of values in [0, 1] resampled so that an output pixel spans `mm` mm, centered in
// size x size, cropped or padded with 0. REQUIRES: row_mm, col_mm, mm > 0.
DecodedImage PlaceAtSpacing(const std::vector<float>& values, size_t rows, size_t cols, int size,
                            double row_mm, double col_mm, double mm) {
  const AxisSpan y = PlaceAxis(rows, row_mm / mm, size), x = PlaceAxis(cols, col_mm / mm, size);
  std::vector<float> crop(y.src_count * x.src_count);
  for (size_t r = 0; r < y.src_count; ++r)
    std::copy_n(values.begin() + (y.src_first + r) * cols + x.src_first, x.src_count,
                crop.begin() + r * x.src_count);
  const std::vector<float> resized =
      Resize(crop, y.src_count, x.src_count, y.out_count, x.out_count);
  DecodedImage out;
  out.rows = out.cols = size;
  out.mm_per_pixel = mm;
  out.pixels.assign(static_cast<size_t>(size) * size, 0.0f);
  for (size_t r = 0; r < y.out_count; ++r)
    std::copy_n(resized.begin() + r * x.out_count, x.out_count,
                out.pixels.begin() + (y.out_first + r) * size + x.out_first);
  return out;
}

// The display image of one frame: at the requested spacing when it and the image's are known,
// else fitted.
DecodedImage Place(const std::vector<float>& values, size_t rows, size_t cols,
                   const DicomInfo& info, const ImageDecodeOptions& o) {
  if (o.mm_per_pixel > 0 && info.row_spacing_mm > 0 && info.column_spacing_mm > 0)
    return PlaceAtSpacing(values, rows, cols, o.size, info.row_spacing_mm, info.column_spacing_mm,
                          o.mm_per_pixel);
  return FitToSquare(values, rows, cols, o.size);
}

// The first `frames` frames of native 32-bit RGB pixel data, interleaved per pixel whatever the
// planar configuration. DataLoss when the data is shorter than the frames.
StatusOr<std::vector<float>> NativeRgb32(DcmDataset* ds, const DicomInfo& info, int frames) {
  DcmElement* elem = nullptr;
  Uint16* words = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr ||
      elem->getUint16Array(words).bad() || words == nullptr)
    return DataLossError("cannot read the 32-bit color pixel data");
  const size_t plane = static_cast<size_t>(info.rows) * static_cast<size_t>(info.columns);
  const size_t frame = plane * 3;
  if (elem->getLength() / 4 < frame * static_cast<size_t>(frames))
    return DataLossError("pixel data is shorter than the frames it declares");
  Uint16 planar = 0;
  ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
  const uint32_t mask = info.bits_stored >= 32 || info.bits_stored <= 0
                            ? 0xFFFFFFFFu
                            : (uint32_t{1} << info.bits_stored) - 1;
  std::vector<float> rgb;
  rgb.reserve(frame * static_cast<size_t>(frames));
  for (size_t f = 0; f < static_cast<size_t>(frames); ++f)
    for (size_t i = 0; i < plane; ++i)
      for (size_t c = 0; c < 3; ++c) {
        const size_t k = f * frame + (planar ? c * plane + i : 3 * i + c);
        const uint32_t v = (uint32_t{words[2 * k]} | (uint32_t{words[2 * k + 1]} << 16)) & mask;
        rgb.push_back(static_cast<float>(v));
      }
  return rgb;
}

// Color images: RGB values (YBR converted, palette looked up) interleaved per pixel, every
// frame in raw mode; for display the first frame's luminance (BT.601) over the value range, or
// its three channels with keep_color.
StatusOr<DecodedImage> DecodeColor(DcmFileFormat& file, E_TransferSyntax xfer,
                                   const DicomInfo& info, const ImageDecodeOptions& o) {
  const size_t rows = static_cast<size_t>(info.rows), cols = static_cast<size_t>(info.columns);
  const size_t plane = rows * cols;
  const int frames = o.raw ? info.frames : 1;
  std::vector<float> rgb;
  rgb.reserve(plane * 3 * static_cast<size_t>(frames));
  double max_value = 255;
  if (IsJpeg2000(xfer)) {
    // OpenJPEG undoes the reversible/irreversible color transform (YBR_RCT, YBR_ICT) itself;
    // YBR_FULL planes were stored without one and are converted here.
    const bool ybr = info.photometric == "YBR_FULL";
    if (info.photometric != "RGB" && info.photometric != "YBR_RCT" &&
        info.photometric != "YBR_ICT" && !ybr)
      return UnimplementedError("JPEG 2000 pixel data in " + info.photometric +
                                " (RGB, YBR_FULL, YBR_RCT and YBR_ICT are decoded)");
    ASSIGN_OR_RETURN(std::vector<Jpeg2000Frame> decoded,
                     DecodeJpeg2000Frames(file.getDataset(), xfer, info, frames));
    for (const Jpeg2000Frame& frame : decoded) {
      max_value = std::ldexp(1.0, frame.precision) - 1;
      const double half = std::ldexp(1.0, frame.precision - 1);
      const auto channel = [&](double v) {
        return static_cast<float>(std::clamp(std::round(v), 0.0, max_value));
      };
      for (size_t i = 0; i < plane; ++i) {
        const double a = frame.samples[i], b = frame.samples[plane + i],
                     c = frame.samples[2 * plane + i];
        if (ybr)  // ITU-R BT.601 full range (PS3.3 C.7.6.3.1.2), rounded and kept in range
          rgb.insert(rgb.end(), {channel(a + 1.402 * (c - half)),
                                 channel(a - 0.344136 * (b - half) - 0.714136 * (c - half)),
                                 channel(a + 1.772 * (b - half))});
        else
          rgb.insert(rgb.end(),
                     {static_cast<float>(a), static_cast<float>(b), static_cast<float>(c)});
      }
    }
  } else if (info.bits_allocated == 32 && info.photometric == "RGB" &&
             !DcmXfer(xfer).isEncapsulated()) {
    // 32-bit RGB, which DCMTK's color images do not take: the stored values, read here (the
    // dataset holds them in host order, dicom/dataset.h).
    ASSIGN_OR_RETURN(rgb, NativeRgb32(file.getDataset(), info, frames));
    max_value = std::ldexp(1.0, std::clamp(info.bits_stored, 1, 32)) - 1;
  } else {
    DcmDataset* ds = file.getDataset();
    if (IsJpegFamily(xfer)) RETURN_IF_ERROR(CheckJpegFrames(ds, xfer, info));
    DicomImage image(&file, xfer, CIF_IgnoreModalityTransformation, 0,
                     static_cast<unsigned long>(frames));
    if (image.getStatus() != EIS_Normal)
      return DataLossError(std::string("cannot decode pixel data: ") +
                           DicomImage::getString(image.getStatus()));
    if (image.isMonochrome() || image.getWidth() != cols || image.getHeight() != rows)
      return DataLossError("the color image decodes to another geometry than its header's");
    // Palette lookup tables hold 16-bit entries; other color data its stored bits, asked for
    // at that depth so that nothing is rescaled.
    const int bits = info.photometric == "PALETTE COLOR" ? 16 : std::clamp(info.bits_stored, 8, 32);
    max_value = std::ldexp(1.0, bits) - 1;
    for (int f = 0; f < frames; ++f) {
      const void* data = image.getOutputData(bits, static_cast<unsigned long>(f), 0);
      if (data == nullptr)
        return DataLossError("frame " + std::to_string(f + 1) +
                             " of the color image cannot be read");
      for (size_t i = 0; i < plane * 3; ++i)
        rgb.push_back(bits <= 8    ? static_cast<const Uint8*>(data)[i]
                      : bits <= 16 ? static_cast<const Uint16*>(data)[i]
                                   : static_cast<float>(static_cast<const Uint32*>(data)[i]));
    }
  }
  DecodedImage out;
  if (o.raw) {
    out.frames = frames;
    out.rows = static_cast<int>(rows);
    out.cols = static_cast<int>(cols);
    out.channels = 3;
    out.pixels = std::move(rgb);
    return out;
  }
  if (o.keep_color) {
    // Each channel over the value range, fitted like a grayscale image, then interleaved again.
    DecodedImage color;
    for (size_t c = 0; c < 3; ++c) {
      std::vector<float> channel(plane);
      for (size_t i = 0; i < plane; ++i)
        channel[i] = static_cast<float>(std::clamp(rgb[3 * i + c] / max_value, 0.0, 1.0));
      const DecodedImage fitted = FitToSquare(channel, rows, cols, o.size);
      if (c == 0) {
        color = fitted;
        color.channels = 3;
        color.pixels.assign(fitted.pixels.size() * 3, 0.0f);
      }
      for (size_t i = 0; i < fitted.pixels.size(); ++i) color.pixels[3 * i + c] = fitted.pixels[i];
    }
    return color;
  }
  std::vector<float> luminance(plane);
  for (size_t i = 0; i < plane; ++i)
    luminance[i] = static_cast<float>(std::clamp(
        (0.299 * rgb[3 * i] + 0.587 * rgb[3 * i + 1] + 0.114 * rgb[3 * i + 2]) / max_value, 0.0,
        1.0));
  return Place(luminance, rows, cols, info, o);
}

}  // namespace

StatusOr<DecodedImage> DecodeImage(const DicomDataset& dataset, const ImageDecodeOptions& o) {
  ASSIGN_OR_RETURN(DicomInfo info, ReadInfo(dataset));
  if (!info.decodable) return UnimplementedError(info.why_not_decodable);
  const uint64_t pixels = static_cast<uint64_t>(info.rows) * info.columns * info.frames;
  if (pixels > o.max_pixels) {
    return Status(ErrorCode::kResourceExhausted,
                  "image of " + std::to_string(info.rows) + " x " + std::to_string(info.columns) +
                      " x " + std::to_string(info.frames) + " frames exceeds the limit of " +
                      std::to_string(o.max_pixels) + " pixels");
  }
  if (!o.raw && (o.size < 8 || o.size > 8192))
    return InvalidArgumentError("size must be between 8 and 8192");
  if (!o.raw && !(o.mm_per_pixel >= 0 && o.mm_per_pixel <= 100))
    return InvalidArgumentError("the pixel spacing to resample to must be between 0 and 100 mm");

  DcmFileFormat& file = DcmtkAccess::File(dataset);
  DcmDataset* ds = file.getDataset();
  if (info.photometric != "MONOCHROME1" && info.photometric != "MONOCHROME2")
    return DecodeColor(file, ds->getCurrentXfer(), info, o);
  // DCMTK decodes the stored values (and applies a Modality LUT Sequence when there is one);
  // rescale, VOI window, inversion and resizing are done here in floating point. DCMTK's own
  // rendering pipeline is not used: it rounds to integers and, in 3.6.7, reads past its LUT for
  // some MONOCHROME1 images.
  const bool lut_sequence = ds->tagExists(DCM_ModalityLUTSequence);
  const unsigned long flags = lut_sequence ? 0 : CIF_IgnoreModalityTransformation;
  const unsigned long frame_count = o.raw ? 0 : 1;  // 0 = all frames
  // The current representation: after a first decode the dataset also holds the pixels
  // uncompressed, and DCMTK decodes from those.
  const E_TransferSyntax xfer = ds->getCurrentXfer();
  const double slope = lut_sequence ? 1.0 : info.rescale_slope;
  const double intercept = lut_sequence ? 0.0 : info.rescale_intercept;
  std::vector<float> values;
  size_t rows = 0, cols = 0, decoded_frames = 0;
  const int wanted_frames = o.raw ? info.frames : 1;
  if (info.float_bits != 0) {
    // Real values: no Modality LUT applies (a Real World Value Mapping would, and is not read).
    ASSIGN_OR_RETURN(values, FloatPixelValues(ds, info, wanted_frames));
    rows = static_cast<size_t>(info.rows);
    cols = static_cast<size_t>(info.columns);
    decoded_frames = static_cast<size_t>(wanted_frames);
  } else if (IsJpeg2000(xfer)) {
    if (lut_sequence)
      return UnimplementedError("a Modality LUT Sequence with JPEG 2000 pixel data");
    ASSIGN_OR_RETURN(std::vector<Jpeg2000Frame> decoded,
                     DecodeJpeg2000Frames(ds, xfer, info, wanted_frames));
    decoded_frames = decoded.size();
    for (const Jpeg2000Frame& frame : decoded)
      for (int32_t v : frame.samples)
        values.push_back(static_cast<float>(AsDeclared(v, frame, info) * slope + intercept));
    rows = static_cast<size_t>(info.rows);
    cols = static_cast<size_t>(info.columns);
  } else {
    if (IsJpegFamily(xfer)) RETURN_IF_ERROR(CheckJpegFrames(ds, xfer, info));
    DicomImage image(&file, xfer, flags, 0, frame_count);
    if (image.getStatus() != EIS_Normal) {
      return DataLossError(std::string("cannot decode pixel data: ") +
                           DicomImage::getString(image.getStatus()));
    }
    const DiPixel* px = image.getInterData();
    rows = image.getHeight();
    cols = image.getWidth();
    decoded_frames = image.getFrameCount();
    const size_t n = rows * cols * decoded_frames;
    if (px == nullptr || px->getCount() < n)
      return DataLossError("pixel data is shorter than the image size");
    RETURN_IF_ERROR(ConvertInterData(px, n, slope, intercept, values));
  }

  DecodedImage out;
  if (o.raw) {
    out.frames = static_cast<int>(decoded_frames);
    out.rows = static_cast<int>(rows);
    out.cols = static_cast<int>(cols);
    out.pixels = std::move(values);
    return out;
  }
  values.resize(rows * cols);  // the first frame
  double center = info.window_center, width = info.window_width;
  if (!info.has_window || width < 1) {
    // No usable window: the 1st to 99th percentile of the finite values, so that background and
    // burned-in text do not set the contrast.
    std::vector<float> sorted;
    sorted.reserve(values.size());
    for (float v : values)
      if (std::isfinite(v)) sorted.push_back(v);
    if (sorted.empty()) sorted.push_back(0);
    const size_t lo = sorted.size() / 100, hi = sorted.size() - 1 - sorted.size() / 100;
    std::nth_element(sorted.begin(), sorted.begin() + lo, sorted.end());
    const double vlo = sorted[lo];
    std::nth_element(sorted.begin(), sorted.begin() + hi, sorted.end());
    const double vhi = sorted[hi];
    width = std::max(1.0, vhi - vlo + 1);
    center = vlo + width / 2;
  }
  const bool invert = info.photometric == "MONOCHROME1";
  for (float& v : values) {
    // Floating-point pixels may hold NaN (no value): shown as the window's bottom.
    double y = std::isnan(v) ? 0.0 : VoiLinear(v, center, width);
    if (invert) y = 1.0 - y;
    v = static_cast<float>(y);
  }
  return Place(values, rows, cols, info, o);
}

}  // namespace medscribe::dicom
