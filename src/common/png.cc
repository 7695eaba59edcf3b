#include "common/png.h"

#include <png.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>

namespace medscribe {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

}  // namespace

Status WritePngGray(const std::string& path, const std::vector<float>& pixels, int width,
                    int height) {
  if (width <= 0 || height <= 0 || pixels.size() != static_cast<size_t>(width) * height) {
    return InvalidArgumentError("PNG size does not match the pixel count");
  }
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "wb"));
  if (!f) return IoError("cannot create '" + path + "': " + std::strerror(errno));
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png ? png_create_info_struct(png) : nullptr;
  if (!png || !info) {
    png_destroy_write_struct(&png, &info);
    return InternalError("libpng initialization failed");
  }
  std::vector<png_byte> row(static_cast<size_t>(width));
  // libpng reports errors by longjmp; nothing with a destructor is created after this point.
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    std::remove(path.c_str());
    return IoError("cannot write PNG '" + path + "'");
  }
  png_init_io(png, f.get());
  png_set_IHDR(png, info, static_cast<png_uint_32>(width), static_cast<png_uint_32>(height), 8,
               PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const float v = std::clamp(pixels[static_cast<size_t>(y) * width + x], 0.0f, 1.0f);
      row[static_cast<size_t>(x)] = static_cast<png_byte>(std::lround(v * 255.0f));
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return OkStatus();
}

}  // namespace medscribe

namespace medscribe {

namespace {

StatusOr<std::string> EncodePng(const std::vector<float>& pixels, int width, int height,
                                int channels) {
  if (width <= 0 || height <= 0 ||
      pixels.size() != static_cast<size_t>(width) * static_cast<size_t>(height) * channels) {
    return InvalidArgumentError("PNG size does not match the pixel count");
  }
  std::vector<png_byte> bytes(pixels.size());
  for (size_t i = 0; i < pixels.size(); ++i)
    bytes[i] = static_cast<png_byte>(std::lround(std::clamp(pixels[i], 0.0f, 1.0f) * 255.0f));
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
  png_alloc_size_t size = 0;
  if (!png_image_write_to_memory(&image, nullptr, &size, 0, bytes.data(), 0, nullptr))
    return InternalError(std::string("PNG encoding failed: ") + image.message);
  std::string out(size, '\0');
  if (!png_image_write_to_memory(&image, out.data(), &size, 0, bytes.data(), 0, nullptr))
    return InternalError(std::string("PNG encoding failed: ") + image.message);
  out.resize(size);
  return out;
}

}  // namespace

StatusOr<std::string> EncodePngGray(const std::vector<float>& pixels, int width, int height) {
  return EncodePng(pixels, width, height, 1);
}

StatusOr<std::string> EncodePngRgb(const std::vector<float>& pixels, int width, int height) {
  return EncodePng(pixels, width, height, 3);
}

}  // namespace medscribe

namespace medscribe {

StatusOr<std::vector<float>> DecodePngGray(std::string_view bytes, int* width, int* height,
                                           uint64_t max_pixels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()))
    return InvalidArgumentError(std::string("not a readable PNG image: ") + image.message);
  const uint64_t w = image.width, h = image.height;
  if (w == 0 || h == 0 || w > 16384 || h > 16384 || w * h > max_pixels) {
    png_image_free(&image);
    return InvalidArgumentError(
        w == 0 || h == 0 ? std::string("the PNG image has no pixels")
                         : "the PNG image of " + std::to_string(w) + "x" + std::to_string(h) +
                               " pixels is larger than the limit of " +
                               std::to_string(std::min<uint64_t>(max_pixels, 16384ull * 16384)) +
                               " pixels (16384 a side)");
  }
  image.format = PNG_FORMAT_GRAY;
  std::vector<png_byte> gray(static_cast<size_t>(image.width) * image.height);
  if (!png_image_finish_read(&image, nullptr, gray.data(), 0, nullptr))
    return InvalidArgumentError(std::string("cannot decode the PNG: ") + image.message);
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  std::vector<float> out(gray.size());
  for (size_t i = 0; i < gray.size(); ++i) out[i] = gray[i] / 255.0f;
  return out;
}

}  // namespace medscribe
