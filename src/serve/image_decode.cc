#include "serve/image_decode.h"

#include <fmt/format.h>
#include <jpeglib.h>

#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <string>

#include "common/base64.h"
#include "common/png.h"
#include "dicom/dataset.h"
#include "dicom/image.h"
#include "model/config.h"

namespace medscribe::serve {
namespace {

// Concatenation by appending (GCC 12 misreports `std::string + literal` chains, bug 105651).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (std::string_view p : parts) out.append(p);
  return out;
}

// libjpeg reports errors through a callback that must not return: jump back to the caller.
struct JpegError {
  jpeg_error_mgr mgr;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

void OnJpegError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void SilenceJpeg(j_common_ptr, int) {}

}  // namespace

StatusOr<GrayImage> DecodePng(std::string_view bytes, const ImageLimits& limits) {
  GrayImage out;
  ASSIGN_OR_RETURN(out.pixels, DecodePngGray(bytes, &out.width, &out.height, limits.max_pixels));
  return out;
}

StatusOr<GrayImage> DecodeJpeg(std::string_view bytes, const ImageLimits& limits) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = OnJpegError;
  err.mgr.emit_message = SilenceJpeg;
  GrayImage out;
  std::vector<uint8_t> row;
  // Everything the jump may skip is declared above it; no C++ object is constructed between
  // setjmp and the libjpeg calls that may jump.
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    return InvalidArgumentError(Cat({"not a readable JPEG image: ", err.message}));
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.image_width == 0 || cinfo.image_height == 0 ||
      uint64_t{cinfo.image_width} * cinfo.image_height > limits.max_pixels) {
    jpeg_destroy_decompress(&cinfo);
    return InvalidArgumentError("the JPEG image has no pixels or more than " +
                                std::to_string(limits.max_pixels));
  }
  cinfo.out_color_space = JCS_GRAYSCALE;
  jpeg_start_decompress(&cinfo);
  out.width = static_cast<int>(cinfo.output_width);
  out.height = static_cast<int>(cinfo.output_height);
  out.pixels.resize(static_cast<size_t>(out.width) * static_cast<size_t>(out.height));
  row.resize(static_cast<size_t>(out.width));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[1] = {row.data()};
    const size_t y = cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, rows, 1);
    for (size_t x = 0; x < row.size(); ++x) out.pixels[y * row.size() + x] = row[x] / 255.0f;
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return out;
}

StatusOr<GrayImage> DecodeDicom(std::string_view bytes, const ImageLimits& limits) {
  ASSIGN_OR_RETURN(dicom::DicomDataset ds, dicom::DicomDataset::FromBytes(bytes));
  dicom::ImageDecodeOptions o;
  o.size = limits.dicom_size;
  o.mm_per_pixel = limits.mm_per_pixel;
  o.max_pixels = limits.max_pixels;
  auto img = dicom::DecodeImage(ds, o);
  if (!img.ok())
    return InvalidArgumentError("the DICOM image cannot be decoded: " + img.status().message());
  GrayImage out{img->cols, img->rows, {}};
  out.pixels.assign(img->pixels.begin(),
                    img->pixels.begin() + static_cast<int64_t>(img->rows) * img->cols);
  return out;
}

Status CheckImageSpacing(double prepared_mm, bool spacing_stated, int width,
                         const ImageLimits& limits) {
  const double model_mm = limits.mm_per_pixel;
  const double at_model =
      width > 0 && limits.dicom_size > 0 ? prepared_mm * width / limits.dicom_size : prepared_mm;
  const std::string fix =
      "; prepare images as the model's dataset was (the gateway's image_spacing_mm, `medscribe "
      "ingest --image-spacing`)";
  if (model_mm <= 0) {
    if (prepared_mm <= 0) return OkStatus();
    return InvalidArgumentError(fmt::format(
        "the image was resampled to {:.4g} mm per pixel, but this model reads images fitted to "
        "the square{}",
        prepared_mm, fix));
  }
  if (prepared_mm <= 0) {
    if (!spacing_stated) return OkStatus();
    return InvalidArgumentError(fmt::format(
        "the image was fitted to the square, but this model reads images resampled to {:.4g} mm "
        "per pixel at {} pixels{}",
        model_mm, limits.dicom_size, fix));
  }
  if (!model::SameImageSpacing(at_model, model_mm)) {
    return InvalidArgumentError(fmt::format(
        "the image was resampled to {:.4g} mm per pixel at {} pixels ({:.4g} at the model's {}), "
        "but this model reads {:.4g}{}",
        prepared_mm, width, at_model, limits.dicom_size, model_mm, fix));
  }
  return OkStatus();
}

StatusOr<GrayImage> DecodeDataUrl(std::string_view url, const ImageLimits& limits) {
  if (url.substr(0, 5) != "data:")
    return InvalidArgumentError("images must be data URLs (data:image/png;base64,...)");
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos)
    return InvalidArgumentError("the image data URL has no ',' before its data");
  const std::string_view meta = url.substr(5, comma - 5);
  if (meta.size() < 7 || meta.substr(meta.size() - 7) != ";base64")
    return InvalidArgumentError("the image data URL must be base64-encoded (;base64)");
  const std::string_view type = meta.substr(0, meta.size() - 7);
  const std::string_view data = url.substr(comma + 1);
  if (data.size() / 4 * 3 > limits.max_encoded_bytes) {
    return InvalidArgumentError("the image is larger than " +
                                std::to_string(limits.max_encoded_bytes) + " bytes");
  }
  auto bytes = Base64Decode(data);
  if (!bytes.ok()) return InvalidArgumentError("the image data URL is not valid base64");
  if (type == "image/png") return DecodePng(*bytes, limits);
  if (type == "image/jpeg" || type == "image/jpg") return DecodeJpeg(*bytes, limits);
  if (type == "application/dicom") return DecodeDicom(*bytes, limits);
  return InvalidArgumentError("image type '" + std::string(type) +
                              "' is not supported (image/png, image/jpeg, application/dicom)");
}

}  // namespace medscribe::serve
