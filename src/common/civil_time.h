// Civil dates and times (proleptic Gregorian, no time zone), formatted the ways DICOM and FHIR
// write them.
//
// Example:
//   DateTime t{Date{2024, 3, 5}, 14, 30, 0};
//   t.date.Iso();            // "2024-03-05"
//   t.date.Dicom();          // "20240305"
//   AddMinutes(t, 90).Iso(); // "2024-03-05T16:00:00"
#pragma once

#include <string>

namespace medscribe {

struct Date {
  int year = 1970, month = 1, day = 1;
  std::string Iso() const;    // YYYY-MM-DD
  std::string Dicom() const;  // YYYYMMDD
  // Days since 1970-01-01.
  long DaysSinceEpoch() const;
  static Date FromDays(long days_since_epoch);
  auto operator<=>(const Date&) const = default;
};

struct DateTime {
  Date date;
  int hour = 0, minute = 0, second = 0;
  std::string Iso() const;        // YYYY-MM-DDThh:mm:ss
  std::string DicomTime() const;  // hhmmss
  long SecondsSinceEpoch() const;
  static DateTime FromSeconds(long seconds_since_epoch);
  auto operator<=>(const DateTime&) const = default;
};

Date AddDays(const Date& d, long days);
DateTime AddMinutes(const DateTime& t, long minutes);
// Completed years between birth and `on` (age as DICOM and clinicians state it).
int AgeInYears(const Date& birth, const Date& on);

// The current UTC time in ISO 8601 with a Z: "YYYY-MM-DDThh:mm:ssZ", or with milliseconds
// ("YYYY-MM-DDThh:mm:ss.mmmZ") when `millis`.
std::string UtcNowIso(bool millis = false);

}  // namespace medscribe
