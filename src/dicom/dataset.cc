#include "dicom/dataset.h"

#include "common/files.h"
#include "dicom/dcmtk_access.h"
#include "dicom/jpeg2000.h"
#include "dicom/part10.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dcrleerg.h>
#include <dcmtk/dcmdata/dcrlerp.h>
#include <dcmtk/dcmdata/dcsequen.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmdata/dcxfer.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpeg/djencode.h>
#include <dcmtk/dcmjpeg/djrplol.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>
#include <dcmtk/dcmjpls/djrparam.h>
#include <dcmtk/oflog/oflog.h>

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <optional>

namespace medscribe::dicom {

namespace {

E_TransferSyntax ToDcmtk(TransferSyntax ts) {
  switch (ts) {
    case TransferSyntax::kImplicitLittle:
      return EXS_LittleEndianImplicit;
    case TransferSyntax::kExplicitLittle:
      return EXS_LittleEndianExplicit;
    case TransferSyntax::kExplicitBig:
      return EXS_BigEndianExplicit;
    case TransferSyntax::kDeflated:
      return EXS_DeflatedLittleEndianExplicit;
    case TransferSyntax::kJpegLossless:
      return EXS_JPEGProcess14SV1;
    case TransferSyntax::kJpegLsLossless:
      return EXS_JPEGLSLossless;
    case TransferSyntax::kRle:
      return EXS_RLELossless;
    case TransferSyntax::kJpeg2000Lossless:
      return EXS_JPEG2000LosslessOnly;
  }
  return EXS_LittleEndianExplicit;
}

// One step of an attribute path: a keyword and, for sequences, an item index (-1: none).
struct PathStep {
  DcmTag tag;
  long item = -1;
};

StatusOr<std::vector<PathStep>> ParsePath(std::string_view path) {
  std::vector<PathStep> steps;
  size_t pos = 0;
  while (pos <= path.size()) {
    const size_t dot = path.find('.', pos);
    std::string_view part = path.substr(pos, dot == std::string_view::npos ? path.npos : dot - pos);
    PathStep step;
    if (const size_t br = part.find('['); br != std::string_view::npos) {
      if (part.back() != ']')
        return InvalidArgumentError("malformed attribute path '" + std::string(path) + "'");
      try {
        step.item = std::stol(std::string(part.substr(br + 1, part.size() - br - 2)));
      } catch (const std::exception&) {
        return InvalidArgumentError("malformed item index in '" + std::string(path) + "'");
      }
      part = part.substr(0, br);
    }
    const std::string keyword(part);
    if (DcmTag::findTagFromName(keyword.c_str(), step.tag).bad()) {
      return InvalidArgumentError("unknown DICOM keyword '" + keyword + "'");
    }
    steps.push_back(step);
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    if (steps[i].item < 0) {
      return InvalidArgumentError("path '" + std::string(path) + "' needs an item index after " +
                                  DcmTag(steps[i].tag).getTagName());
    }
  }
  return steps;
}

// Walks to the item that holds the last step, creating sequences and items when `create`.
StatusOr<DcmItem*> WalkToParent(DcmItem* root, const std::vector<PathStep>& steps, bool create) {
  DcmItem* item = root;
  for (size_t i = 0; i + 1 < steps.size(); ++i) {
    DcmItem* sub = nullptr;
    OFCondition c = create ? item->findOrCreateSequenceItem(steps[i].tag, sub, steps[i].item)
                           : item->findAndGetSequenceItem(steps[i].tag, sub, steps[i].item);
    if (c.bad() || sub == nullptr) {
      return NotFoundError(std::string("no item ") + std::to_string(steps[i].item) + " in " +
                           DcmTag(steps[i].tag).getTagName());
    }
    item = sub;
  }
  return item;
}

// The JPEG and JPEG-LS encoders pad an odd-length codestream to even length with a byte they do
// not initialize, which makes otherwise identical files differ. Set that byte (after the EOI
// marker, so no decoder reads it) to zero, padding odd fragments the same way: the output becomes
// a function of the input alone.
void PadOddFragments(DcmDataset* ds, E_TransferSyntax xfer,
                     const DcmRepresentationParameter* params) {
  DcmPixelSequence* seq = PixelFragments(ds, xfer, params);
  if (seq == nullptr) return;
  for (unsigned long i = 1; i < seq->card(); ++i) {  // item 0 is the basic offset table
    DcmPixelItem* item = nullptr;
    Uint8* data = nullptr;
    if (!FragmentAt(seq, i, item, data)) continue;
    const Uint32 n = item->getLength();
    if (n % 2 == 0) {
      if (n >= 3 && data[n - 3] == 0xFF && data[n - 2] == 0xD9) data[n - 1] = 0;
      continue;
    }
    std::vector<Uint8> padded(data, data + n);
    padded.push_back(0);
    item->putUint8Array(padded.data(), n + 1);
  }
}

// A parse failure in words a user can act on.
std::string ParseError(const OFCondition& c) {
  if (c == EC_StreamNotifyClient || c == EC_EndOfStream) {
    return "not a readable DICOM file: it ends before the data it declares (truncated, an element "
           "longer than the file, or not DICOM at all)";
  }
  return std::string("not a readable DICOM file: ") + c.text();
}

}  // namespace

void RegisterCodecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    // DCMTK logs warnings to stderr by default; MedScribe reports errors through Status instead.
    OFLog::configure(OFLogger::FATAL_LOG_LEVEL);
    DJEncoderRegistration::registerCodecs();
    DJDecoderRegistration::registerCodecs();
    DJLSEncoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEEncoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
}

