#include "deid/text_deid.h"

#include <gtest/gtest.h>

#include <fstream>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>

#include "deid/identifiers.h"
#include "fhir/reader.h"
#include "synth/cohort.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::deid {
namespace {

TEST(TextScrubberTest, EnglishIdentifiersAreRemovedAndDatesShifted) {
  TextScrubber s({"Mary Smith", "Mary", "Smith", "MRN4820193"}, -10);
  const std::string out = s.Scrub(
      "Patient: Mary Smith  MRN: MRN4820193  DOB: 03/05/1950\n"
      "Seen on March 15, 2024 (2024-03-15). 93-year-old woman. Call (555) 123-4567 or "
      "mary.smith7@example.com. SSN 123-45-6789, ID A123456789, lives at 42 Maple Street. "
      "Referred by Dr. John Carter. Accession ACC24000123. Other MRN 7654321.");
  for (const char* phi : {"Mary", "Smith", "4820193", "03/05/1950", "March 15, 2024", "2024-03-15",
                          "93-year", "555", "example.com", "123-45-6789", "A123456789", "42 Maple",
                          "Carter", "ACC24000123", "7654321"}) {
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  }
  EXPECT_NE(out.find("02/23/1950"), std::string::npos) << out;  // shifted by -10 days, same format
  EXPECT_NE(out.find("March 5, 2024"), std::string::npos) << out;
  EXPECT_NE(out.find("2024-03-05"), std::string::npos) << out;
  EXPECT_NE(out.find("90+-year-old"), std::string::npos) << out;
  EXPECT_NE(out.find("Dr. [NAME]"), std::string::npos) << out;
}

TEST(TextScrubberTest, TraditionalChineseIdentifiersAreRemoved) {
  TextScrubber s({"陳美玲", "MRN1234567"}, 5);
  const std::string out = s.Scrub(
      "病人陳美玲，93歲，女性，病歷號碼MRN1234567，身分證字號B223456789，出生日期1931年4月2日。"
      "聯絡電話0912-345-678，住址台北市大安區復興南路一段100號。轉診醫師：Hill Elizabeth醫師。");
  for (const char* phi : {"陳美玲", "93歲", "1234567", "B223456789", "1931年4月2日", "0912-345-678",
                          "復興南路", "Hill"}) {
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  }
  EXPECT_NE(out.find("1931年4月7日"), std::string::npos) << out;
  EXPECT_NE(out.find("90+歲"), std::string::npos) << out;
}

// Identifiers written the way other people write them, none of which the record lists: each
// must go, and be counted under its Safe Harbor category.
TEST(TextScrubberTest, UnlistedIdentifiersOfEveryKindAreRemovedAndCounted) {
  TextScrubber s({}, 7);
  struct Case {
    const char* text;
    const char* phi;
    const char* category;
  };
  const Case cases[] = {
      {"Her daughter Jennifer Walsh visited.", "Jennifer", "name"},
      {"Accompanied by his son, Mark.", "Mark", "name"},
      {"Mrs. O'Brien signed the consent.", "O'Brien", "name"},
      {"Emergency contact: Mei-Ling Chen.", "Mei-Ling", "name"},
      {"Discussed with Chen Wei-Ting of the ward.", "Wei-Ting", "name"},
      {"家屬女兒陳美玲表示病人昨晚咳嗽。", "陳美玲", "name"},
      {"由林志明醫師看診。", "林志明", "name"},
      {"王醫師同意出院。", "王", "name"},
      {"Home (02)2771-3456 after six.", "2771-3456", "phone"},
      {"Call 02-2771-3456 or +886 2 2771 3456.", "2771", "phone"},
      {"Mobile 0912 345 678.", "345 678", "phone"},
      {"Seen 2024/03/05 in clinic.", "2024/03/05", "date"},
      {"Seen 31/01/2024.", "31/01/2024", "date"},
      {"Admitted on 5 March 2024.", "5 March", "date"},
      {"Admitted Mar. 5th, 2024.", "Mar. 5th", "date"},
      {"民國113年3月5日入院。", "3月5日", "date"},
      {"Follow up 113/03/05.", "113/03/05", "date"},
      {"Since March 2024.", "March 2024", "date"},
      {"Portal https://portal.example-hospital.org/p/8812.", "example-hospital", "url"},
      {"See www.example.com/records.", "example.com", "url"},
      {"Logged in from 10.24.1.77.", "10.24.1.77", "ip"},
      {"Device at fe80::1ff:fe23:4567:890a.", "fe80", "ip"},
      {"Car plate ABC-1234 in the lot.", "ABC-1234", "vehicle"},
      {"車牌號碼：AMK-5821。", "AMK-5821", "vehicle"},
      {"Pump serial no. SN-77A9213.", "77A9213", "device"},
      {"Pacemaker S/N PJN123456X.", "PJN123456X", "device"},
      {"Member ID: XKZ88120-01.", "XKZ88120", "account"},
      {"健保卡號：0001234567。", "0001234567", "account"},
      {"License number D1234-5678.", "D1234-5678", "license"},
      {"Resident certificate AC01234567.", "AC01234567", "id"},
      {"New resident ID A800123456.", "A800123456", "id"},
      {"Chart no. 00884211.", "00884211", "mrn"},
      {"Fingerprint ref FP-220931 on file.", "FP-220931", "biometric"},
      {"Aged 93, frail.", "93", "age"},
  };
  for (const Case& c : cases) {
    ScrubStats stats;
    const std::string out = s.Scrub(c.text, &stats);
    EXPECT_EQ(out.find(c.phi), std::string::npos) << c.phi << " survived: " << out;
    EXPECT_GT(stats.by_category[c.category], 0) << c.category << " not counted for: " << out;
  }
}

TEST(TextScrubberTest, ShortSurnamesCountAndLoneCharactersDoNot) {
  TextScrubber s({"Li", "Wu", "陳", "陳美玲", "Park"}, 0);
  const std::string out = s.Scrub("Seen with Li and Wu. 陳美玲，陳舊性病灶。Parkinson disease.");
  EXPECT_EQ(out.find("Li "), std::string::npos) << out;
  EXPECT_EQ(out.find("Wu"), std::string::npos) << out;
  EXPECT_EQ(out.find("陳美玲"), std::string::npos) << out;
  EXPECT_NE(out.find("陳舊性病灶"), std::string::npos) << out;  // not the lone surname
  EXPECT_NE(out.find("Parkinson disease"), std::string::npos) << out;
}

TEST(TextScrubberTest, ClinicalWordsAndNumbersStay) {
  TextScrubber s({}, 7);
  for (const char* text :
       {"History of Parkinson disease and Down syndrome; Graves disease treated.",
        "WBC 17.2 10^3/uL, CRP 85 mg/L, BP 120/80, SpO2 91%, at 10:30:00.",
        "A 12 mm nodule; 3.5 x 2.1 cm mass; C5-C6 disc; T2 hyperintense; COVID-19 negative.",
        "Chest PA and lateral. The right pleural effusion has increased since the prior study.",
        "右側肋膜積水增加，高血壓病史，陳舊性病灶。", "Sodium 138 mmol/L, creatinine 1.2 mg/dL."}) {
    EXPECT_EQ(s.Scrub(text), text);
  }
}

TEST(TextScrubberTest, AnyBytesAreAcceptedAndPhiNeverGrows) {
  TextScrubber s({"Mary Smith"}, 3);
  std::string junk = "\xff\xfe Mary Smith \xe4\xb8 \x01\x0e\x02 陳美玲 \xc3(";
  const std::string out = s.Scrub(junk);
  EXPECT_EQ(out.find("Mary Smith"), std::string::npos);
  EXPECT_EQ(out.find('\x01'), std::string::npos);  // placeholders never leak
  EXPECT_EQ(s.Scrub(""), "");
  // A text that is all identifier shrinks to tags.
  const std::string phone = "0912-345-678";
  EXPECT_LE(s.Scrub(phone).size(), std::string("[PHONE]").size());
}

TEST(TextScrubberTest, LongInputIsScrubbedInPiecesWithoutExhaustingTheStack) {
  TextScrubber s({"Mary Smith"}, 0);
  std::string text;
  for (int i = 0; i < 4000; ++i) text += "Mary Smith called from (555) 123-4567. ";
  text += "住址" + std::string(100000, 'x');
  const std::string out = s.Scrub(text);
  EXPECT_EQ(out.find("Mary Smith"), std::string::npos);
  EXPECT_EQ(out.find("555"), std::string::npos);
  EXPECT_NE(out.find("[ADDRESS]"), std::string::npos);
}

TEST(TextScrubberTest, ClinicalTextIsLeftAlone) {
  TextScrubber s({"Hill"}, -3);
  const std::string report =
      "FINDINGS: Moderate right pleural effusion. 12 mm nodule in the left upper zone. WBC 17.2 "
      "10^3/uL.";
  EXPECT_EQ(s.Scrub(report), report);
}

// The proof on the synthetic cohort: with the identifiers the FHIR record holds, no planted PHI
// string survives in any note or report.
TEST(TextScrubberTest, NoPlantedPhiSurvivesInTheCohortsNotesAndReports) {
  testing::TempDir tmp;
  ASSERT_TRUE(testing::WriteSmallCohort(tmp / "cohort", 120, 17).ok());
  fhir::FhirReader reader;
  ASSERT_TRUE(reader.AddPath((tmp / "cohort" / "fhir").string()).ok());
  std::map<std::string, fhir::Patient> patients;
  std::map<std::string, std::vector<std::string>> texts;  // by encounter id
  for (const fhir::Resource& r : reader.resources()) {
    if (auto* p = std::get_if<fhir::Patient>(&r)) patients[p->id] = *p;
    if (auto* d = std::get_if<fhir::DocumentReference>(&r))
      texts[d->encounter.id].push_back(d->text);
    if (auto* d = std::get_if<fhir::DiagnosticReport>(&r))
      texts[d->encounter.id].push_back(d->text);
  }
  std::ifstream truth(tmp / "cohort" / "truth" / "labels.jsonl");
  int checked = 0;
  for (std::string line; std::getline(truth, line);) {
    const auto t = nlohmann::json::parse(line);
    const TextScrubber scrubber(IdentifiersOf(patients.at(t["patient_id"].get<std::string>())),
                                -40);
    for (const std::string& text : texts.at(t["encounter_id"].get<std::string>())) {
      const std::string out = scrubber.Scrub(text);
      for (const auto& phi : t["planted_phi"]) {
        const std::string p = phi.get<std::string>();
        if (text.find(p) == std::string::npos) continue;  // planted elsewhere (DICOM, FHIR)
        ++checked;
        EXPECT_EQ(out.find(p), std::string::npos)
            << "'" << p << "' survived in " << t["encounter_id"] << ":\n"
            << out;
      }
    }
  }
  EXPECT_GT(checked, 500);
}

}  // namespace
}  // namespace medscribe::deid

