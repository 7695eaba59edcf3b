#include "dicom/jpeg_header.h"

#include <gtest/gtest.h>

#include <vector>

namespace medscribe::dicom {
namespace {

// SOI, an APP0 segment, SOF3 (lossless) 12-bit 300 x 200, then SOS.
std::vector<uint8_t> Codestream(uint8_t sof = 0xC3) {
  return {0xFF, 0xD8,                                      // SOI
          0xFF, 0xE0, 0x00, 0x04, 0xAA, 0xBB,              // APP0, length 4
          0xFF, 0xFF,                                      // fill byte
          0xFF, sof,  0x00, 0x0B, 0x0C, 0x00, 0xC8, 0x01,  // SOF: P=12, Y=200, X=300
          0x2C, 0x01, 0x01, 0x11, 0x00,                    //   one component
          0xFF, 0xDA, 0x00, 0x02};                         // SOS
}

TEST(JpegHeaderTest, ReadsTheFrameHeader) {
  const auto c = Codestream();
  auto h = ReadJpegFrameHeader(c.data(), c.size());
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->precision, 12);
  EXPECT_EQ(h->height, 200);
  EXPECT_EQ(h->width, 300);
  EXPECT_FALSE(h->jpeg_ls);
  const auto ls = Codestream(0xF7);
  EXPECT_TRUE(ReadJpegFrameHeader(ls.data(), ls.size())->jpeg_ls);
}

TEST(JpegHeaderTest, MalformedCodestreamsAreRejected) {
  auto c = Codestream();
  EXPECT_FALSE(ReadJpegFrameHeader(c.data() + 2, c.size() - 2).ok());  // no SOI
  auto zero_length = c;
  zero_length[5] = 0x00;  // APP0 length 0
  EXPECT_FALSE(ReadJpegFrameHeader(zero_length.data(), zero_length.size()).ok());
  auto long_segment = c;
  long_segment[4] = 0x7F;  // APP0 runs past the end
  EXPECT_FALSE(ReadJpegFrameHeader(long_segment.data(), long_segment.size()).ok());
  EXPECT_FALSE(ReadJpegFrameHeader(c.data(), 10).ok());  // ends before the frame header
  const std::vector<uint8_t> scan_first = {0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02};
  EXPECT_FALSE(ReadJpegFrameHeader(scan_first.data(), scan_first.size()).ok());
  const std::vector<uint8_t> garbage = {0xFF, 0xD8, 0x12, 0x34, 0x56, 0x78};
  EXPECT_FALSE(ReadJpegFrameHeader(garbage.data(), garbage.size()).ok());
}

}  // namespace
}  // namespace medscribe::dicom