DicomDataset::Impl::~Impl() {
  if (memfd >= 0) close(memfd);
}

DicomDataset::DicomDataset() : impl_(std::make_unique<Impl>()) { RegisterCodecs(); }
DicomDataset::~DicomDataset() = default;
DicomDataset::DicomDataset(DicomDataset&&) noexcept = default;
DicomDataset& DicomDataset::operator=(DicomDataset&&) noexcept = default;

namespace {

// Copies `bytes` into a new anonymous in-memory file, owned (closed) by `impl`, and returns the
// path under which DCMTK can open it.
StatusOr<std::string> ToMemfd(DicomDataset::Impl& impl, std::string_view bytes) {
  const int fd = memfd_create("medscribe-dicom", MFD_CLOEXEC);
  if (fd < 0) return InternalError(std::string("memfd_create: ") + std::strerror(errno));
  if (impl.memfd >= 0) close(impl.memfd);
  impl.memfd = fd;
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return InternalError(std::string("cannot buffer DICOM bytes: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return "/proc/self/fd/" + std::to_string(fd);
}

// True when DCMTK, reading the file meta information of `path`, would inflate the dataset.
bool DcmtkWouldInflate(const std::string& path) {
  DcmFileFormat probe;
  if (probe.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_metaOnly)
          .bad()) {
    return false;
  }
  OFString uid;
  probe.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid);
  return DcmXfer(uid.c_str()).getXfer() == EXS_DeflatedLittleEndianExplicit;
}

constexpr char kShortFragmentRepair[] =
    "the last pixel data fragment is shorter than its declared length (the file ends early) but "
    "its codestream is complete; it was read as it is";

// DCMTK reads and writes the pixel data of an Explicit VR Big Endian file as 16-bit words (OW),
// swapping each word between big endian and host order. For 32-bit pixels that is not the file's
// layout — each value's four bytes, most significant first, as other readers and writers hold it
// — and on a little-endian host it leaves the two halves of every value in the wrong order
// (1,249,000 read as 250,085,395). This swaps the halves of every 32-bit value of native OW
// pixel data in place: after reading such a file the dataset holds host-order values, and around
// writing one the file gets true big-endian values. Nothing for other layouts or hosts.
void Swap32BitHalves(DcmDataset* ds) {
  Uint16 bits = 0;
  if (gLocalByteOrder != EBO_LittleEndian || ds->findAndGetUint16(DCM_BitsAllocated, bits).bad() ||
      bits != 32)
    return;
  DcmElement* pixels = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, pixels).bad() || pixels == nullptr ||
      pixels->getVR() != EVR_OW)
    return;
  DcmPixelSequence* encapsulated = nullptr;
  if (static_cast<DcmPixelData*>(pixels)
          ->getEncapsulatedRepresentation(ds->getCurrentXfer(), nullptr, encapsulated)
          .good() &&
      encapsulated != nullptr)
    return;
  Uint16* words = nullptr;
  if (pixels->getUint16Array(words).bad() || words == nullptr) return;
  const size_t n = pixels->getLength() / 2;
  for (size_t i = 0; i + 1 < n; i += 2) std::swap(words[i], words[i + 1]);
}