namespace medscribe::deid {
namespace {

TEST(TextScrubberTest, IdentifiersWrittenWithoutTheUsualLabelsAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Pgr 5120. Call 555-0199 after 6. Write to k.lindqvist at mailbox dot org or see "
      "records.samplecare.org/p/12 online. SSN 321 54 9876. Passport No. K7654321. Medicare ID "
      "2AB3-CD4-EF56. Arrived by scooter MTR-905. Lives on Juniper Hollow Rd. Office: 3F, No. 17, "
      "Ln. 8, Heping W. Rd., Wanhua Dist. Photo on file DSC_0042.JPG. An 96 yo man; 101 years of "
      "age. Follow-up on 3/9 in clinic. 住在高雄市苓雅區四維三路2號5樓。年齡：95。出生日期 "
      "65/11/30。"
      "已通知社工師吳承翰，陪同者為姪女周佳穎。 History from wife, Brennagh, today. Seen Tuesday "
      "4/8 again. Moved from Eugene, OR last year. Fingerprint image FPI-2231 on file.");
  for (const char* phi :
       {"5120",          "555-0199", "lindqvist", "samplecare", "321 54 9876", "K7654321",
        "2AB3-CD4-EF56", "MTR-905",  "Juniper",   "Heping",     "DSC_0042",    "96 yo",
        "101 years",     "3/9",      "四維三路",  "95",         "65/11/30",    "吳承翰",
        "周佳穎",        "Brennagh", "4/8",       "Eugene",     "FPI-2231"}) {
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  }
  EXPECT_NE(out.find("90+ yo"), std::string::npos) << out;
  EXPECT_NE(out.find("出生日期 65/11/27"), std::string::npos) << out;  // ROC date, shifted
  EXPECT_NE(out.find("Call [PHONE]"), std::string::npos) << out;
}

TEST(TextScrubberTest, PlacesAfterAMoveDaysAloneAndAccentedNamesAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Transferred from St. Brigid's Hospital in Kalispell. Moved to Hillsboro last spring. "
      "Readmitted on the 9th with dyspnea. Discussed with patient's niece, Marisol Echeverría.");
  for (const char* phi : {"Brigid", "Kalispell", "Hillsboro", "9th", "Marisol", "ía"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("Transferred from [ADDRESS]."), std::string::npos) << out;
  EXPECT_NE(out.find("Moved to [ADDRESS] last spring"), std::string::npos) << out;
  EXPECT_NE(out.find("on the [DATE] with dyspnea"), std::string::npos) << out;
  EXPECT_NE(out.find("niece, [NAME]."), std::string::npos) << out;
}

TEST(TextScrubberTest, HolidaysTitlesEmployersStepRelativesAndOldAgesAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Pt reports a fall on Christmas Eve. Collateral from stepdaughter Leilani. Chaplain Rev. "
      "Oduya visited. Fitzwilliam from PT recommends a walker. Works at Pinecrest Lumber Co. as a "
      "foreman. Now 97 and still gardening. Independent despite being 96. Friend Big Mike came.");
  for (const char* phi :
       {"Christmas", "Leilani", "Oduya", "Fitzwilliam", "Pinecrest", "97", "96", "Mike"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("recommends a walker"), std::string::npos) << out;
}

TEST(TextScrubberTest, InitialsWeekdayDatesUnitsTownsHandlesAndEnrollmentsAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "J. R. Whitcombe arranged transport. Surgery booked for Tues 5/14.\n"
      "Mail to PO Box 4471, Marblehead 01945.\nApt 4B, 219 Larchmont Ave.\n"
      "Voiceprint enrollment VP-55120 on file. Twitter handle @grandpa_vince42 posted it.");
  for (const char* phi :
       {"Whitcombe", "5/14", "4471", "Marblehead", "01945", "4B", "VP-55120", "grandpa"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("arranged transport"), std::string::npos) << out;
  EXPECT_NE(out.find("Apt "), std::string::npos) << out;
}

TEST(TextScrubberTest, TaiwaneseExtensionsAndPrefixedClaimNumbersAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "請撥打07-331-2121轉2245。電話(02)2771-2171分機305。\n"
      "Claim CLM 7730-2291-04 submitted to the insurer. Claim # 88412093 paid.");
  for (const char* phi : {"2245", "2121", "305", "7730", "CLM", "88412093"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("submitted to the insurer"), std::string::npos) << out;
  EXPECT_NE(out.find("請撥打"), std::string::npos) << out;
}

TEST(TextScrubberTest, CredentialsKinTitlesBusinessesAndTownsAfterAStreetAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Wound care by Beatrix Olufemi, CWON. Owns Blue Heron Bakery on the corner.\n"
      "伯父馮國華表示病人近日食慾差。會同游藥師調整劑量。\n"
      "Echo done 03-Mar-2024. Last well on the evening of 11/02. RN license TX 889213 on file.\n"
      "Returned to 18 Rue des Lilas, Lyon. Moved to 12 Oak Street, Salem.");
  for (const char* phi : {"Olufemi", "Beatrix", "Heron", "馮國華", "游", "03-Mar", "11/02",
                          "889213", "Lilas", "Lyon", "Oak Street", "Salem"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Wound care by", "on the corner", "表示病人", "藥師調整劑量"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
}

TEST(TextScrubberTest, TwoDigitYearDatesUkPhonesHealthCardsDevicesAndTaiwaneseCities) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "經柯主治醫師同意後出院。Date of injury: 10.05.23. Son can be reached on 07700 900461.\n"
      "Health card 1234-567-890-AB presented. CGM transmitter 8G4TQ2 replaced.\n"
      "From Kaohsiung, moved north. Followed at Kaohsiung Veterans General Hospital.");
  for (const char* phi : {"柯", "10.05.23", "900461", "1234-567", "8G4TQ2", "From Kaohsiung"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"主治醫師同意後出院", "Kaohsiung Veterans General Hospital", "replaced"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
}

TEST(TextScrubberTest, ApostropheYearsGroupedHealthNumbersAndCommunityPlacesAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Colonoscopy March '22 was unremarkable. NHS number 943 476 5919. SIN 046-454-286.\n"
      "Attends Grace Fellowship Church with her husband. Helps at the Riverside Soup Kitchen.");
  for (const char* phi : {"March", "'22", "943 476", "046-454", "Grace", "Riverside"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Colonoscopy", "was unremarkable", "NHS number", "with her husband"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  // A side before a body part that shares a name with a place of worship stays.
  EXPECT_EQ(s.Scrub("Left Temple swelling."), "Left Temple swelling.");
}

TEST(TextScrubberTest, RoleSurnamesHospitalNumbersCertificationsAndStatedAgesAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Bedside nurse Kowalczyk noted the desaturation. Hospital number H0723345.\n"
      "Board certification ABIM-338920. Patient is 96 and lives alone.");
  for (const char* phi : {"Kowalczyk", "H0723345", "338920", "96"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Bedside nurse", "noted the desaturation", "lives alone"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Seen by the nurse practitioner. Charge nurse Station 4 called.",
                           "She is 95% on room air. Patient is 92 kg. He was 98.6 at triage."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, CaregiversMonthYearsRoadsPlatesAndTravelDocumentsAreRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "由看護阿蒂照顧。開刀日：2024年5月。Booster 10/2021. Clinic line 555-0109 option 3.\n"
      "SSN last four 4471 verified. Refugee travel document RTD-204551. Pickup truck XRT 4419.\n"
      "Lives off Route 9 near the reservoir. Great-grandmother is 104 years young.\n"
      "Care coordinated by Tamsin Everly, CCM. Teaches at Lincoln Middle School.");
  for (const char* phi : {"阿蒂", "2024年5月", "10/2021", "0109", "4471", "204551", "XRT",
                          "Route 9", "104", "Tamsin", "Lincoln"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"照顧", "option 3", "near the reservoir", "verified"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"看護人員協助翻身。看護工每日照顧。", "Route of administration: oral.",
                           "Dose 1/2 tablet. Platelets 150-400."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, TitlesTollFreeNumbersBoatsSummerPlacesSignaturesAndAgesAtDeath) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "已告知鄭組長。轉接0800-123-456客服。Boat registration FL 4471 KX.\n"
      "Spent summers in Lukang with grandparents. Signature specimen SIG-00418 stored.\n"
      "Mother died at 97; father at 80.");
  for (const char* phi : {"鄭", "0800", "4471", "Lukang", "00418", "97"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"組長", "客服", "with grandparents", "father at 80"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Meds given at 0800. Spent the night in the ICU.",
                           "Sodium 140. Died at home; time of death 0412."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, ACodeAfterAnyNumberLabelIsRemoved) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub("Locker number LK-55120. Parking permit holder no. 88A219.");
  for (const char* phi : {"55120", "88A219"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("Locker number"), std::string::npos) << out;
  for (const char* text :
       {"CPT code 71046. Dose number 2 given. Room 4 then bed 12.", "ICD-10 J18.9. Series 3 of 5."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, SittersAccessionsCardsSpacedSerialsInnsGroupsAndAppositiveAges) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "PT session with Anneliese Brandt, PT, DPT. Sitter Juniper Hale stayed overnight.\n"
      "Admitted 6-Feb for sepsis. Her daughter's number is 443 555 0178.\n"
      "Lab accession LA-2024-449102. Credit card ending 4417 charged. EMT certificate EMT-B "
      "772190.\nMotorhome RV-88231. Feeding pump S/N: FP 2209 7761. Staying at the Harbor Inn.\n"
      "Grandfather, 99, still drives. Member of Kiwanis since 1990.");
  for (const char* phi : {"Anneliese", "Juniper", "6-Feb", "0178", "449102", "4417", "772190",
                          "88231", "2209", "Harbor", ", 99,", "Kiwanis"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"for sepsis", "still drives", "since 1990", "stayed overnight"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Member of the Tumor Board. Volunteers at Cardiology Clinic.",
                           "Glucose 120 130 140 over three days. Patient, 45, alert."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, WeekdayDatesRelativeMonthsLongCodesCareHomesRoadsAndBirthdays) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Last seen well Sat 9/14 evening. Next INR check next Tuesday the 19th. 去年12月開始咳嗽。\n"
      "Mexican voter card GOMR850101HDFRRN09. Moved into Sunrise Senior Living last month.\n"
      "住在花蓮縣吉安鄉中山路三段。She celebrated her 100th birthday. Coaches at Eastside Boxing "
      "Gym.");
  for (const char* phi :
       {"9/14", "19th", "12月", "850101", "Sunrise", "吉安鄉", "100th", "Eastside"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"evening", "Next INR check", "開始咳嗽", "last month", "birthday"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"O2 Sat 9/10 of the time. 治療3個月後改善。", "HbA1c 7.2, COVID19 PCR."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, ParenthesizedKinQuartersWeeksGroupsStimulatorsIslandsAndOldAgeWords) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Pt's nephew (Caspian) is the POA. 大伯黃建國代為簽名。Due for mammogram Q3 2025.\n"
      "Admission 2024-W32 per bed board. Group number GRP 004471 on the card.\n"
      "Nerve stimulator IPG 3058-221. Family from Xiaoliuqiu island. Healthy nonagenarian.");
  for (const char* phi :
       {"Caspian", "黃建國", "Q3", "W32", "004471", "3058", "Xiaoliuqiu", "nonagenarian"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"is the POA", "代為簽名", "per bed board", "on the card"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Islet cell tumor. Rhode Island resident. An octogenarian.",
                           "Q3 to Q4 h dosing. Week 32 of gestation."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, GrandniecesCaregiversDaysForGroupedIdsRecordingsAndChoirs) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Accompanied by her grandniece Tallulah. 看護工蘇西拉每日陪伴。Procedure set for the 2nd of "
      "next month.\nPermanent resident ID PR 4412 9987. Gait recording GR-7721 for the study.\n"
      "Sings with the Riverside Gospel Choir. Her ex-wife Corinne is not to be told.");
  for (const char* phi : {"Tallulah", "蘇西拉", "2nd", "4412", "7721", "Riverside", "Corinne"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"每日陪伴", "of next month", "for the study", "not to be told"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text :
       {"Repeat for the 2nd time. 看護工每日照顧。", "Band-like pain. Tumor Board."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, RoleLabelsRocMonthsAhvSlashCodesTractorsAndTownships) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Interpreter: Hamid Rostami (Farsi). 112年2月曾接受手術。Swiss AHV number "
      "756.1234.5678.97.\nRef. number REF/2024/00917. Tractor JD-4410-X involved. "
      "老家在雲林縣斗六市。");
  for (const char* phi : {"Hamid", "112年", "5678", "00917", "4410", "斗六"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"(Farsi)", "曾接受手術", "involved", "老家在"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Source: patient and daughter. 3年2月前開始。", "Dose 2.5 mg/day."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, CapitalizedKinGolfCartsLetteredHouseNumbersHandGeometryAndTurningNinety) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Granddaughter Perpetua is her main support. Golf cart GC-1187.\nHome: 3B Elm Terrace, "
      "Newport.\nHand geometry HG-3301 enrolled at work. Will turn ninety next month.");
  for (const char* phi : {"Perpetua", "1187", "Elm", "Newport", "3301", "ninety"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Granddaughter", "main support", "enrolled at work", "next month"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  EXPECT_EQ(s.Scrub("Child Protective Services notified."), "Child Protective Services notified.");
}

TEST(TextScrubberTest, NamesBeforeTheirRelationNeighbourhoodChiefsRareSurnamesAndResorts) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Pt identifies Roscoe, her partner, as next of kin. "
      "經郝社工員評估。鄰長陳阿土幫忙叫救護車。\n"
      "Vacations in Kenting every winter.");
  for (const char* phi : {"Roscoe", "郝", "陳阿土", "Kenting"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept :
       {"identifies", "her partner", "社工員評估", "幫忙叫救護車", "every winter"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Today, her husband called. 照顧良好，符合診斷，接受雷射治療。",
                           "民國一百一十年診斷糖尿病。"})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, WeekdayMorningsSeasonsShortIsoDatesGroupedDigitsRefsAssetTagsFaceScans) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Chest pain since Monday morning, the 4th. Last Pap Spring 2022. ERCP 2021-7-3 with stent.\n"
      "Indian Aadhaar 2345 6789 0123. Billing ref BR-2024-118273. Moped MP-22X19.\n"
      "Infusion pump asset tag AT-009812. Face scan FS-3390 used at check-in.");
  for (const char* phi : {"4th", "Spring", "2021-7-3", "6789", "118273", "22X19", "009812", "3390"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("2021-06-30"), std::string::npos) << out;  // shifted, in ISO form
  for (const char* kept : {"with stent", "used at check-in", "Infusion pump"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text :
       {"Sodium reference 135-145. Spring cleaning tired her.", "Reference range 4-11."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, NightsOfTheNthRelativeWeekdaysAustralianMobilesPlansAndShortLicences) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Fever began the night of the 7th. Next dose Fri the 13th. 上週三開始發燒。\n"
      "Call her on 0412 345 678 (Australia). Medicare Advantage plan H1234-001.\n"
      "Counselor license LPC 8812.");
  for (const char* phi : {"7th", "13th", "上週三", "345 678", "H1234", "8812"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Fever began", "開始發燒", "(Australia)", "Counselor license"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Plan: follow up in 2 weeks. On the 3rd day, afebrile.",
                           "Colonoscopy late 2019. Hotline 1-800-FLOWERS."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, NamesBeforeARoleInParenthesesWeekendsWorkNumbersChartsProcessorsKinAges) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "阿美（看護）表示病人拒食。Pain started the weekend of the 12th. Work number 555.0148.\n"
      "Chart C-0091-2277 reviewed. Cochlear processor CP-910-44821. Grandmother is 98 and sharp.");
  for (const char* phi : {"阿美", "12th", "0148", "0091", "44821", "98"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"（看護）表示病人拒食", "Pain started", "reviewed", "and sharp"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"主訴胸痛（病人）。評估（醫師）。前天晚上開始胸痛。",
                           "Chart 2 of 3. Her sister is 45 and well. Home 2 days."})
    EXPECT_EQ(s.Scrub(text), text);
}

TEST(TextScrubberTest, MonthsThatDateSomethingAndSurnamesBeforeACredential) {
  const TextScrubber s({}, -3);
  const std::string out = s.Scrub(
      "Follow-up planned mid-April. Better since March. Hsu, PA-C, placed the order.\n"
      "Seen by early June.");
  for (const char* phi : {"April", "March", "Hsu", "June"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Follow-up planned", "PA-C, placed the order", "Seen by"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Symptoms may improve in May.", "Hypotensive, MD notified.",
                           "Febrile, RN aware; cultures sent.", "She may march in place."})
    EXPECT_EQ(s.Scrub(text).find("[NAME]"), std::string::npos) << text;
  EXPECT_EQ(s.Scrub("Symptoms may improve."), "Symptoms may improve.");
}

TEST(TextScrubberTest, RolesOpeningASentenceAccentedSurnamesNicknamesWeeksOfAMonthPagers) {
  const TextScrubber s({}, -3);
  const std::string out = s.ScrubField(
      "Interpreter Khadija Benali present. Ortho resident Dr. Sæther reduced it.\n"
      "二舅邱明德昨天來過。室友阿翔發現他昏倒。Stopped the first week of May. Pager 3-4417.");
  for (const char* phi : {"Khadija", "Benali", "æther", "邱明德", "阿翔", "May", "4417"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Interpreter ", " present", "reduced it", "昨天來過", "發現他昏倒",
                           "Stopped the first week of", "Pager "})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Interpreter Services Department called.", "病人和阿斯匹靈過敏。",
                           "與阿姨同住。", "Call 3-4417 was a typo for room 3."})
    EXPECT_EQ(s.ScrubField(text), text);
}

TEST(TextScrubberTest, HolidayWeekendsDaysAfterVisitVerbsAndGreatAunts) {
  const TextScrubber s({}, -3);
  const std::string out =
      s.ScrubField("Rash since Valentine's weekend. Seen the 21st by cardiology. 姑婆林阿雪同住。");
  for (const char* phi : {"Valentine", "21st", "林阿雪"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"Rash since", "by cardiology", "同住"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Seen the 2nd time this week.", "Admitted the 3rd day of fever.",
                           "Christmas disease (hemophilia B)."})
    EXPECT_EQ(s.ScrubField(text), text);
}

TEST(TextScrubberTest, SurnameParticlesAfterATitleAndNamesSetOffBeforeTheirKin) {
  const TextScrubber s({}, -3);
  const std::string out = s.ScrubField(
      "Case discussed with Dr. van der Berg of nephrology. Mr. di Stefano called. History "
      "obtained from Lucía, the patient's granddaughter. Spoke with Ines Moreau, her "
      "stepdaughter.");
  for (const char* phi : {"Berg", "Stefano", "Lucía", "Moreau"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* kept : {"of nephrology", "History obtained from", "the patient's granddaughter",
                           "her stepdaughter"})
    EXPECT_NE(out.find(kept), std::string::npos) << kept << " lost: " << out;
  for (const char* text : {"Yesterday, her daughter called.", "Seen by Cardiology, the team.",
                           "Transferred to ICU, her husband at bedside."})
    EXPECT_EQ(s.ScrubField(text), text);
}

TEST(TextScrubberTest, ADayOfTheMonthAVisitIsMovedTo) {
  const TextScrubber s({}, -3);
  for (const char* text : {"Rescheduled to the 30th.", "Surgery postponed to the 4th.",
                           "Holds the drug through the 12th."}) {
    const std::string out = s.ScrubField(text);
    EXPECT_NE(out.find("[DATE]"), std::string::npos) << out;
  }
  for (const char* text : {"Moved to the 5th floor.", "Changed to the 2nd line of therapy."})
    EXPECT_EQ(s.ScrubField(text), text);
}

TEST(TextScrubberTest, AnAgeBetweenCommasAfterANeighbourOrARelation) {
  const TextScrubber s({}, -3);
  for (const char* text : {"Neighbor, 92, checks on her.", "Her son, 91, is the proxy."}) {
    const std::string out = s.ScrubField(text);
    EXPECT_EQ(out.find("9"), out.find("90+")) << out;
    EXPECT_NE(out.find("90+"), std::string::npos) << out;
  }
  EXPECT_EQ(s.ScrubField("Son, 45, is the proxy."), "Son, 45, is the proxy.");
}

TEST(TextScrubberTest, AWeekdayThatDatesAnEventADayOfARelativeMonthAndShiftWork) {
  const TextScrubber s({}, -3);
  for (const char* text :
       {"Confused since Tuesday.", "Fell last Friday.", "Started Monday.",
        "he fell on saturday night", "表示上個月十五號開始喘。", "本月3號回診。"}) {
    const std::string out = s.ScrubField(text);
    EXPECT_NE(out.find("[DATE]"), std::string::npos) << out;
  }
  const std::string job = s.ScrubField("Pt works nights at Fairmont Distribution Center.");
  EXPECT_EQ(job.find("Fairmont"), std::string::npos) << job;
  // A weekly schedule names no date.
  for (const char* text : {"Dialysis on Mondays.", "Dialysis on Monday, Wednesday and Friday.",
                           "Clinic open Monday through Friday."})
    EXPECT_EQ(s.ScrubField(text), text);
}

TEST(TextScrubberTest, AVisitOnAWeekdayAHomeParkAndATownAPersonIsFrom) {
  const TextScrubber s({}, -3);
  const std::string out = s.ScrubField(
      "He'll visit Sunday. Brought in from Sunset Ridge Mobile Home Park. A retired teacher from "
      "Bend, a native of Yilan.");
  for (const char* phi : {"Sunday", "Sunset", "Bend", "Yilan"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* text : {"A woman of Taiwanese descent.", "A transfer from Cardiology.",
                           "Nurse from Radiology called."})
    EXPECT_EQ(s.ScrubField(text), text);
}

TEST(TextScrubberTest, APlaceAfterDroveHerADayABedIsAvailableAndAShotsDate) {
  const TextScrubber s({}, -3);
  const std::string out = s.ScrubField(
      "Her friend drove her from Hood River. SNF bed available Thursday. Flu shot given 10/3.");
  for (const char* phi : {"Hood", "Thursday", "10/3"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  for (const char* text : {"Given 1/2 tablet.", "Drove her home.", "Open Monday through Friday."})
    EXPECT_EQ(s.ScrubField(text), text);
}

// Scrubs `text` with no known identifiers and returns the result, which must hold none of `phi`;
// each of `keep`, scrubbed alone, must come back unchanged.
std::string ExpectScrubbedAndKept(const std::string& text, std::initializer_list<const char*> phi,
                                  std::initializer_list<const char*> keep) {
  const TextScrubber s({}, -3);
  const std::string out = s.ScrubField(text);
  for (const char* p : phi) EXPECT_EQ(out.find(p), std::string::npos) << p << " in: " << out;
  for (const char* k : keep) EXPECT_EQ(s.ScrubField(k), k);
  return out;
}

TEST(TextScrubberTest, ASportsRolesNameAStadiumATeamsHighSchoolAStudentsSchoolACaseNumber) {
  ExpectScrubbedAndKept(
      "Athlete Keanu Alapaki-Moore, 16, plays for the Kapolei High Hurricanes; hurt at Aloha "
      "Stadium. Athletic trainer Brandi Kealoha texted. Coach Dale Fujimoto agreed.",
      {"Keanu", "Alapaki", "Kapolei", "Aloha", "Brandi", "Kealoha", "Fujimoto"},
      {"Fall risk: High.", "Athletic trainer present.", "Coach class on the plane.",
       "Risk Level High Priority.", "Trainer Services Team called."});
  ExpectScrubbedAndKept("外孫女陳品妤（文藻外語大學學生）照顧；案號LTC-112-008813。",
                        {"文藻", "LTC-112", "008813"},
                        {"孫女是大學生。", "（大學生）", "案號待補。", "（國中生）陪同。"});
}

TEST(TextScrubberTest, AFamilyMedicineClinicAReferralNumberAStoreAtACorner) {
  ExpectScrubbedAndKept(
      "Follow-up with Dr. Qureshi at Lakeview Family Medicine; referral AMD-771204. Her niece "
      "will pick up the furosemide at the Walgreens on Clark and Diversey.",
      {"Qureshi", "Lakeview", "AMD-771204", "Walgreens", "Clark", "Diversey"},
      {"Admitted to Internal Medicine.", "Follow up in Family Medicine clinic.",
       "Referral to cardiology placed.", "Patient on Lasix and Coreg.",
       "Seen by the pharmacy at discharge and at home.", "Pharmacy on Floor and Unit B stock."});
}

TEST(TextScrubberTest, ATownAtTheEndOfACruiseAndAnEmployerOfManyYears) {
  ExpectScrubbedAndKept(
      "Returned from a cruise to Cozumel with diarrhea. He worked 30 years at Kessler Tool & Die. "
      "She worked as a welder for Acme Rail. Back from visiting her sister in Tucson.",
      {"Cozumel", "Kessler", "Acme", "Tucson"},
      {"A trip to Radiology for a CT.", "Worked 3 years as a nurse.",
       "No flights since the surgery.", "Visiting her son in the ICU."});
}

TEST(TextScrubberTest, ANameAfterNamedATownAfterFlewInAndAfterAClinicAShiftsEmployerAUsername) {
  const std::string out = ExpectScrubbedAndKept(
      "Her husband, a retired firefighter named Gus, helps. The RN flew in from Atlanta. Seen at "
      "the VA in White River Junction. Works the night shift at Lakeshore Cold Storage. MyChart "
      "username ggarcia31 reset.",
      {"Gus", "Atlanta", "White River", "Lakeshore", "ggarcia31"},
      {"Started a medication called Eliquis.", "Her username reset.", "A syndrome named Marfan.",
       "Came in to Cardiology."});
  EXPECT_NE(out.find("the VA in"), std::string::npos) << out;
}

TEST(TextScrubberTest, ANumberCalledAMeetingsDateSonsNamedTogetherAndALatinCaregiverName) {
  ExpectScrubbedAndKept(
      "Called 555-0179 (home) twice. Family meeting 12/1 with sons Abe and Isaac. "
      "由外籍看護Siti照顧，女兒Mary Chen陪同。",
      {"555-0179", "12/1", "Abe", "Isaac", "Siti", "Mary"},
      {"Call 911 if worse.", "Sons and daughters visited.", "Called back at 1400.",
       "由看護協助翻身。"});
}

TEST(TextScrubberTest, AChurchByARoleHeldInItAndATownJoinedByVideoFrom) {
  const std::string out = ExpectScrubbedAndKept(
      "He was a deacon at St. Casimir's until his stroke. Granddaughter joins rounds by video "
      "from Hilo. Son called in from Boise. An usher at First Lutheran.",
      {"Casimir", "Hilo", "Boise", "Lutheran"},
      {"Called from Radiology with the result.", "Joined by phone from the ICU.",
       "Pharmacist called from Pharmacy.", "Elder of the clinic team."});
  EXPECT_NE(out.find("by video from"), std::string::npos) << out;
}

TEST(TextScrubberTest, AWeekdayCountedBackAGroupsHallAndAStudysDateAfterDone) {
  const std::string out = ExpectScrubbedAndKept(
      "Discharged two Fridays ago. Plays cribbage at the Knights of Columbus hall. Outside MRI "
      "(done 10/29 at an imaging center). Meets friends at the Elks Lodge.",
      {"Fridays", "Knights", "Columbus", "10/29", "Elks"},
      {"Dialysis on Fridays.", "Waited in the Radiology hall.", "Done 1/2 of the exercises.",
       "Opacity in the RLL post obstruction.", "Ambulated in the hall twice."});
  EXPECT_NE(out.find("hall"), std::string::npos) << out;
}

TEST(TextScrubberTest, ATownJustOutsideATownEvacuatedFromAndATeamCoached) {
  ExpectScrubbedAndKept(
      "They run a goat farm outside Brattleboro. Evacuated from Fort McMurray during the fires. "
      "He coaches Little League for the Riverside Rattlers.",
      {"Brattleboro", "McMurray", "Rattlers"},
      {"Waited outside Radiology.", "Lesion just outside the field.", "Evacuated from the ICU.",
       "Plays for fun.", "Coaches his son."});
}

TEST(TextScrubberTest, ABoyfriendNamedACongregationAttendedFlyingInFromAndALakeNear) {
  ExpectScrubbedAndKept(
      "A car driven by her boyfriend, Dquan, at the time. She attends the Beth Shalom "
      "congregation. Brother is flying in from Tashkent. He hunts near Moosehead Lake.",
      {"Dquan", "Beth", "Shalom", "Tashkent", "Moosehead"},
      {"Fluid near Morison's pouch.", "Attends PT twice weekly.", "Her boyfriend visited.",
       "Lesion near the hilum.", "Attends the Cardiology clinic."});
}

TEST(TextScrubberTest, AnExtensionWrittenWithXATownOfAnInfirmaryAndAShopBehindAHome) {
  ExpectScrubbedAndKept(
      "Call only on his work line, x4417. Records from St. Brigid's Infirmary in Galway. He "
      "lives in a trailer behind the Dollar General on the highway.",
      {"4417", "Galway", "Dollar"},
      {"Vomiting x3 today.", "Line flushed x2.", "Pain x 3 days.",
       "Bed next to the Nurses' Station.", "Waited outside the ICU.", "Opacity behind the heart."});
}

TEST(TextScrubberTest, ARankBeforeASurnameAndTheTownOfAnUnnamedPlaceOfCareOrWork) {
  ExpectScrubbedAndKept(
      "Admitted to rehab in Scranton after the fall. Works nights at the warehouse in Fall River. "
      "Crew chief Sgt. Boudreaux. Seen by Det. Kowalczyk and Capt. Ames.",
      {"Scranton", "Fall River", "Boudreaux", "Kowalczyk", "Ames"},
      {"Back at school in Winter.", "Admitted to rehab in Room 4.", "Lt. Hip pain.",
       "Officer visited.", "Worked on a farm in Summer.", "Major Depressive Disorder.",
       "Lt. knee effusion."});
}

TEST(TextScrubberTest, AHyphenatedSurnameABarWorkedAtAnExAndWhereAVeteranWasStationed) {
  ExpectScrubbedAndKept(
      "Visiting nurse Rosalind Achebe-Park saw her at home. He bartends at O'Malley's on "
      "weekends. Pt's ex, Darnell, has a restraining order. He was stationed in Norfolk.",
      {"Achebe", "Park", "Malley", "Darnell", "Norfolk"},
      {"Chest X-Ray negative.", "Cooks at home.", "Stationed in the ICU overnight.",
       "Ex-smoker, quit 2010.", "Teaches at the local school."});
}

TEST(TextScrubberTest, AGuardianAdLitemAndTheTownSomeoneCoachesOrVolunteersIn) {
  ExpectScrubbedAndKept(
      "Pt's guardian ad litem Corinne Faulk must consent. The caseworker Odalys Brinkerhoff "
      "called. He coaches Little League in Worcester. She volunteers at the food pantry in "
      "Lowell on Sundays.",
      {"Corinne", "Faulk", "Odalys", "Brinkerhoff", "Worcester", "Lowell"},
      {"Teaches in Radiology on Tuesdays.", "Coached in Spring.", "The attorney was called.",
       "Volunteers in Summer.", "Health care proxy on file."});
}

TEST(TextScrubberTest, ABandmateAMedicalCardAHostWithoutSchemeAndAnElderCalledUncle) {
  ExpectScrubbedAndKept(
      "His bandmate Jojo found him backstage. DOT medical card DOT-MC-778201 on file. Uploaded "
      "to files.cardiology-share.example/s/93k2 for a second read. "
      "老伯吳金土由看護陪同。",
      {"Jojo", "778201", "cardiology-share", "吳金土"},
      {"Teammate support was good.", "Medical card reviewed.", "Dose 0.5 mg/kg/day.",
       "Seen q.i.d./prn."});
}

TEST(TextScrubberTest, BiometricLabelsWrittenWithAHyphen) {
  ExpectScrubbedAndKept(
      "Palm-vein scan enrollment PV-20931-L for the pharmacy cabinet. Finger-print template "
      "FP77120 on file. Iris-scan ID IR-5510-A.",
      {"PV-20931-L", "FP77120", "IR-5510-A"},
      {"Palm-vein anatomy normal.", "Iris-scan deferred.", "Finger-print smudged, repeat."});
}

TEST(TextScrubberTest, APenPalAMentorAndAFlatmate) {
  ExpectScrubbedAndKept(
      "Her pen pal Aurelio in Lisbon sent the photos. His mentor Dr Okafor drove him in. Her "
      "flatmate Saoirse called 911.",
      {"Aurelio", "Okafor", "Saoirse"},
      {"Pen pal letters were reviewed.", "Mentor program enrollment.", "Flatmate present."});
}

TEST(TextScrubberTest, ASocialLabelAndAPlaceOfCareAfterFollowedOrSeen) {
  ExpectScrubbedAndKept(
      "Social: 219 09 9999 given for the benefit. Followed by hematology at Beth Israel "
      "Deaconess since 2019. Seen at Spaulding last year. Treated in Cheyenne for the fracture.",
      {"219 09 9999", "Beth Israel", "Deaconess", "Spaulding", "Cheyenne"},
      {"Social work consulted.", "Followed by hematology at the cancer center.",
       "Seen at Cardiology clinic.", "Admitted to Medicine.", "Seen in clinic for the cough.",
       "Social history: 20 pack-years."});
}

TEST(TextScrubberTest, AnAgeOverEightyNineWithAHyphenBeforeYo) {
  ExpectScrubbedAndKept("The 95-yo was seen by geriatrics. A 101-y/o man fell.", {"95", "101"},
                        {"The 45-yo was seen.", "Platelets 95-110.", "Heart rate 95-100."});
}

TEST(TextScrubberTest, ABadgeACdlAHyphenatedMrnALocalCallbackAndAGivenNameWithXiao) {
  ExpectScrubbedAndKept(
      "Employee badge EMP-448812 used. CDL S530-4412-7788 needed. MRN: MR-22-001934. Call-back "
      "number is 555-0147 after five. 病人李小龍，住院中。",
      {"448812", "S530", "001934", "555-0147", "李小龍"},
      {"Badge reader broken.", "CDL renewal pending.", "Platelets 150-400.",
       "小兒科會診，小便正常。", "Call back in 2 weeks."});
}

TEST(TextScrubberTest, AMonthAndDayWrittenWithASlashAfterAChineseWordOfTime) {
  ExpectScrubbedAndKept("母親於7/15來電詢問報告。自3/2起發燒。", {"7/15", "3/2"},
                        {"每次1/2至3/4錠。", "比例為3/4。", "血壓120/80。"});
}

TEST(TextScrubberTest, ANamedPracticeASchoolAndASaintsHospital) {
  ExpectScrubbedAndKept(
      "Her PCP is at Eastside Family Practice. Prior imaging at St. Luke's on Monday. Referred "
      "by the nurse at Lincoln Middle School. PT at Hillcrest Rehab weekly. Attends Oakwood "
      "Elementary School.",
      {"Eastside", "Luke", "Lincoln", "Hillcrest", "Oakwood"},
      {"Seen in Cardiology Clinic.", "Follow up at the Urgent Care Clinic.",
       "She takes St. John's wort.", "Left Temple swelling.", "Community Hospital policy.",
       "Referred to Cardiac Rehab.", "Started Drug Rehab last year."});
}

TEST(TextScrubberTest, AStreetWithADirectionalACornerAPlateAfterAMakeAndAbbreviatedAdmission) {
  ExpectScrubbedAndKept(
      "Addr: 1200 N. Central Ave #4, Phoenix AZ. Pharmacy: Walgreens at 5th and Pine. Car: gray "
      "Subaru, 8KT-221, in the garage. Adm: 02/11  Disch: 02/14.",
      {"1200", "Central", "#4", "Phoenix", "Pine", "8KT-221", "02/11", "02/14"},
      {"Fractures of the 5th and 6th ribs.", "Drives a Subaru.", "Adm: via the ED.",
       "Ratio 2/3 of the dose."});
}

TEST(TextScrubberTest, AnEmployerAfterAFormerTradeAMonthAndYearAndARoleOpeningTheSentence) {
  ExpectScrubbedAndKept(
      "Former machinist at Bethlehem Steel for 30 years. Last colonoscopy 03-2021, normal. "
      "Social worker Tamika will call back Monday.",
      {"Bethlehem", "Steel", "03-2021", "Tamika"},
      {"Former smoker at ED visit, COPD stable.", "Platelets 1-2000.",
       "Social worker Monday visit."});
}

TEST(TextScrubberTest, AnEmployerAfterWorkingRemotelyAndTheSentencesPeriodStays) {
  const TextScrubber s({}, -3);
  EXPECT_EQ(s.Scrub("Pt works remotely for Brightline Analytics."),
            "Pt works remotely for [NAME].");
  EXPECT_EQ(s.Scrub("Works from home for Acme Rail. Lives alone."),
            "Works from home for [NAME]. Lives alone.");
  EXPECT_EQ(s.Scrub("Works at Pinecrest Lumber Co. since 1990."), "Works at [NAME] since 1990.");
}

TEST(TextScrubberTest, AGivenNameWithoutCueATradesTownAndAPlateAfterItsStateCode) {
  ExpectScrubbedAndKept(
      "Pt states \"my boy Jamal will bring my meds.\" Tamika Brown visited. Pt is a retired "
      "longshoreman from Port Newark. Plate CA 8ABC234 per valet.",
      {"Jamal", "Tamika", "Newark", "8ABC234"},
      {"Tag IV 22G placed.", "Former smoker from age 15.", "Brown sputum."});
}

TEST(TextScrubberTest, ALoginOfLettersACardNumberInGroupsAndTheIdOfABracelet) {
  ExpectScrubbedAndKept(
      "Login rkburns reset by IT. His union card number is UA-Local 12-00871. Bracelet ID "
      "MED-ALERT 55129 lists his allergies.",
      {"rkburns", "UA-Local", "00871", "MED-ALERT", "55129"},
      {"Username reset by IT.", "Login page was down.", "Card: see chart."});
}

TEST(TextScrubberTest, ANamedInstitute) {
  ExpectScrubbedAndKept(
      "Prior echo done at Cedar Valley Heart Institute showed moderate mitral regurgitation.",
      {"Cedar", "Valley"},
      {"Seen at the Heart Institute clinic.", "Cardiac Institute guidelines apply.",
       "Moderate mitral regurgitation."});
}

TEST(TextScrubberTest, AMenstrualDateAndAWomensHealthPractice) {
  ExpectScrubbedAndKept(
      "LMP 11/02; EDD: 8/9 by dates. Visit note faxed from Desert Bloom Women's Health.",
      {"11/02", "8/9", "Desert", "Bloom"},
      {"Follow up in Women's Health clinic in 6 weeks.", "LMP as above.", "LMP unknown, G2P2.",
       "Dose 1/2 tablet."});
}

TEST(TextScrubberTest, AnImeiAHandleAfterSocialMediaABusPassAndAnAlternativeHigh) {
  ExpectScrubbedAndKept(
      "Cell phone confiscated; IMEI 35-209900-176148-1 logged. Social media: lil_tre_608 (now "
      "deactivated). Bus pass MMT 4410 2281 renewed. Pt's school: Lakeview Alternative High.",
      {"209900", "lil_tre_608", "4410", "Lakeview"},
      {"Bus pass renewed.", "Social media use discussed.", "Parking pass given to family.",
       "Blood pressure was Critical High.", "Junior High student."});
}

TEST(TextScrubberTest, ARecordAndAClaimNumberInGroups) {
  ExpectScrubbedAndKept(
      "Pt receives VA benefits; claim number C-44 718 302. Previous hospital MRN KH 0081 4471. "
      "Member ID 1234 5678 checked.",
      {"718 302", "0081 4471", "5678"},
      {"Claim number pending.", "Group 2 of 3 patients.", "Plan: 2 tabs daily.",
       "Plan: 2 10 mg tablets daily.", "Plan: daily 10 mg.", "MRN on file.",
       "Policy 12 hours NPO."});
}

TEST(TextScrubberTest, ATriageNotesPlacesAliasIdsAndRetinalImage) {
  ExpectScrubbedAndKept(
      "Brought in by police, Elmhurst PD. Found at the bus shelter at Grand and Broadway. "
      "Bracelet from Mount Carmel Psychiatric Center. Old visits under alias Dez Pike. Outreach "
      "worker Yesenia will follow up. IMEI 35 391610 412877 3. Apple ID dez.pike1930 on the "
      "lock screen. Retinal image RET-OD-55120 stored.",
      {"Elmhurst", "Grand", "Carmel", "Dez", "Yesenia", "391610", "dez.pike1930", "55120"},
      {"History of PD on levodopa.", "Seen in the Cancer Center today.",
       "Intersection of care and cost.", "Retinal image reviewed, no hemorrhage.",
       "Apple ID not known.", "Pain at the bus stop at night.",
       "Also known as Lou Gehrig disease."});
}

TEST(TextScrubberTest, ALowerCaseNicknameALabsDateAVoiceprintAndAVisitsDate) {
  ExpectScrubbedAndKept(
      "Spoke w/ daughter jenny re: Foley care. Labs drawn 03MAR2024. Voiceprint enrolled for "
      "phone refills (VP-2231). Visiting nurse saw her at home 12/1. Her friend maggie o'brien "
      "helps.",
      {"jenny", "03MAR2024", "VP-2231", "12/1", "maggie"},
      {"Foley care reviewed.", "The son will call back.", "Her daughter rose from the chair.",
       "Changed the Foley today.", "Apgars 8 and 9.", "Iris clip lens, model AC-41.",
       "Took 1/2 tab at home."});
}

TEST(TextScrubberTest, ACourtDocketAndAPlateInTwoGroups) {
  ExpectScrubbedAndKept(
      "Ex-husband has a restraining order (docket 2281CR004417). Drives a silver Corolla, MA "
      "plate 7TK 392. Police report no. 24-00871 filed.",
      {"2281CR004417", "7TK", "392", "24-00871"},
      {"Case discussed with the attending.", "Cardiac arrest in 2019.",
       "ORIF with a locking plate and 8 screws.", "Case 2 of 3 today."});
}

TEST(TextScrubberTest, NamesWithDiacriticsInitialsAfterATitleAndATypistsInitials) {
  ExpectScrubbedAndKept(
      "CRITICAL RESULT: called to Tomás Echeverría at 14:32, read back by RN K. Osei. With "
      "Łukasz Wiśniewski and José Núñez. Dictated by Lindqvist, Annika MD; transcribed by mrb. "
      "Portable unit AMX-4 #1182.",
      {"Tomás", "Echeverría", "Osei", "Łukasz", "Wiśniewski", "José", "Núñez", "Annika", "mrb",
       "1182"},
      {"Café au lait spots; Ménière disease.", "Hampton hump not seen.", "Pump #2 running.",
       "Transcribed by the service.", "Read back by the nurse."});
}

TEST(TextScrubberTest, AChineseMonthDayBeforeItsEventAndALineId) {
  ExpectScrubbedAndKept("12/31出院，隔日回診。Line ID：shufen0215", {"12/31", "shufen0215"},
                        {"每次1/2錠，3/4至5/6錠。", "PICC line 4Fr placed.", "Line placed."});
}

TEST(TextScrubberTest, AForwardedMessagesSenderAPhoneInWordsAndARelativesTown) {
  ExpectScrubbedAndKept(
      "From: Harriet Ng <hng1957@example.net>\nOur supplier Apria in Bellevue says to call. My "
      "cell is four two five, five five five, zero one eight eight. We will be at our "
      "daughter’s in Spokane from the 20th to the 27th. Thanks, Harriet",
      {"Harriet", "Ng", "hng1957", "Bellevue", "four two five", "Spokane", "20th", "27th"},
      {"One or two tablets, three times a day.", "Fractures of the 5th to the 7th ribs.",
       "Her daughter's in the waiting room.", "Our supplier in Texas was late.",
       "Hazel eyes; Homer sign negative."});
}

TEST(TextScrubberTest, AChildsParentsSiblingAndGrandmotherByWhatTheChildCallsThem) {
  ExpectScrubbedAndKept(
      "Accompanied by mom (Brianna) and stepdad Marcus Oyelaran-Teague. Sibling Kaylee (7) had "
      "Kawasaki disease. Dad (Tre'Vaughn) deployed. Grandma Nana Lou babysits.",
      {"Brianna", "Marcus", "Kaylee", "Tre'Vaughn", "Nana Lou"},
      {"Born to G2P2 mother, Apgars 8/9.", "Tanner stage 1; Denver II normal.",
       "History of Addison disease.", "Mom at bedside.", "Sibling is well."});
}

TEST(TextScrubberTest, AnEmployerByItsTradeAParkwayARuralRouteAQuotedNicknameACert) {
  ExpectScrubbedAndKept(
      "Injured at Dunmore Steel Fabricators, Bay 6, 4400 Industrial Pkwy. Foreman goes by "
      "\"Smitty\". Forklift cert FL-77-2231. Mailbox RR 2 Box 41.",
      {"Dunmore", "4400", "Industrial", "Smitty", "FL-77-2231", "RR 2"},
      {"Meals on Wheels delivers.", "Works in manufacturing.", "Circle of Willis patent.",
       "Cert pending."});
}

TEST(TextScrubberTest, AHospiceAdmissionsNicknameChurchFuneralHomePharmacyAndPolicy) {
  ExpectScrubbedAndKept(
      "Prefers to be called \"Birdie\". Her late husband was a minister at Greater Mt. Zion "
      "Baptist. Funeral home: Hargrove & Sons. Pharmacy delivers from Medicap on Poplar. Life "
      "insurance policy NYL 7739 2201 45. Granddaughter dakota stays overnight.",
      {"Birdie", "Zion", "Hargrove", "Poplar", "7739", "dakota"},
      {"She was a nurse at the VA for years.", "Cheyne-Stokes respirations noted.",
       "Delivers from the pharmacy on time.", "Policy reviewed with the family.",
       "Her son will stay overnight."});
}

TEST(TextScrubberTest, SomeoneToCallAtANumberLabsDrawnOnADayAndACarsPlate) {
  ExpectScrubbedAndKept(
      "Please call Maribel at ext. 2207 with questions. Outside labs drawn 2/26: Hb 9.8. "
      "His grandson drives him; car is a WA ABC1234.",
      {"Maribel", "2207", "2/26", "ABC1234"},
      {"Labs drawn today.", "Call 911 if worse.", "The car is a sedan."});
  // A service to call is no name (its extension goes as any number does).
  EXPECT_EQ(
      TextScrubber({}, 0).ScrubField("Call Radiology at ext. 4471.").rfind("Call Radiology at ", 0),
      0u);
}

TEST(TextScrubberTest, AChineseNameAfterAnEnglishWordForThePatient) {
  ExpectScrubbedAndKept("ICU note. Pt 陳金水, 91 y/o M. Mr.王大明來電。", {"金水", "大明"},
                        {"Ptosis noted.", "Pt stable overnight.", "Names reviewed."});
}

TEST(TextScrubberTest, ASonographerHerRegistryNumberANightShiftsEmployerAndABabysName) {
  ExpectScrubbedAndKept(
      "Sonographer: J. Mbatha, RDMS #RD-448812. Patient works night shift at the Amazon BFI4 "
      "warehouse. Baby's name will be Amara Joy.",
      {"Mbatha", "448812", "Amazon", "BFI4", "Amara"},
      {"Braxton Hicks contractions.", "Works night shift.", "Name will be chosen later.",
       "RN # of beds: 24."});
}

TEST(TextScrubberTest, AMaidenNameAKitsBarcodeAndLynchSyndrome) {
  ExpectScrubbedAndKept("Mother's maiden name Kowalczuk. DNA kit barcode 23ME-8812-44X.",
                        {"Kowalczuk", "8812"},
                        {"Aunt had Lynch syndrome.", "Koebner phenomenon present.",
                         "Specimen number pending.", "Kit returned."});
}

TEST(TextScrubberTest, ThePersonADocumentIsForAndTheirChosenAndLegalNames) {
  ExpectScrubbedAndKept(
      "Discharge instructions for Jordan Akintola-Reyes (chosen name Jordy; legal name on "
      "insurance Jordana).",
      {"Jordan", "Akintola", "Jordy", "Jordana"},
      {"Instructions for Wound Care.", "Report for Chest Pain.", "Chosen name noted.",
       "Transport pickup at the main entrance."});
  // "pickup at 3310" is no plate: the whole address goes.
  EXPECT_EQ(TextScrubber({}, 0).ScrubField("Transport pickup at 3310 Rhode Island Ave NE."),
            "Transport pickup at [ADDRESS] NE.");
}

TEST(TextScrubberTest, AChinesePetNameARoadAfterItsTownALandmarkAndAnEmployer) {
  ExpectScrubbedAndKept(
      "阿嬤由孫女小芸陪同。家住彰化縣鹿港鎮中山路附近，平日在天后宮旁賣香。兒子在台積電上班。",
      {"小芸", "中山路", "天后宮", "台積電"},
      {"每小時量一次血壓。", "由家屬陪同，小孩在家。", "兒子在家上班。", "她在醫院工作多年。",
       "在手術當中血壓下降。"});
}

TEST(TextScrubberTest, ACongregationANicknameAPrisonAndTheLastDigitsOfAnSsn) {
  ExpectScrubbedAndKept(
      "Attends Ebenezer AME Sundays. Goes by \"Mama Pearl\" at church. Son is incarcerated at FCI "
      "Cumberland. Her SSN ends in 4471.",
      {"Ebenezer", "Mama Pearl", "Cumberland", "4471"},
      {"She keeps a dog named Biscuit.", "Attends church on Sundays.",
       "Baptist hospital records reviewed.", "SSN on file."});
}

TEST(TextScrubberTest, AHighwayExitAnMrnInPairsAndAnAgencysReportNumber) {
  ExpectScrubbedAndKept(
      "MVC on I-5 near exit 166 at 0230. Prior studies under previous MRN 00-44-81-22. Police "
      "report #SFPD 240118-0042.",
      {"exit 166", "00-44-81-22", "240118"},
      {"Exit the unit by the east door.", "Mile 3 of the walk was slow.", "Police report filed."});
}

TEST(TextScrubberTest, AStreetCalledRunWithItsLotATowingFirmAChartAfterItsServiceATownsCenter) {
  ExpectScrubbedAndKept(
      "Discharged to 42 Quail Run, Lot 7. Son-in-law drives for Desert Sun Towing. IHS chart IHS "
      "44-1187. Telehealth from the Duckwater community center.",
      {"Quail", "Lot 7", "Desert Sun", "44-1187", "Duckwater"},
      {"Meals at the senior center daily.", "Ran 2 miles.", "Towing the line on diet.",
       "Chart reviewed."});
}

TEST(TextScrubberTest, ALastKnownTownANameInUseAndAQuotedNicknameAfterARelative) {
  ExpectScrubbedAndKept(
      "Biological mother's whereabouts unknown, last known Decatur. Patient uses name Rowan and "
      "they/them pronouns. Mom's boyfriend \"Big Mike\" not allowed to visit.",
      {"Decatur", "Rowan", "Big Mike"},
      {"Foster mom at bedside.", "Last seen by the nurse at noon.", "Uses name badges."});
}

TEST(TextScrubberTest, ASevenDigitNumberWithoutACueButNotARangeOrADose) {
  ExpectScrubbedAndKept("Her number is 555-0100. Reach her at 555-0100 after six.", {"555-0100"},
                        {"Give 200-1000 mg daily.", "Platelets 150-4500 cells.", "Range 250-1000.",
                         "Goal 300-1000 steps."});
}

TEST(TextScrubberTest, AnAddressAsPuertoRicoWritesItSpanishHonorificsAndDates) {
  ExpectScrubbedAndKept(
      "Home: Urb. Villa Carolina, Calle 12 #34, Carolina, PR. Caregiver is her compadre Don "
      "Evaristo. Son lives in Bo. Quebrada Arenas. Seen by Lcda. Ortiz on lunes 3 de marzo.",
      {"Villa", "Calle 12", "#34", "Carolina,", "Evaristo", "Quebrada", "Ortiz", "3 de marzo"},
      {"Wagner grade 2 ulcer.", "Don gloves and gown.", "Sector 3 of the ward.",
       "Visits los domingos."});
}

TEST(TextScrubberTest, ATransferFormsResidentRoomNursesBoxAndSerialPair) {
  ExpectScrubbedAndKept(
      "Resident: HOLLOWAY, Ardith M   Room 214-B. Sending nurse: Trisha K., LPN. Report called "
      "to Nkechi on 4 West. Last BM 11/29. Serials HA-R-99127 / HA-L-99128. Mail to P.O. Box "
      "1172. Hospice aide Fatou Diallo visits.",
      {"Ardith", "214", "Trisha", "Nkechi", "11/29", "99127", "99128", "1172", "Diallo"},
      {"Morse fall score 65; Braden 14.", "Report called to the ICU.", "Last dose 2 tabs.",
       "Report given at the bedside."});
}

TEST(TextScrubberTest, TheGroupsOfANumberLeftBesideThePartARuleTook) {
  const TextScrubber s({}, 0);
  for (const char* text : {"Member ID W2289 40117 on the card.", "Driver's permit K298-441-7730.",
                           "DNA sample DNA-2021-0042 banked.", "Korean RRN 900101-1234567."}) {
    const std::string out = s.ScrubField(text);
    for (const char* part : {"40117", "K298", "0042", "900101"})
      EXPECT_EQ(out.find(part), std::string::npos) << part << " in: " << out;
  }
  EXPECT_NE(s.ScrubField("On 3/4 325 mg aspirin was given.").find("325 mg"), std::string::npos);
}

TEST(TextScrubberTest, CourtNumbersPagersHouseNumbersParticlesAndPossessives) {
  ExpectScrubbedAndKept(
      "Case 2024-CR-00871 in the registry. Beeper 555-0199 x204. Guardian's office at 220 W. "
      "Mifflin St. Stepfather Ruairí Ó Briain holds power of attorney. Ardith's nephew called.",
      {"00871", "555-0199", "220", "Briain", "Ardith"},
      {"Call the office at 4471 for refills.", "Her son's nephew visited."});
}

TEST(TextScrubberTest, AustralianMedicareUrnAndBritishAndAustralianLandlines) {
  ExpectScrubbedAndKept(
      "Medicare no. 2953 71846 2; URN MH0418823. GP fax 03 9419 7710. Ring "
      "0161 496 0723.",
      {"71846", " 2;", "0418823", "9419", "0723"},
      {"Kt/V 1.3 on 03 sessions.", "Dose 2953 mg over 4 days."});
}

TEST(TextScrubberTest, SignaturesAndIdsAfterIdIs) {
  ExpectScrubbedAndKept(
      "Her Humana ID is H4471-0092-31 if they ask. Thanks, Mari\" Best regards, Tom Ng\nOK",
      {"H4471", "Mari", "Tom Ng"},
      {"Thanks, Doctor. Best, Again the ID is pending.", "Thanks, she said she would call."});
}

TEST(TextScrubberTest, CountyRoadsTownsAfterThemAndCapitalizedSurnames) {
  ExpectScrubbedAndKept(
      "Dispatched 0317 to 1180 County Rd 7, Elk Mound for fall. Pt: JOHANNSEN, Marit  DOB on file.",
      {"Rd 7", "Elk Mound", "JOHANNSEN", "Marit"},
      {"Pt: ALERT, Oriented x3.", "Given 2 tabs, Motrin for fever.",
       "Dose at 0800, Tylenol for pain."});
}

TEST(TextScrubberTest, AidesBrandSerialsAndGridAddresses) {
  ExpectScrubbedAndKept(
      "Spoke w/ MA Brittani. Home monitor serial CoaguChek XS #UR1290447. Delivery to W156 N8830 "
      "Pilgrim Rd, Menomonee Falls.",
      {"Brittani", "UR1290447", "W156", "N8830", "Pilgrim", "Menomonee"},
      {"Moved from MA Tuesday.", "Seen by MA Office staff.", "Moved to MA in 2019."});
}

TEST(TextScrubberTest, GreetingsLastDigitsNicknamesAndGroupedMedicaidNumbers) {
  ExpectScrubbedAndKept(
      "\"Hey, this is Norbert Quisling, I was to come in Thursday night. My wife's cell ends in "
      "0188.\" Student: Tobias \"Toby\" Lindqvist. Medicaid 00 847 2291.",
      {"Norbert", "Quisling", "Thursday", "0188", "Toby", "847", "2291"},
      {"Hi, this is the front desk.", "Hello, it's a new rash.",
       "Pell and Gregory class II, position B.", "The count ends in 4 weeks."});
}

TEST(TextScrubberTest, ChineseMonthDayAfterADateLabelOrBeforeItsWeekday) {
  ExpectScrubbedAndKept("諮詢日期：11/3（週一）下午。回診 12/8（星期二）。", {"11/3", "12/8"},
                        {"劑量1/2錠，每日一次。", "比例 3/4 正常。"});
}

TEST(TextScrubberTest, RecordLabelsSubdivisionsExitsAndATownAfterANamedRelative) {
  const std::string out = ExpectScrubbedAndKept(
      "VA claim file C-29 447 118. Lives in the Fairwood Estates subdivision off Exit 14. Name on "
      "I-94: Hamidullah Sarwari. Decedent: Orville T. Makepeace. Next of kin: daughter Prudence "
      "Makepeace-Vail in Montpelier, notified. Son Everett Thorsby in Radiology.",
      {"447", "Fairwood", "Exit 14", "Hamidullah", "Sarwari", "Orville", "Makepeace", "Montpelier"},
      {"The claim file is pending.", "Walking is hard since stairs came in.", "Name on file: none.",
       "Seen by the team in Radiology."});
  EXPECT_NE(out.find("] in Radiology"), std::string::npos) << out;
}

TEST(TextScrubberTest, ChineseGivenNameAfterARelationDateAfterYesterdayAndLineIdAfterShi) {
  ExpectScrubbedAndKept("我是陳美惠的兒子志明。我媽昨天11/28晚上跌倒，我的LINE ID是zm_chen0912。",
                        {"志明", "11/28", "zm_chen0912"},
                        {"兒子很好。", "女兒陪同。", "劑量1/2錠。"});
}

TEST(TextScrubberTest, LogDatesCapitalSurnamesCredentialsWithInitialsAndShortPoBoxes) {
  ExpectScrubbedAndKept(
      "12/01 03:12 K+ 6.9 on WHITFORD, Ambrose J. Logged by MLS T. Nakashima-Brandt. Mailed to PO "
      "Bx 771.",
      {"12/01", "WHITFORD", "Ambrose", "Nakashima", "771"},
      {"Give 1/2 tab at 08:00.", "Seen by PT twice; RN to call at 10:00.",
       "Ordered an ECG, Tylenol given."});
}

TEST(TextScrubberTest, ChineseChildrenByBirthOrderSpousesAndTheCityOneCameFrom) {
  ExpectScrubbedAndKept("出席：病人之妻黃秋月、長子王建中、次女王雅琪（自高雄趕來）。",
                        {"黃秋月", "王建中", "王雅琪", "高雄"},
                        {"從高雄榮總轉來。", "妻子陪同。", "長子在旁。"});
}

TEST(TextScrubberTest, SessionsTokensDormsSchoolsWithoutSchoolAndANameOpeningALine) {
  ExpectScrubbedAndKept(
      "Dakota Rain Fairweather, 17, plays soccer for Kettle Moraine High; SCAT5 22; BESS 14 "
      "errors. "
      "Session TH-7781-2025-1130 on an iPad (device token A91F-22C7-B30D) from his dorm, Tarrant "
      "Hall room 314.\nPt Rhiannon Delacroix, 34F, for extraction.",
      {"Dakota", "Fairweather", "Kettle", "7781", "A91F", "Tarrant", "314", "Rhiannon"},
      {"BESS 14 errors.", "CAM negative.", "Session 2 of 6 went well.",
       "Walking Well, 17, and better.", "Glucose High; recheck.", "Pain, 7, and worse."});
}

TEST(TextScrubberTest, BloodUnitsLicensesWithOneLetterPlacesOfIssueAndTownsAfterAPlace) {
  ExpectScrubbedAndKept(
      "Patient Carmody, Bridget A  MRN 0041-88-2391. Units W0364 25 014992 Z and W0364 25 015007 "
      "4. Prior transfusion at Mercy in Dubuque. CA license A 118842. Card issued in \xC4\x90\xC3"
      "\xA0 N\xE1\xBA\xB5ng. By LPN Osei-Tutu.",
      {"Carmody", "Bridget", "2391", "014992", "015007", "Dubuque", "118842", "N\xE1\xBA\xB5ng",
       "Tutu"},
      {"Transferred from Surgery in Recovery.", "Card issued in Error.",
       "Given 25 mg at 08:00 in 2 doses.", "Permit a 500 mg dose."});
}

TEST(TextScrubberTest, ChineseGivenNamesBeforeAVerbAndTownshipsAfterAWordOfPlace) {
  ExpectScrubbedAndKept("由太太秀蘭接聽。她在中壢的女兒家過夜，明天回龍潭。",
                        {"秀蘭", "中壢", "龍潭"},
                        {"由太太陪同。", "在大樹下休息。", "回家休息。", "轉至林口長庚。"});
}

TEST(TextScrubberTest, CrossStreetsRolesBeforeNamesEmployersAndTownsAfterAnAge) {
  ExpectScrubbedAndKept(
      "Apartment on SE Division St near 38th. Recipient Theodora Vasquez-Ludlow; her brother "
      "Marcus Vasquez, 44, from Yuma. Recipient's employer (Sunrise Dental Group) wrote.",
      {"38th", "Theodora", "Ludlow", "Marcus", "Yuma", "Sunrise"},
      {"Fetus near 38th percentile.", "Recipient Blood Bank notified.",
       "The employer (none) wrote."});
}

TEST(TextScrubberTest, ChineseNieceAndCaseNumbersAfterTheirLabel) {
  ExpectScrubbedAndKept("主要照顧者為外甥女林宛如。長照個案管理編號LC1130077842。",
                        {"林宛如", "1130077842"}, {"編號1號床。", "外甥女陪同。"});
}

TEST(TextScrubberTest, PossessivesBeforeADeathSupervisorsSiteCodesNicknamesAndDatesAfterFrom) {
  ExpectScrubbedAndKept(
      "Five weeks after Harlan's death. Supervisor Tracy Lindahl called. Loading Dock, Amazon DSM5 "
      "facility. Modified duty from 12/08. Child: Aurelio \"Lelo\" Benavides, DOB on file.",
      {"Harlan", "Tracy", "Lindahl", "DSM5", "12/08", "Aurelio", "Lelo", "Benavides"},
      {"Since Parkinson's diagnosis, worse.", "Reduce from 1/2 to 1 tablet.",
       "Effective 3/4 strength.", "Supervisor Training Program.",
       "Child: Alert \"Active\" Playful."});
}

TEST(TextScrubberTest, ChineseNewbornsPetNameAndATownInBrackets) {
  ExpectScrubbedAndKept("新生兒小安（乳名）。月子中心：馨悅產後護理之家（竹北市）。",
                        {"小安", "竹北"}, {"新生兒小兒科會診。", "（乳名）"});
}

TEST(TextScrubberTest, ParishTownsTherapistsTownsAfterAnAddressLetteredGroupsAndDatesAfterGiven) {
  ExpectScrubbedAndKept(
      "Parish: St. Columba, Holyoke. RT Dev Raman. Hives off Old Mill Rd, Sequim. Dose 8 given "
      "11/24. Insurance: Premera, member PRM 88 4417 20.",
      {"Holyoke", "Dev", "Raman", "Sequim", "11/24", "4417"},
      {"Parish: St. Columba, Catholic.", "RT Knee swelling.", "Given 1/2 tab.",
       "Member of the ski club since 12 or 13."});
}

TEST(TextScrubberTest, ChineseMarriedNameAfterTheCaredFor) {
  ExpectScrubbedAndKept("被看護者：許林阿滿，90歲。", {"許林阿滿", "阿滿"}, {"被看護者：無。"});
}

TEST(TextScrubberTest, TracksAtASchoolAndPrisonHousingUnits) {
  ExpectScrubbedAndKept(
      "Walks around the track at Bishop Guertin. Housing: Unit C-14.", {"Guertin", "C-14"},
      {"Walks around the track at the gym.", "Housing: stable.", "Cell: see chart."});
}

TEST(TextScrubberTest, ChineseClientsPetNamesSchoolsAndNicknames) {
  ExpectScrubbedAndKept(
      "個案小瑜（暱稱yuyu_0830），就讀台南女中二年級。她就讀於台北市立第一女子高級中學。",
      {"小瑜", "yuyu", "台南女中", "第一女子"},
      {"病人小便正常。", "個案小時候住院。", "就讀二年級。"});
}

TEST(TextScrubberTest, SquaresAndHyphenatedTradesEmployers) {
  ExpectScrubbedAndKept(
      "He trains at our Kenmore Square unit. He works nights as a sous-chef at Oleana; she works "
      "as a nurse-midwife at Cambridge Birth Center.",
      {"Kenmore", "Oleana", "Cambridge Birth"},
      {"Chi Square test was not significant.", "At Square one again, he said.",
       "Works as a sous-chef; stable."});
  ExpectScrubbedAndKept(
      "Forklift operator at the Sparks distribution center; her son studies at Truckee Meadows "
      "CC.",
      {"Sparks", "Truckee"},
      {"Injured at the North warehouse.", "Per the American College of Radiology criteria."});
}

TEST(TextScrubberTest, ClinicalTextWithoutIdentifiersIsUnchanged) {
  const TextScrubber s({}, -3);
  for (const char* text : {
           "Call 911 if worse. Platelets 150-400. Dose 1/2 tablet. C5-C6 disc. COVID-19 negative.",
           "Wilson disease and Marfan syndrome. Foley catheter in place. Apgar 9. Gleason 3+4=7.",
           "ICD-10 J18.9, LOINC 6690-2. Ratio 3/4. Page 2 of 3. WBC 17.2, CRP 85 mg/L.",
           "病患有高血壓、高血脂及糖尿病史，曾經因黃疸住院。白血球 17.2，左側肋膜積水，周邊水腫。",
           "張力性氣胸已排除。許多陳舊性病灶，程度輕微，康復良好。唐氏症病史。施打疫苗後發燒。",
           "連續三天咳嗽，溫度38.5度。游離氣體未見。金屬植入物。包括胸部X光。嚴重呼吸窘迫。",
           "轉至高雄榮總及林口長庚追蹤。轉院後轉診至心臟科。",
           "Chest, PA and lateral views. Head, CT negative. Left, LA enlarged.",
           "Transferred to Cardiology for cath. Moved to the ICU, then transferred to Step Down.",
           "On the 3rd day, improved. Fracture of the 5th rib. Since the 2nd dose, no fever.",
           "Christmas disease (factor IX deficiency). Sats now 97 on 2L. SpO2 now 96 at rest.",
           "Transfer from ICU recommended. Consult from cardiology noted. Pain now 9/10.",
           "Grade I. Mild cardiomegaly. II. Small effusion. Apgar 8/9, grade 2/6 murmur.",
           "E. coli and S. aureus grew. O2 sat 9/10 of the time. Suite of tests, apartment stairs.",
           "Follow-up in 2 weeks, 4 mg at 0800. Rate 88 bpm.",
           "Chest Radiograph, PA and lateral. Runs of ventricular tachycardia. Manages insulin.",
           "由藥師衛教用藥，營養師評估飲食，治療師協助復健。",
           "Insulin pump settings reviewed. Sensor glucose 142. Version 2.1.10 of the app.",
       }) {
    EXPECT_EQ(s.Scrub(text), text);
  }
}

}  // namespace
}  // namespace medscribe::deid

namespace medscribe::deid {
namespace {

TEST(TextScrubberTest, TranscriptsInLowerCaseWithSpokenNumbersAreScrubbed) {
  const TextScrubber s({"Harold Jensen"}, -3);
  ScrubStats stats;
  const std::string out = s.ScrubTranscript(
      "dictation for harold jensen call back number five five five one two three four spoke with "
      "daughter ingrid on march the fifth findings will be discussed with doctor kowalski two "
      "views of the chest",
      &stats);
  for (const char* phi :
       {"harold", "jensen", "five five five", "ingrid", "march the fifth", "kowalski"})
    EXPECT_EQ(out.find(phi), std::string::npos) << phi << " in: " << out;
  EXPECT_NE(out.find("findings will be discussed"), std::string::npos) << out;
  EXPECT_NE(out.find("two views of the chest"), std::string::npos) << out;
  EXPECT_EQ(stats.by_category["id"], 1);
  EXPECT_EQ(stats.by_category["date"], 1);
  // Long input (scrubbed in pieces; std::regex recurses per matched character) and bytes that
  // look like the scrubber's own placeholders.
  std::string many;
  for (int i = 0; i < 30000; ++i) many += "one ";
  const std::string long_out = s.ScrubTranscript(many + "\x01\x0E\x02 harold jensen");
  EXPECT_EQ(long_out.find("one one one one"), std::string::npos);
  EXPECT_EQ(long_out.find('\x01'), std::string::npos);
  EXPECT_EQ(long_out.find("harold"), std::string::npos);
}

}  // namespace
}  // namespace medscribe::deid
