#include "dicom/image.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmimgle/dipixel.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "dicom/dcmtk_access.h"
#include "dicom/info.h"
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

  DcmFileFormat& file = DcmtkAccess::File(dataset);
  DcmDataset* ds = file.getDataset();
  // Rescale is applied here in floating point for exact results (DCMTK rounds it to integers);
  // a Modality LUT Sequence is left to DCMTK.
  const bool lut_sequence = ds->tagExists(DCM_ModalityLUTSequence);
  unsigned long flags = 0;
  if (o.raw && !lut_sequence) flags |= CIF_IgnoreModalityTransformation;
  const unsigned long frame_count = o.raw ? 0 : 1;  // 0 = all frames
  if (IsJpegFamily(ds->getOriginalXfer()))
    RETURN_IF_ERROR(CheckJpegFrames(ds, ds->getOriginalXfer(), info));
  DicomImage image(&file, ds->getOriginalXfer(), flags, 0, frame_count);
  if (image.getStatus() != EIS_Normal) {
    return DataLossError(std::string("cannot decode pixel data: ") +
                         DicomImage::getString(image.getStatus()));
  }

  DecodedImage out;
  if (o.raw) {
    const DiPixel* px = image.getInterData();
    const size_t n =
        static_cast<size_t>(image.getWidth()) * image.getHeight() * image.getFrameCount();
    if (px == nullptr || px->getCount() < n)
      return DataLossError("pixel data is shorter than the image size");
    out.frames = static_cast<int>(image.getFrameCount());
    out.rows = static_cast<int>(image.getHeight());
    out.cols = static_cast<int>(image.getWidth());
    const double slope = lut_sequence ? 1.0 : info.rescale_slope;
    const double intercept = lut_sequence ? 0.0 : info.rescale_intercept;
    RETURN_IF_ERROR(ConvertInterData(px, n, slope, intercept, out.pixels));
    return out;
  }

  if (info.has_window && image.getWindowCount() > 0) {
    image.setWindow(0);
  } else {
    image.setMinMaxWindow(1);  // ignore the extreme values (background, burned-in text)
  }
  const double scale = static_cast<double>(o.size) / std::max(info.rows, info.columns);
  const auto w = static_cast<unsigned long>(std::max(1L, std::lround(info.columns * scale)));
  const auto h = static_cast<unsigned long>(std::max(1L, std::lround(info.rows * scale)));
  std::unique_ptr<DicomImage> scaled(image.createScaledImage(w, h, scale < 1 ? 1 : 4, 0));
  if (!scaled || scaled->getStatus() != EIS_Normal) return InternalError("cannot resize the image");
  const void* data = scaled->getOutputData(16);
  if (data == nullptr) return DataLossError("cannot render the image");
  const auto* v = static_cast<const Uint16*>(data);
  out.rows = out.cols = o.size;
  out.pixels.assign(static_cast<size_t>(o.size) * o.size, 0.0f);
  const size_t x0 = (o.size - w) / 2, y0 = (o.size - h) / 2;
  for (size_t y = 0; y < h; ++y) {
    for (size_t x = 0; x < w; ++x) out.pixels[(y0 + y) * o.size + x0 + x] = v[y * w + x] / 65535.0f;
  }
  return out;
}

}  // namespace medscribe::dicom