// After loading: the 32-bit values of a big-endian file put in host order.
void ToHostOrder(DcmFileFormat& file) {
  if (file.getDataset()->getOriginalXfer() == EXS_BigEndianExplicit)
    Swap32BitHalves(file.getDataset());
}

// Saves `file` in `xfer`, with 32-bit values written as true big endian where `xfer` is big
// endian; the dataset is the same afterwards.
OFCondition SaveAs(DcmFileFormat& file, const std::string& path, E_TransferSyntax xfer) {
  const bool big = xfer == EXS_BigEndianExplicit;
  if (big) Swap32BitHalves(file.getDataset());
  const OFCondition c = file.saveFile(path.c_str(), xfer);
  if (big) Swap32BitHalves(file.getDataset());
  return c;
}

}  // namespace

StatusOr<DicomDataset> DicomDataset::LoadFile(const std::string& path, uint64_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return NotFoundError("cannot open: " + ec.message());
  if (size > max_bytes) {
    return Status(ErrorCode::kResourceExhausted, "file of " + std::to_string(size) +
                                                     " bytes exceeds the limit of " +
                                                     std::to_string(max_bytes));
  }
  if (DcmtkWouldInflate(path)) {  // needs the bounded path of FromBytes
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    return FromBytes(bytes, max_bytes);
  }
  DicomDataset ds;
  OFCondition c = ds.impl_->file.loadFile(path.c_str());
  if (c.bad()) {
    // A file cut inside its last pixel data fragment: the lenient reading of FromBytes.
    ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
    if (CompleteShortLastFragment(bytes)) return FromBytes(bytes, max_bytes);
    return DataLossError(ParseError(c));
  }
  ToHostOrder(ds.impl_->file);
  return ds;
}

StatusOr<DicomDataset> DicomDataset::FromBytes(std::string_view bytes, uint64_t max_bytes) {
  if (bytes.size() > max_bytes) {
    return Status(ErrorCode::kResourceExhausted,
                  "input of " + std::to_string(bytes.size()) + " bytes exceeds the limit");
  }
  // DCMTK checks declared element lengths against the remaining bytes only for seekable file
  // streams; from a memory buffer, or inside a deflated dataset, it would allocate whatever length
  // the input declares. So the bytes are parsed from an in-memory file, and deflated datasets are
  // inflated here (with a cap) and parsed as a plain dataset.
  DicomDataset ds;
  ASSIGN_OR_RETURN(std::string path, ToMemfd(*ds.impl_, bytes));
  if (DcmtkWouldInflate(path)) {
    ASSIGN_OR_RETURN(Part10Meta meta, ScanPart10Meta(bytes));
    if (meta.transfer_syntax_uid != kDeflatedUid) {
      return DataLossError("file meta information is malformed (inconsistent transfer syntax)");
    }
    ASSIGN_OR_RETURN(std::string inflated,
                     InflateRaw(bytes.substr(meta.dataset_offset), max_bytes));
    ASSIGN_OR_RETURN(path, ToMemfd(*ds.impl_, inflated));
    OFCondition c = ds.impl_->file.loadFile(path.c_str(), EXS_LittleEndianExplicit, EGL_noChange,
                                            DCM_MaxReadLength, ERM_dataset);
    if (c.bad()) return DataLossError(ParseError(c));
    ds.impl_->file.getMetaInfo()->putAndInsertString(DCM_TransferSyntaxUID,
                                                     std::string(kDeflatedUid).c_str());
    return ds;
  }
  OFCondition c = ds.impl_->file.loadFile(path.c_str());
  if (c.bad()) {
    std::optional<std::string> repaired = CompleteShortLastFragment(bytes);
    if (!repaired || repaired->size() > max_bytes) return DataLossError(ParseError(c));
    DicomDataset again;
    ASSIGN_OR_RETURN(std::string again_path, ToMemfd(*again.impl_, *repaired));
    if (again.impl_->file.loadFile(again_path.c_str()).bad()) return DataLossError(ParseError(c));
    again.impl_->repairs.push_back(kShortFragmentRepair);
    return again;
  }
  ToHostOrder(ds.impl_->file);
  return ds;
}

