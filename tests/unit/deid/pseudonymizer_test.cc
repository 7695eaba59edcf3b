#include "deid/pseudonymizer.h"

#include <gtest/gtest.h>

namespace medscribe::deid {
namespace {

TEST(PseudonymizerTest, ConsistentPerKeyAndDifferentAcrossKeys) {
  Pseudonymizer a(std::string(32, 'a')), b(std::string(32, 'b'));
  EXPECT_EQ(a.PatientId("MRN1234567"), a.PatientId("MRN1234567"));
  EXPECT_NE(a.PatientId("MRN1234567"), a.PatientId("MRN1234568"));
  EXPECT_NE(a.PatientId("MRN1234567"), b.PatientId("MRN1234567"));
  EXPECT_EQ(a.PatientId("x").size(), 16u);
  EXPECT_EQ(a.PatientId("x")[0], 'P');
  EXPECT_EQ(a.Token("accession", "ACC1").rfind("ACC-", 0), 0u);
  const std::string uid = a.Uid("1.2.3.4");
  EXPECT_EQ(uid, a.Uid("1.2.3.4"));
  EXPECT_EQ(uid.rfind("2.25.", 0), 0u);
  EXPECT_LE(uid.size(), 64u);
  EXPECT_NE(uid, a.Uid("1.2.3.5"));
}

TEST(PseudonymizerTest, DateShiftIsPerPatientIntoThePast) {
  Pseudonymizer p(std::string(32, 'k'));
  int distinct = 0, previous = 0;
  for (int i = 0; i < 50; ++i) {
    const int s = p.DateShiftDays("MRN" + std::to_string(i));
    EXPECT_LE(s, -30);
    EXPECT_GE(s, -1095);
    EXPECT_EQ(s, p.DateShiftDays("MRN" + std::to_string(i)));
    distinct += s != previous;
    previous = s;
  }
  EXPECT_GT(distinct, 40);
  EXPECT_EQ(ShiftDicomDate("20240301", -1), "20240229");
  EXPECT_EQ(ShiftDicomDate("2024030", -1), "");
  EXPECT_EQ(ShiftDicomDate("20241301", 5), "");
}

}  // namespace
}  // namespace medscribe::deid
