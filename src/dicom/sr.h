// DICOM Structured Reports for signed reports: a Basic Text SR following TID 2000 (Basic
// Diagnostic Imaging Report) built with DCMTK's dcmsr, in the study it reports on.
//
// Content tree:
//   CONTAINER (LN 18748-4 "Diagnostic Imaging Report")
//     HAS CONCEPT MOD  CODE (DCM 121049 Language of Content Item and Descendants)
//     HAS OBS CONTEXT  PNAME (DCM 121008 Person Observer Name)
//     CONTAINS CONTAINER (DCM 121070 Findings)        > CONTAINS TEXT (DCM 121071 Finding)
//     CONTAINS CONTAINER (DCM 121072 Impressions)     > CONTAINS TEXT (DCM 121073 Impression)
//     CONTAINS CONTAINER (DCM 121074 Recommendations) > CONTAINS TEXT (DCM 121075 Recommendation)
// Sections without text are left out. A verified report is COMPLETE and VERIFIED with the
// verifying observer; an unverified one is PARTIAL and UNVERIFIED. The referenced images are
// listed in the Current Requested Procedure Evidence Sequence; an amendment names the SR it
// replaces in the Predecessor Documents Sequence.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace medscribe::dicom {

struct SrImageRef {
  std::string series_uid, sop_class_uid, sop_instance_uid;
};

struct ReportSrInput {
  std::string patient_name, patient_id, patient_birth_date, patient_sex;  // DICOM formats
  std::string study_uid, accession, study_date, study_time, study_id, referring_physician;
  std::vector<SrImageRef> images;  // the study's instances
  std::vector<std::string> findings, impressions, recommendations;
  std::string language = "en-US";  // RFC 5646
  std::string observer_name;       // PN, e.g. "DOE^JANE"
  std::string organization;        // verifying organization
  bool verified = false;           // true: signed (COMPLETE, VERIFIED)
  // An amendment: the SR it replaces (in the same study), listed in the Predecessor Documents
  // Sequence. Empty sop_instance_uid: none.
  SrImageRef predecessor;
};

// The identity of a built SR, for a later amendment's predecessor reference.
struct SrIdentity {
  std::string series_uid, sop_class_uid, sop_instance_uid;
};

// The SR as DICOM Part 10 bytes (Explicit VR Little Endian), with new SOP and series UIDs.
// InvalidArgument when a required value is missing (study UID, observer for a verified report)
// or DCMTK rejects a value.
// `identity`, when given, receives the new SR's series, SOP class and SOP instance UIDs.
StatusOr<std::string> BuildReportSr(const ReportSrInput& in, SrIdentity* identity = nullptr);

}  // namespace medscribe::dicom