const std::vector<std::string>& DicomDataset::repairs() const { return impl_->repairs; }

bool DicomDataset::LooksLikeDicom() const {
  DcmMetaInfo* meta = impl_->file.getMetaInfo();
  return (meta != nullptr && meta->tagExists(DCM_TransferSyntaxUID)) ||
         impl_->file.getDataset()->tagExists(DCM_SOPClassUID);
}

Status DicomDataset::SetString(std::string_view path, std::string_view value) {
  ASSIGN_OR_RETURN(auto steps, ParsePath(path));
  ASSIGN_OR_RETURN(DcmItem * item, WalkToParent(impl_->file.getDataset(), steps, true));
  const std::string v(value);
  OFCondition c = item->putAndInsertString(steps.back().tag, v.c_str());
  if (c.bad()) {
    return InvalidArgumentError("cannot set " + std::string(path) + ": " + c.text());
  }
  return OkStatus();
}

Status DicomDataset::SetUint16(std::string_view path, uint16_t value) {
  ASSIGN_OR_RETURN(auto steps, ParsePath(path));
  ASSIGN_OR_RETURN(DcmItem * item, WalkToParent(impl_->file.getDataset(), steps, true));
  OFCondition c = item->putAndInsertUint16(steps.back().tag, value);
  if (c.bad()) return InvalidArgumentError("cannot set " + std::string(path) + ": " + c.text());
  return OkStatus();
}

Status DicomDataset::SetEmpty(std::string_view path) {
  ASSIGN_OR_RETURN(auto steps, ParsePath(path));
  ASSIGN_OR_RETURN(DcmItem * item, WalkToParent(impl_->file.getDataset(), steps, true));
  OFCondition c = item->insertEmptyElement(steps.back().tag);
  if (c.bad()) return InvalidArgumentError("cannot set " + std::string(path) + ": " + c.text());
  return OkStatus();
}

Status DicomDataset::SetPrivate(uint16_t group, std::string_view creator, uint8_t element,
                                std::string_view vr, std::string_view value) {
  if (group % 2 == 0) return InvalidArgumentError("private group must be odd");
  DcmDataset* ds = impl_->file.getDataset();
  const std::string creator_s(creator);
  OFCondition c = ds->putAndInsertString(DcmTag(group, 0x0010, EVR_LO), creator_s.c_str());
  if (c.good()) {
    const std::string vr_s(vr);
    DcmTag tag(group, static_cast<Uint16>(0x1000 | element), DcmVR(vr_s.c_str()));
    tag.setPrivateCreator(creator_s.c_str());
    c = ds->putAndInsertString(tag, std::string(value).c_str());
  }
  if (c.bad())
    return InvalidArgumentError(std::string("cannot set private attribute: ") + c.text());
  return OkStatus();
}

