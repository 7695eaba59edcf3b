#include "dicom/sr.h"

#include <dcmtk/dcmsr/dsrdoc.h>

#include "dicom/dcmtk_access.h"

namespace medscribe::dicom {
namespace {

Status Check(const OFCondition& c, const std::string& what) {
  if (c.good()) return OkStatus();
  return InvalidArgumentError("DICOM SR: " + what + ": " + c.text());
}

}  // namespace

StatusOr<std::string> BuildReportSr(const ReportSrInput& in, SrIdentity* identity) {
  if (in.study_uid.empty()) return InvalidArgumentError("DICOM SR: the study UID is missing");
  if (in.verified && in.observer_name.empty())
    return InvalidArgumentError("DICOM SR: a verified report needs the verifying observer");
  DSRDocument doc(DSRTypes::DT_BasicTextSR);
  RETURN_IF_ERROR(Check(doc.createNewSeriesInStudy(in.study_uid.c_str()), "study UID"));
  RETURN_IF_ERROR(Check(doc.setPatientName(in.patient_name.c_str()), "patient name"));
  RETURN_IF_ERROR(Check(doc.setPatientID(in.patient_id.c_str()), "patient ID"));
  RETURN_IF_ERROR(Check(doc.setPatientBirthDate(in.patient_birth_date.c_str()), "birth date"));
  RETURN_IF_ERROR(Check(doc.setPatientSex(in.patient_sex.c_str()), "patient sex"));
  RETURN_IF_ERROR(Check(doc.setAccessionNumber(in.accession.c_str()), "accession number"));
  if (!in.study_date.empty())
    RETURN_IF_ERROR(Check(doc.setStudyDate(in.study_date.c_str()), "study date"));
  if (!in.study_time.empty())
    RETURN_IF_ERROR(Check(doc.setStudyTime(in.study_time.c_str()), "study time"));
  if (!in.study_id.empty()) RETURN_IF_ERROR(Check(doc.setStudyID(in.study_id.c_str()), "study ID"));
  RETURN_IF_ERROR(
      Check(doc.setReferringPhysicianName(in.referring_physician.c_str()), "referring physician"));
  RETURN_IF_ERROR(Check(doc.setSeriesDescription("MedScribe signed report"), "series"));
  RETURN_IF_ERROR(Check(doc.setManufacturer("MedScribe"), "manufacturer"));

  DSRDocumentTree& tree = doc.getTree();
  if (tree.addContentItem(DSRTypes::RT_isRoot, DSRTypes::VT_Container) == 0)
    return InternalError("DICOM SR: cannot add the root container");
  RETURN_IF_ERROR(Check(tree.getCurrentContentItem().setConceptName(
                            DSRCodedEntryValue("18748-4", "LN", "Diagnostic Imaging Report")),
                        "root item_concept"));
  RETURN_IF_ERROR(
      Check(tree.addChildContentItem(
                DSRTypes::RT_hasConceptMod, DSRTypes::VT_Code,
                DSRCodedEntryValue("121049", "DCM", "Language of Content Item and Descendants")),
            "language"));
  const bool chinese = in.language.rfind("zh", 0) == 0;
  RETURN_IF_ERROR(Check(tree.getCurrentContentItem().setCodeValue(DSRCodedEntryValue(
                            in.language.c_str(), "RFC5646",
                            chinese ? "Chinese (Taiwan)" : "English (United States)")),
                        "language code"));
  if (!in.observer_name.empty()) {
    RETURN_IF_ERROR(
        Check(tree.addContentItem(DSRTypes::RT_hasObsContext, DSRTypes::VT_PName,
                                  DSRCodedEntryValue("121008", "DCM", "Person Observer Name")),
              "observer"));
    RETURN_IF_ERROR(
        Check(tree.getCurrentContentItem().setStringValue(in.observer_name.c_str()), "observer"));
  }
  struct Section {
    const char *code, *meaning, *item_code, *item_meaning;
    const std::vector<std::string>* texts;
  };
  const Section sections[] = {
      {"121070", "Findings", "121071", "Finding", &in.findings},
      {"121072", "Impressions", "121073", "Impression", &in.impressions},
      {"121074", "Recommendations", "121075", "Recommendation", &in.recommendations},
  };
  for (const Section& s : sections) {
    if (s.texts->empty()) continue;
    RETURN_IF_ERROR(Check(tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Container,
                                              DSRCodedEntryValue(s.code, "DCM", s.meaning)),
                          s.meaning));
    bool first = true;
    for (const std::string& text : *s.texts) {
      const DSRCodedEntryValue item_concept(s.item_code, "DCM", s.item_meaning);
      const OFCondition added =
          first ? tree.addChildContentItem(DSRTypes::RT_contains, DSRTypes::VT_Text, item_concept)
                : tree.addContentItem(DSRTypes::RT_contains, DSRTypes::VT_Text, item_concept);
      RETURN_IF_ERROR(Check(added, s.item_meaning));
      // UT-like TEXT values: keep within the VR (no length limit issues for report text).
      RETURN_IF_ERROR(Check(tree.getCurrentContentItem().setStringValue(text.c_str(), OFFalse),
                            s.item_meaning));
      first = false;
    }
    tree.goUp();
  }
  for (const SrImageRef& r : in.images) {
    RETURN_IF_ERROR(Check(doc.getCurrentRequestedProcedureEvidence().addItem(
                              in.study_uid.c_str(), r.series_uid.c_str(), r.sop_class_uid.c_str(),
                              r.sop_instance_uid.c_str()),
                          "evidence"));
  }
  if (!in.predecessor.sop_instance_uid.empty()) {
    RETURN_IF_ERROR(
        Check(doc.getPredecessorDocuments().addItem(
                  in.study_uid.c_str(), in.predecessor.series_uid.c_str(),
                  in.predecessor.sop_class_uid.c_str(), in.predecessor.sop_instance_uid.c_str()),
              "predecessor"));
  }
  if (in.verified) {
    RETURN_IF_ERROR(Check(doc.completeDocument(), "completion"));
    RETURN_IF_ERROR(
        Check(doc.verifyDocument(in.observer_name.c_str(),
                                 in.organization.empty() ? "MedScribe" : in.organization.c_str()),
              "verification"));
  }
  DicomDataset out;
  DcmDataset* ds = DcmtkAccess::File(out).getDataset();
  RETURN_IF_ERROR(Check(doc.write(*ds), "write"));
  if (identity != nullptr) {
    OFString v;
    if (ds->findAndGetOFString(DCM_SeriesInstanceUID, v).good()) identity->series_uid = v.c_str();
    if (ds->findAndGetOFString(DCM_SOPClassUID, v).good()) identity->sop_class_uid = v.c_str();
    if (ds->findAndGetOFString(DCM_SOPInstanceUID, v).good())
      identity->sop_instance_uid = v.c_str();
  }
  ds->putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192");
  return out.ToBytes();
}

}  // namespace medscribe::dicom
