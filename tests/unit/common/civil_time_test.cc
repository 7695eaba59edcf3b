#include "common/civil_time.h"

#include <gtest/gtest.h>

namespace medscribe {
namespace {

TEST(CivilTimeTest, FormatsForDicomAndFhir) {
  DateTime t{Date{2024, 3, 5}, 7, 8, 9};
  EXPECT_EQ(t.date.Iso(), "2024-03-05");
  EXPECT_EQ(t.date.Dicom(), "20240305");
  EXPECT_EQ(t.DicomTime(), "070809");
  EXPECT_EQ(t.Iso(), "2024-03-05T07:08:09");
}

TEST(CivilTimeTest, ArithmeticCrossesMonthsYearsAndLeapDays) {
  EXPECT_EQ(AddDays(Date{2024, 2, 28}, 1).Iso(), "2024-02-29");
  EXPECT_EQ(AddDays(Date{2023, 12, 31}, 1).Iso(), "2024-01-01");
  EXPECT_EQ(AddMinutes(DateTime{Date{2024, 1, 1}, 23, 30, 0}, 45).Iso(), "2024-01-02T00:15:00");
  EXPECT_EQ(AddMinutes(DateTime{Date{2024, 1, 1}, 0, 10, 0}, -20).Iso(), "2023-12-31T23:50:00");
  EXPECT_EQ(Date::FromDays(Date{1999, 7, 4}.DaysSinceEpoch()).Iso(), "1999-07-04");
}

TEST(CivilTimeTest, UtcNowIsIso8601WithZ) {
  const std::string s = UtcNowIso(), ms = UtcNowIso(true);
  ASSERT_EQ(s.size(), 20u) << s;  // YYYY-MM-DDThh:mm:ssZ
  EXPECT_EQ(s[10], 'T');
  EXPECT_EQ(s.back(), 'Z');
  ASSERT_EQ(ms.size(), 24u) << ms;  // YYYY-MM-DDThh:mm:ss.mmmZ
  EXPECT_EQ(ms[19], '.');
  EXPECT_EQ(ms.back(), 'Z');
  EXPECT_GE(s.substr(0, 4), "2024");
}

TEST(CivilTimeTest, AgeCountsCompletedYears) {
  EXPECT_EQ(AgeInYears(Date{1950, 6, 15}, Date{2024, 6, 14}), 73);
  EXPECT_EQ(AgeInYears(Date{1950, 6, 15}, Date{2024, 6, 15}), 74);
}

}  // namespace
}  // namespace medscribe