Status DicomDataset::SetPixelData16(std::span<const uint16_t> pixels, uint16_t rows,
                                    uint16_t cols) {
  if (pixels.size() != static_cast<size_t>(rows) * cols) {
    return InvalidArgumentError("pixel count does not match rows x columns");
  }
  OFCondition c = impl_->file.getDataset()->putAndInsertUint16Array(
      DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  if (c.bad()) return InternalError(std::string("cannot set pixel data: ") + c.text());
  return OkStatus();
}

Status DicomDataset::SetPixelData8(std::span<const uint8_t> pixels, uint16_t rows, uint16_t cols) {
  if (pixels.size() != static_cast<size_t>(rows) * cols) {
    return InvalidArgumentError("pixel count does not match rows x columns");
  }
  OFCondition c = impl_->file.getDataset()->putAndInsertUint8Array(
      DCM_PixelData, pixels.data(), static_cast<unsigned long>(pixels.size()));
  if (c.bad()) return InternalError(std::string("cannot set pixel data: ") + c.text());
  return OkStatus();
}

namespace {

// Removes from `item` every private attribute and every attribute not in `keep`, and filters the
// items of the sequences it keeps with `nested`, at every depth. Returns how many attributes were
// removed at all levels.
size_t RetainIn(DcmItem* item, const std::set<std::string, std::less<>>& keep,
                const std::set<std::string, std::less<>>& nested) {
  size_t removed = 0;
  for (unsigned long i = item->card(); i-- > 0;) {
    DcmElement* e = item->getElement(i);
    if (e == nullptr) continue;
    DcmTag tag = e->getTag();
    if (tag.isPrivate() || keep.count(std::string_view(tag.getTagName())) == 0) {
      delete item->remove(i);
      ++removed;
      continue;
    }
    if (e->ident() == EVR_SQ) {
      auto* sq = static_cast<DcmSequenceOfItems*>(e);
      for (unsigned long k = 0; k < sq->card(); ++k)
        removed += RetainIn(sq->getItem(k), nested, nested);
    }
  }
  return removed;
}

}  // namespace

size_t DicomDataset::RetainOnly(const std::set<std::string, std::less<>>& keep,
                                const std::set<std::string, std::less<>>& keep_in_items) {
  return RetainIn(impl_->file.getDataset(), keep, keep_in_items);
}

StatusOr<std::string> DicomDataset::GetString(std::string_view path) const {
  ASSIGN_OR_RETURN(auto steps, ParsePath(path));
  ASSIGN_OR_RETURN(DcmItem * item, WalkToParent(impl_->file.getDataset(), steps, false));
  OFString value;
  if (item->findAndGetOFStringArray(steps.back().tag, value).bad()) {
    return NotFoundError("attribute " + std::string(path) + " is absent");
  }
  return std::string(value.c_str());
}

std::string DicomDataset::FileTransferSyntaxUid() const {
  OFString uid;
  impl_->file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, uid);
  return uid.c_str();
}

StatusOr<std::vector<uint16_t>> DicomDataset::DecodePixels16() const {
  DcmDataset copy(*impl_->file.getDataset());
  OFCondition c = copy.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (c.bad() || !copy.canWriteXfer(EXS_LittleEndianExplicit)) {
    return UnimplementedError(std::string("cannot decode pixel data: ") + c.text());
  }
  const Uint16* data = nullptr;
  unsigned long count = 0;
  if (copy.findAndGetUint16Array(DCM_PixelData, data, &count).bad() || data == nullptr) {
    return NotFoundError("no 16-bit pixel data");
  }
  Uint16 rows = 0, cols = 0;
  copy.findAndGetUint16(DCM_Rows, rows);
  copy.findAndGetUint16(DCM_Columns, cols);
  const size_t frame = static_cast<size_t>(rows) * cols;
  if (frame == 0 || frame > count) return DataLossError("pixel data shorter than rows x columns");
  return std::vector<uint16_t>(data, data + frame);
}

