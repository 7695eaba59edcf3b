#include "common/civil_time.h"

#include <chrono>

#include <fmt/format.h>

namespace medscribe {

namespace chr = std::chrono;

std::string Date::Iso() const { return fmt::format("{:04d}-{:02d}-{:02d}", year, month, day); }
std::string Date::Dicom() const { return fmt::format("{:04d}{:02d}{:02d}", year, month, day); }

long Date::DaysSinceEpoch() const {
  const chr::year_month_day ymd{chr::year(year), chr::month(static_cast<unsigned>(month)),
                                chr::day(static_cast<unsigned>(day))};
  return static_cast<long>(chr::sys_days(ymd).time_since_epoch().count());
}

Date Date::FromDays(long days) {
  const chr::year_month_day ymd{chr::sys_days(chr::days(days))};
  return Date{static_cast<int>(ymd.year()), static_cast<int>(static_cast<unsigned>(ymd.month())),
              static_cast<int>(static_cast<unsigned>(ymd.day()))};
}

std::string DateTime::Iso() const {
  return fmt::format("{}T{:02d}:{:02d}:{:02d}", date.Iso(), hour, minute, second);
}
std::string DateTime::DicomTime() const {
  return fmt::format("{:02d}{:02d}{:02d}", hour, minute, second);
}

long DateTime::SecondsSinceEpoch() const {
  return date.DaysSinceEpoch() * 86400L + hour * 3600L + minute * 60L + second;
}

DateTime DateTime::FromSeconds(long s) {
  long days = s / 86400, rem = s % 86400;
  if (rem < 0) rem += 86400, days -= 1;
  return DateTime{Date::FromDays(days), static_cast<int>(rem / 3600),
                  static_cast<int>(rem % 3600 / 60), static_cast<int>(rem % 60)};
}

Date AddDays(const Date& d, long days) { return Date::FromDays(d.DaysSinceEpoch() + days); }

DateTime AddMinutes(const DateTime& t, long minutes) {
  return DateTime::FromSeconds(t.SecondsSinceEpoch() + minutes * 60);
}

int AgeInYears(const Date& birth, const Date& on) {
  int age = on.year - birth.year;
  if (on.month < birth.month || (on.month == birth.month && on.day < birth.day)) --age;
  return age;
}

std::string UtcNowIso(bool millis) {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const DateTime t = DateTime::FromSeconds(static_cast<long>(ms.count() / 1000));
  if (!millis) return t.Iso() + "Z";
  return fmt::format("{}.{:03d}Z", t.Iso(), static_cast<int>(ms.count() % 1000));
}

}  // namespace medscribe
