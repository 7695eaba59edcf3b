#include "clinical/discharge_document.h"

#include <gtest/gtest.h>

#include "clinical/draft_vars.h"
#include "common/base64.h"

namespace medscribe::clinical {
namespace {

constexpr const char* kSummary = R"(DISCHARGE SUMMARY
Patient: [NAME]

ADMISSION DIAGNOSIS:
Community-acquired pneumonia [P1].

HOSPITAL COURSE:
1. Community-acquired pneumonia: treated with ceftriaxone [M4], then amoxicillin [M9]; WBC 15.2 to 7.9 [L1] [L61]. Resolved.

DISCHARGE MEDICATIONS:
START:
- amoxicillin 1 g oral three times daily for 4 more days [M9]
STOP:
- lisinopril (acute kidney injury) [M1] [X99]

FOLLOW-UP:
- Primary care within 7 days: a <repeat> chest radiograph & labs
)";

DischargeDocumentInputs Inputs() {
  DischargeDocumentInputs in;
  in.id = "draft-42";
  in.patient_id = "pat-1";
  in.encounter_id = "stay-000001";
  in.author_id = "u-7";
  in.author_name = "Dr. A B";
  in.text = kSummary;
  in.timestamp = "2026-12-08T01:00:00Z";
  in.sources = {{"P1", "Condition/cond-1"},          {"M1", "MedicationRequest/medrx-h1"},
                {"M4", "MedicationRequest/medrx-4"}, {"M9", "MedicationRequest/medrx-9"},
                {"L1", "Observation/obs-wbc-0"},     {"L61", "Observation/obs-wbc-5"}};
  return in;
}

TEST(DischargeDocumentTest, SectionsAreTheHeadingsNotTheMedicationGroups) {
  const auto sections = SummarySections(kSummary);
  ASSERT_EQ(sections.size(), 4u);
  EXPECT_EQ(sections[0].first, "ADMISSION DIAGNOSIS");
  EXPECT_EQ(sections[2].first, "DISCHARGE MEDICATIONS");
  EXPECT_NE(sections[2].second.find("START:\n- amoxicillin"), std::string::npos);
  EXPECT_EQ(CitedTags("a [M1] b [L12] [M1] [x3] [M] [M12"),
            (std::vector<std::string>{"M1", "L12"}));
}

TEST(DischargeDocumentTest, ACompositionInADocumentBundleCitingItsSources) {
  const auto doc = DischargeDocument(Inputs());
  const auto& bundle = doc["Bundle"];
  EXPECT_EQ(bundle["type"], "document");
  EXPECT_EQ(bundle["timestamp"], "2026-12-08T01:00:00Z");
  const auto& c = bundle["entry"][0]["resource"];
  EXPECT_EQ(c["resourceType"], "Composition");
  EXPECT_EQ(c["status"], "final");
  EXPECT_EQ(c["type"]["coding"][0]["code"], "18842-5");
  EXPECT_EQ(c["encounter"]["reference"], "Encounter/stay-000001");
  ASSERT_EQ(c["section"].size(), 4u);
  EXPECT_EQ(c["section"][1]["title"], "Hospital Course");
  // The course cites ceftriaxone, amoxicillin and two WBC values.
  const auto& course = c["section"][1]["entry"];
  ASSERT_EQ(course.size(), 4u);
  EXPECT_EQ(course[0]["reference"], "MedicationRequest/medrx-4");
  EXPECT_EQ(course[3]["reference"], "Observation/obs-wbc-5");
  // An unknown tag is not an entry; the text keeps it.
  ASSERT_EQ(c["section"][2]["entry"].size(), 2u);
  EXPECT_NE(c["section"][2]["text"]["div"].get<std::string>().find("[X99]"), std::string::npos);
  // Narrative is escaped XHTML; a section without citations has no entry.
  const std::string div = c["section"][3]["text"]["div"];
  EXPECT_EQ(div.rfind("<div xmlns=\"http://www.w3.org/1999/xhtml\"><p>", 0), 0u) << div;
  EXPECT_NE(div.find("a &lt;repeat&gt; chest radiograph &amp; labs"), std::string::npos) << div;
  EXPECT_FALSE(c["section"][3].contains("entry"));
  // The DocumentReference carries the same text.
  const auto& ref = doc["DocumentReference"];
  EXPECT_EQ(ref["type"]["coding"][0]["code"], "18842-5");
  EXPECT_EQ(*Base64Decode(ref["content"][0]["attachment"]["data"].get<std::string>()), kSummary);
  EXPECT_EQ(ref["context"]["encounter"][0]["reference"], "Encounter/stay-000001");
}

}  // namespace
}  // namespace medscribe::clinical