// Replaces the pixel data with lossless JPEG 2000 frames (OpenJPEG; DCMTK has no codec for it):
// an empty basic offset table, then one fragment per frame.
static Status EncodeJpeg2000PixelData(DcmDataset* ds) {
  if (ds->chooseRepresentation(EXS_LittleEndianExplicit, nullptr).bad())
    return UnimplementedError("cannot decode the pixel data to re-encode it");
  Uint16 rows = 0, cols = 0, samples_per_pixel = 1, allocated = 0, stored = 0, representation = 0,
         planar = 0;
  ds->findAndGetUint16(DCM_Rows, rows);
  ds->findAndGetUint16(DCM_Columns, cols);
  ds->findAndGetUint16(DCM_SamplesPerPixel, samples_per_pixel);
  ds->findAndGetUint16(DCM_BitsAllocated, allocated);
  ds->findAndGetUint16(DCM_BitsStored, stored);
  ds->findAndGetUint16(DCM_PixelRepresentation, representation);
  ds->findAndGetUint16(DCM_PlanarConfiguration, planar);
  OFString photometric;
  ds->findAndGetOFString(DCM_PhotometricInterpretation, photometric);
  Sint32 frames = 1;
  if (ds->findAndGetSint32(DCM_NumberOfFrames, frames).bad() || frames < 1) frames = 1;
  const bool rgb = samples_per_pixel == 3 && photometric == "RGB" && allocated == 8;
  const bool ybr = samples_per_pixel == 3 && photometric == "YBR_FULL" && allocated == 8;
  if ((samples_per_pixel != 1 && !rgb && !ybr) || (allocated != 8 && allocated != 16) ||
      stored < 1 || stored > allocated)
    return UnimplementedError(
        "JPEG 2000 is written for grayscale 8- or 16-bit and 8-bit RGB or YBR_FULL images only");
  const size_t frame = static_cast<size_t>(rows) * cols;
  const size_t samples = samples_per_pixel;
  const bool is_signed = representation == 1;
  DcmElement* elem = nullptr;
  if (ds->findAndGetElement(DCM_PixelData, elem).bad() || elem == nullptr)
    return NotFoundError("no pixel data to encode");
  auto* pixel_data = static_cast<DcmPixelData*>(elem);
  std::vector<int32_t> values(frame * samples);
  auto seq = std::make_unique<DcmPixelSequence>(DcmTag(DCM_PixelData, EVR_OB));
  seq->insert(new DcmPixelItem(DcmTag(DCM_Item, EVR_OB)));  // empty basic offset table
  Uint8* bytes8 = nullptr;
  Uint16* words16 = nullptr;
  const bool have = allocated == 8 ? pixel_data->getUint8Array(bytes8).good() && bytes8
                                   : pixel_data->getUint16Array(words16).good() && words16;
  if (!have ||
      pixel_data->getLength() / (allocated / 8) < frame * samples * static_cast<size_t>(frames))
    return DataLossError("pixel data shorter than the frames it declares");
  const uint32_t mask = stored >= 32 ? 0xFFFFFFFFu : (1u << stored) - 1;
  for (Sint32 f = 0; f < frames; ++f) {
    for (size_t c = 0; c < samples; ++c) {
      for (size_t i = 0; i < frame; ++i) {
        // Planes for the encoder, from either planar configuration.
        const size_t k =
            frame * samples * static_cast<size_t>(f) + (planar ? c * frame + i : i * samples + c);
        const uint32_t v = (allocated == 8 ? bytes8[k] : words16[k]) & mask;
        // Signed values of `stored` bits: sign-extended from their high bit.
        values[c * frame + i] = is_signed && (v >> (stored - 1))
                                    ? static_cast<int32_t>(v) - (1 << stored)
                                    : static_cast<int32_t>(v);
      }
    }
    ASSIGN_OR_RETURN(
        std::string codestream,
        EncodeJpeg2000Lossless(values, rows, cols, stored, is_signed, static_cast<int>(samples),
                               /*color_transform=*/rgb));
    if (codestream.size() % 2) codestream.push_back('\0');  // fragments have even lengths
    auto* item = new DcmPixelItem(DcmTag(DCM_Item, EVR_OB));
    item->putUint8Array(reinterpret_cast<const Uint8*>(codestream.data()),
                        static_cast<unsigned long>(codestream.size()));
    seq->insert(item);
  }
  pixel_data->putOriginalRepresentation(EXS_JPEG2000LosslessOnly, nullptr, seq.release());
  if (rgb)  // stored with the reversible color transform
    ds->putAndInsertString(DCM_PhotometricInterpretation, "YBR_RCT");
  if (samples > 1) ds->putAndInsertUint16(DCM_PlanarConfiguration, 0);
  return OkStatus();
}

Status DicomDataset::SaveFile(const std::string& path, TransferSyntax ts) {
  DcmDataset* ds = impl_->file.getDataset();
  const E_TransferSyntax xfer = ToDcmtk(ts);
  if (IsJpeg2000(ds->getOriginalXfer()) && ts != TransferSyntax::kJpeg2000Lossless)
    return UnimplementedError(
        "JPEG 2000 pixel data cannot be rewritten in " + std::string(TransferSyntaxName(ts)) +
        " here (DCMTK has no JPEG 2000 codec); `medscribe dicom decode --raw` reads its values");
  if (ts == TransferSyntax::kJpeg2000Lossless) {
    if (!IsJpeg2000(ds->getOriginalXfer())) RETURN_IF_ERROR(EncodeJpeg2000PixelData(ds));
    OFCondition c = impl_->file.saveFile(path.c_str(), xfer);
    if (c.bad()) {
      std::remove(path.c_str());
      return IoError("cannot write '" + path + "': " + c.text());
    }
    return OkStatus();
  }
  DJ_RPLossless jpeg_params(1, 0);
  DJLSRepresentationParameter jpls_params(0, OFTrue);
  DcmRLERepresentationParameter rle_params;
  const DcmRepresentationParameter* params = nullptr;
  if (ts == TransferSyntax::kJpegLossless) params = &jpeg_params;
  if (ts == TransferSyntax::kJpegLsLossless) params = &jpls_params;
  if (ts == TransferSyntax::kRle) params = &rle_params;
  OFCondition c = ds->chooseRepresentation(xfer, params);
  if (c.bad() || !ds->canWriteXfer(xfer)) {
    return InternalError("cannot encode in " + std::string(TransferSyntaxName(ts)) + ": " +
                         c.text());
  }
  if (ts == TransferSyntax::kJpegLossless || ts == TransferSyntax::kJpegLsLossless) {
    PadOddFragments(ds, xfer, params);
  }
  c = SaveAs(impl_->file, path, xfer);
  if (c.bad()) {
    std::remove(path.c_str());
    return IoError("cannot write '" + path + "': " + c.text());
  }
  return OkStatus();
}

StatusOr<std::string> DicomDataset::ToBytes() {
  DcmDataset* ds = impl_->file.getDataset();
  E_TransferSyntax xfer = ds->getOriginalXfer();
  if (xfer == EXS_Unknown || !ds->canWriteXfer(xfer)) {
    xfer = EXS_LittleEndianExplicit;
    if (ds->chooseRepresentation(xfer, nullptr).bad() || !ds->canWriteXfer(xfer)) {
      return InternalError("cannot re-encode the dataset for writing");
    }
  }
  const int fd = memfd_create("medscribe-dicom-out", MFD_CLOEXEC);
  if (fd < 0) return InternalError(std::string("memfd_create: ") + std::strerror(errno));
  struct Closer {
    int fd;
    ~Closer() { close(fd); }
  } closer{fd};
  const std::string path = "/proc/self/fd/" + std::to_string(fd);
  if (OFCondition c = SaveAs(impl_->file, path, xfer); c.bad()) {
    return InternalError(std::string("cannot serialize the dataset: ") + c.text());
  }
  const off_t size = lseek(fd, 0, SEEK_END);
  if (size < 0) return InternalError(std::string("lseek: ") + std::strerror(errno));
  std::string out(static_cast<size_t>(size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0)
      return InternalError(std::string("cannot read back the dataset: ") + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  return out;
}

}  // namespace medscribe::dicom
