#include "ingest/pipeline.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/files.h"
#include "crypto/hmac.h"
#include "dataset/shard.h"
#include "dicom/dataset.h"
#include "speech/audio.h"
#include "synth/cohort.h"
#include "testing/synth_plan.h"
#include "testing/temp_dir.h"

namespace medscribe::ingest {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr int kEncounters = 40;
const std::string kKey = "an ingest test key of 32 bytes!!";

// Answers every dictation with the same words, so that audio handling is tested without a
// speech model.
class FixedRecognizer final : public speech::Recognizer {
 public:
  StatusOr<std::string> Transcribe(const speech::Audio&) override {
    return std::string("no prior studies");
  }
};

class IngestTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new medscribe::testing::TempDir();
    auto s = medscribe::testing::WriteSmallCohort(cohort(), kEncounters, 11);
    ASSERT_TRUE(s.ok()) << s.status().message();
  }
  static void TearDownTestSuite() { delete dir_; }
  static fs::path cohort() { return dir_->path() / "cohort"; }

  IngestOptions Options(const fs::path& out) const {
    IngestOptions o;
    o.dicom_root = (cohort() / "dicom").string();
    o.fhir_paths = {(cohort() / "fhir").string()};
    o.out = out;
    o.key = kKey;
    o.jobs = 2;
    o.image_size = 32;
    o.progress = false;
    o.recognizer = []() -> StatusOr<std::unique_ptr<speech::Recognizer>> {
      return std::unique_ptr<speech::Recognizer>(new FixedRecognizer());
    };
    return o;
  }

  static std::vector<Json> Lines(const fs::path& file) {
    std::vector<Json> out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) out.push_back(Json::parse(line));
    return out;
  }

  static std::set<std::string> Reasons(const fs::path& dataset) {
    std::set<std::string> out;
    for (const Json& q : Lines(dataset / "quarantine.jsonl")) out.insert(q["reason"]);
    return out;
  }

  // SHA-256 of every file under `root`, by relative path.
  static std::map<std::string, std::string> Digests(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (!e.is_regular_file()) continue;
      out[fs::relative(e.path(), root).string()] =
          crypto::Hex(crypto::Sha256(ReadFile(e.path()).value()));
    }
    return out;
  }

  static size_t BurnedIn() {
    size_t n = 0;
    for (const Json& t : Lines(cohort() / "truth" / "labels.jsonl")) {
      n += t["burned_in_annotation"] == true;
    }
    return n;
  }

  medscribe::testing::TempDir tmp_;
  static medscribe::testing::TempDir* dir_;
};
medscribe::testing::TempDir* IngestTest::dir_ = nullptr;

TEST_F(IngestTest, AccountsForEveryInputAndVerifies) {
  auto r = RunIngest(Options(tmp_ / "ds"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_FALSE(r->dataset_id.empty());
  for (const auto& [kind, t] : r->tallies) {
    EXPECT_EQ(t.inputs, t.ingested + t.quarantined) << kind;
  }
  EXPECT_EQ(r->tallies["dicom"].inputs, static_cast<uint64_t>(kEncounters));
  EXPECT_EQ(r->tallies["encounters"].inputs, static_cast<uint64_t>(kEncounters));
  // Burned-in images are the only defect of a fresh cohort.
  const size_t burned = BurnedIn();
  EXPECT_EQ(r->tallies["dicom"].quarantined, burned);
  EXPECT_EQ(r->samples, kEncounters - burned);
  if (burned > 0) {
    EXPECT_TRUE(Reasons(r->dir).count("burned_in_annotation"));
  }
  auto v = VerifyDataset(r->dir);
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty()) << v->problems.front();
  EXPECT_EQ(v->samples, r->samples);
  EXPECT_FALSE(fs::exists(r->dir / "parts"));
}

TEST_F(IngestTest, SameInputsSeedAndKeyGiveTheSameId) {
  auto a = RunIngest(Options(tmp_ / "a"));
  auto b = RunIngest(Options(tmp_ / "b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->dataset_id, b->dataset_id);
  EXPECT_EQ(ReadFile(tmp_ / "a" / "index.jsonl").value(),
            ReadFile(tmp_ / "b" / "index.jsonl").value());
  IngestOptions other = Options(tmp_ / "c");
  other.key = "another key of at least 16 bytes";
  auto c = RunIngest(other);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(c->dataset_id, a->dataset_id);
  // An existing dataset is not overwritten without force.
  EXPECT_EQ(RunIngest(Options(tmp_ / "a")).status().code(), ErrorCode::kAlreadyExists);
}

TEST_F(IngestTest, VerifyDetectsAFlippedByteInAnyShard) {
  auto r = RunIngest(Options(tmp_ / "ds"));
  ASSERT_TRUE(r.ok());
  const Json m = Json::parse(ReadFile(r->dir / "manifest.json").value());
  ASSERT_GE(m["shards"].size(), 2u);
  for (const Json& s : m["shards"]) {
    const fs::path shard = r->dir / s["name"].get<std::string>();
    std::string bytes = ReadFile(shard).value();
    const size_t at = bytes.size() / 2;
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    ASSERT_TRUE(WriteFile(shard, bytes).ok());
    auto v = VerifyDataset(r->dir);
    ASSERT_TRUE(v.ok());
    ASSERT_FALSE(v->problems.empty()) << s["name"];
    EXPECT_NE(v->problems.front().find(s["name"].get<std::string>()), std::string::npos);
    bytes[at] = static_cast<char>(bytes[at] ^ 0x01);
    ASSERT_TRUE(WriteFile(shard, bytes).ok());
  }
  auto v = VerifyDataset(r->dir);
  EXPECT_TRUE(v->problems.empty());
  // A deleted index line is found too.
  std::string index = ReadFile(r->dir / "index.jsonl").value();
  ASSERT_TRUE(WriteFile(r->dir / "index.jsonl", index.substr(index.find('\n') + 1)).ok());
  EXPECT_FALSE(VerifyDataset(r->dir)->problems.empty());
}

TEST_F(IngestTest, PatientsNeverSpanSplitsAndStrataAddUp) {
  IngestOptions o = Options(tmp_ / "ds");
  o.split = {0.5, 0.25, 0.25};
  auto r = RunIngest(o);
  ASSERT_TRUE(r.ok());
  std::map<std::string, std::string> split_of;
  std::map<std::string, int> per_split;
  for (const Json& e : Lines(r->dir / "index.jsonl")) {
    auto [it, fresh] = split_of.emplace(e["patient_id"], e["split"]);
    EXPECT_EQ(it->second, e["split"]) << "patient " << e["patient_id"] << " in two splits";
    ++per_split[e["split"]];
  }
  EXPECT_GT(per_split["train"], per_split["val"]);
  const Json m = Json::parse(ReadFile(r->dir / "manifest.json").value());
  for (const auto& [split, s] : m["splits"].items()) {
    EXPECT_EQ(s["samples"], per_split[split]) << split;
    for (const auto& [stratum, counts] : s["strata"].items()) {
      int sum = 0;
      for (const auto& [value, n] : counts.items()) sum += n.get<int>();
      EXPECT_EQ(sum, per_split[split]) << split << " " << stratum;
    }
  }
}

TEST_F(IngestTest, AlignsImagesWithoutAccessionNumbers) {
  const fs::path copy = tmp_ / "cohort";
  fs::copy(cohort(), copy, fs::copy_options::recursive);
  for (const auto& e : fs::recursive_directory_iterator(copy / "dicom")) {
    if (!e.is_regular_file()) continue;
    auto ds = dicom::DicomDataset::LoadFile(e.path().string());
    ASSERT_TRUE(ds.ok());
    ASSERT_TRUE(ds->SetEmpty("AccessionNumber").ok());
    ASSERT_TRUE(
        ds->SaveFile(e.path().string() + ".tmp", dicom::TransferSyntax::kExplicitLittle).ok());
    fs::rename(e.path().string() + ".tmp", e.path());
  }
  auto base = RunIngest(Options(tmp_ / "base"));
  IngestOptions o = Options(tmp_ / "ds");
  o.dicom_root = (copy / "dicom").string();
  auto r = RunIngest(o);
  ASSERT_TRUE(base.ok() && r.ok());
  EXPECT_EQ(r->samples, base->samples);
  EXPECT_EQ(ReadFile(tmp_ / "base" / "index.jsonl").value(),
            ReadFile(tmp_ / "ds" / "index.jsonl").value());
}

TEST_F(IngestTest, QuarantinesEveryClassOfBadInputAndModifiesNoInput) {
  const fs::path copy = tmp_ / "cohort";
  fs::copy(cohort(), copy, fs::copy_options::recursive);
  std::vector<fs::path> dicoms;
  for (const auto& e : fs::recursive_directory_iterator(copy / "dicom")) {
    if (e.is_regular_file()) dicoms.push_back(e.path());
  }
  std::sort(dicoms.begin(), dicoms.end());
  const fs::path bad = copy / "dicom" / "bad";
  fs::create_directories(bad);
  ASSERT_TRUE(WriteFile(bad / "notes.txt", "this is not a DICOM file\n").ok());
  const std::string good = ReadFile(dicoms[0]).value();
  ASSERT_TRUE(WriteFile(bad / "truncated.dcm", good.substr(0, good.size() / 3)).ok());
  // An element whose declared length runs past the end of the file: PatientName, explicit VR.
  std::string longer;
  std::string jpeg_lossless;
  for (const fs::path& p : dicoms) {
    const std::string bytes = ReadFile(p).value();
    if (longer.empty() &&
        bytes.find(std::string("1.2.840.10008.1.2.1\0", 20)) != std::string::npos &&
        bytes.find(std::string("\x10\x00\x10\x00PN", 6)) != std::string::npos) {
      longer = bytes;
    }
    if (jpeg_lossless.empty() && bytes.find("1.2.840.10008.1.2.4.70") != std::string::npos) {
      jpeg_lossless = bytes;
    }
  }
  ASSERT_FALSE(longer.empty());
  ASSERT_FALSE(jpeg_lossless.empty());
  const size_t pn = longer.find(std::string("\x10\x00\x10\x00PN", 6));
  longer[pn + 6] = '\xf0';
  longer[pn + 7] = '\xff';
  ASSERT_TRUE(WriteFile(bad / "overlong.dcm", longer).ok());
  // A retired JPEG process (15), which this build does not decode: the same bytes under
  // another syntax UID of the same length.
  for (size_t at = jpeg_lossless.find("1.2.840.10008.1.2.4.70"); at != std::string::npos;
       at = jpeg_lossless.find("1.2.840.10008.1.2.4.70", at)) {
    jpeg_lossless.replace(at, 22, "1.2.840.10008.1.2.4.58");
  }
  ASSERT_TRUE(WriteFile(bad / "retired.dcm", jpeg_lossless).ok());
  // FHIR: invalid JSON, an oversized line, a broken reference, a duplicate id.
  {
    std::ofstream obs(copy / "fhir" / "Observation.ndjson", std::ios::app);
    obs << "{not json\n";
    obs << R"({"resourceType":"Observation","id":"obs-x","status":"final",)"
        << R"("subject":{"reference":"Patient/nobody"}})"
        << "\n";
    obs << R"({"resourceType":"Observation","id":"obs-big","note":")" << std::string(9u << 20, 'x')
        << "\"}\n";
    std::ifstream pat(copy / "fhir" / "Patient.ndjson");
    std::string first;
    std::getline(pat, first);
    std::ofstream(copy / "fhir" / "Patient.ndjson", std::ios::app) << first << "\n";
  }
  // Audio: one good dictation, one unreadable, one that matches no encounter.
  const fs::path audio = copy / "audio";
  fs::create_directories(audio);
  speech::Audio tone;
  tone.samples.assign(16000, 0.1f);
  ASSERT_TRUE(WriteFile(audio / "enc-000001.wav", speech::EncodeWav16(tone)).ok());
  ASSERT_TRUE(WriteFile(audio / "enc-000002.wav", "RIFF garbage").ok());
  ASSERT_TRUE(WriteFile(audio / "someone-else.wav", speech::EncodeWav16(tone)).ok());

  const auto before = Digests(copy);
  IngestOptions o = Options(tmp_ / "ds");
  o.dicom_root = (copy / "dicom").string();
  o.fhir_paths = {(copy / "fhir").string()};
  o.audio_root = audio.string();
  auto r = RunIngest(o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Digests(copy), before) << "an input file was modified";
  for (const auto& [kind, t] : r->tallies) EXPECT_EQ(t.inputs, t.ingested + t.quarantined) << kind;
  const auto reasons = Reasons(r->dir);
  for (const char* want : {"not_dicom", "dicom_unreadable", "unsupported_transfer_syntax",
                           "fhir_invalid", "fhir_too_large", "broken_reference", "duplicate_id",
                           "audio_unreadable", "audio_unmatched"}) {
    EXPECT_TRUE(reasons.count(want)) << want;
  }
  std::map<std::string, std::string> reason_of;
  for (const Json& q : Lines(r->dir / "quarantine.jsonl")) reason_of[q["source"]] = q["reason"];
  EXPECT_EQ(reason_of["bad/truncated.dcm"], "dicom_unreadable");
  EXPECT_EQ(reason_of["bad/overlong.dcm"], "dicom_unreadable");
  EXPECT_EQ(reason_of["bad/retired.dcm"], "unsupported_transfer_syntax");
  EXPECT_EQ(reason_of["enc-000002.wav"], "audio_unreadable");
  EXPECT_EQ(reason_of["someone-else.wav"], "audio_unmatched");
  EXPECT_EQ(r->tallies["audio"].ingested, 1u);
  EXPECT_EQ(r->tallies["dicom"].inputs, static_cast<uint64_t>(kEncounters + 4));
  // The transcript reached its sample.
  int with_transcript = 0;
  const Json manifest = Json::parse(ReadFile(r->dir / "manifest.json").value());
  for (const Json& s : manifest["shards"]) {
    auto members = dataset::ReadShard(ReadFile(r->dir / s["name"].get<std::string>()).value());
    ASSERT_TRUE(members.ok());
    for (const auto& m : *members) {
      if (m.field() == "json") {
        with_transcript +=
            Json::parse(m.data)["modalities"]["speech_transcript"] == "no prior studies";
      }
    }
  }
  EXPECT_EQ(with_transcript, 1);
  EXPECT_TRUE(VerifyDataset(r->dir)->problems.empty());
}

TEST_F(IngestTest, DicomInTheDatasetIsDeidentified) {
  auto r = RunIngest(Options(tmp_ / "ds"));
  ASSERT_TRUE(r.ok());
  const Json m = Json::parse(ReadFile(r->dir / "manifest.json").value());
  auto members =
      dataset::ReadShard(ReadFile(r->dir / m["shards"][0]["name"].get<std::string>()).value());
  ASSERT_TRUE(members.ok());
  int checked = 0;
  std::string patient;
  for (const auto& mem : *members) {
    if (mem.field() == "json") patient = Json::parse(mem.data)["patient_id"];
    if (mem.field() != "0.dcm") continue;
    auto ds = dicom::DicomDataset::FromBytes(mem.data);
    ASSERT_TRUE(ds.ok());
    EXPECT_EQ(ds->GetString("PatientIdentityRemoved").value(), "YES");
    EXPECT_EQ(ds->GetString("LongitudinalTemporalInformationModified").value(), "MODIFIED");
    EXPECT_FALSE(ds->GetString("DeidentificationMethod").value().empty());
    EXPECT_TRUE(ds->GetString("DeidentificationMethodCodeSequence[0].CodeValue").ok());
    EXPECT_EQ(ds->GetString("PatientID").value(), patient);
    ++checked;
  }
  EXPECT_GT(checked, 0);
}

TEST_F(IngestTest, DistributedWorkersMergeIntoTheSameSamples) {
  auto single = RunIngest(Options(tmp_ / "single"));
  ASSERT_TRUE(single.ok());
  IngestOptions o = Options(tmp_ / "dist");
  o.world_size = 3;
  for (int rank : {2, 0, 1}) {
    o.rank = rank;
    auto r = RunIngest(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->dataset_id.empty(), rank != 1) << "only the last worker merges";
  }
  EXPECT_FALSE(fs::exists(tmp_ / "dist" / "parts"));
  EXPECT_EQ(ReadFile(tmp_ / "single" / "quarantine.jsonl").value(),
            ReadFile(tmp_ / "dist" / "quarantine.jsonl").value());
  EXPECT_EQ(ReadFile(tmp_ / "single" / "lineage.jsonl").value(),
            ReadFile(tmp_ / "dist" / "lineage.jsonl").value());
  std::vector<std::string> a, b;
  for (const Json& e : Lines(tmp_ / "single" / "index.jsonl")) a.push_back(e["key"]);
  for (const Json& e : Lines(tmp_ / "dist" / "index.jsonl")) b.push_back(e["key"]);
  EXPECT_EQ(a, b);
  auto v = VerifyDataset(tmp_ / "dist");
  ASSERT_TRUE(v.ok());
  EXPECT_TRUE(v->problems.empty());
  auto merged = ReadResult(tmp_ / "dist");
  ASSERT_TRUE(merged.ok());
  for (const auto& [kind, t] : single->tallies) {
    EXPECT_EQ(merged->tallies[kind].ingested, t.ingested) << kind;
    EXPECT_EQ(merged->tallies[kind].quarantined, t.quarantined) << kind;
  }
}

TEST_F(IngestTest, RejectsInvalidOptionsWithoutWriting) {
  IngestOptions o = Options(tmp_ / "ds");
  o.rank = 2;
  o.world_size = 2;
  EXPECT_EQ(RunIngest(o).status().code(), ErrorCode::kInvalidArgument);
  o = Options(tmp_ / "ds");
  o.dicom_root = (tmp_ / "missing").string();
  EXPECT_EQ(RunIngest(o).status().code(), ErrorCode::kNotFound);
  o = Options(tmp_ / "ds");
  o.key = "short";
  EXPECT_EQ(RunIngest(o).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(tmp_ / "ds"));
}

TEST(IngestStaysTest, InpatientStaysBecomeDischargeSamples) {
  medscribe::testing::TempDir tmp;
  synth::SynthOptions so;
  so.kind = "inpatient";
  so.out_dir = (tmp.path() / "stays").string();
  so.encounters = 30;
  so.seed = 8;
  so.speech = true;
  ASSERT_TRUE(synth::WriteCohort(so, nullptr).ok());
  IngestOptions o;
  o.fhir_paths = {(tmp.path() / "stays" / "fhir").string()};
  o.audio_root = (tmp.path() / "stays" / "audio").string();
  o.out = tmp.path() / "ds";
  o.key = kKey;
  o.jobs = 2;
  o.progress = false;
  o.recognizer = []() -> StatusOr<std::unique_ptr<speech::Recognizer>> {
    return std::unique_ptr<speech::Recognizer>(new FixedRecognizer());
  };
  auto r = RunIngest(o);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->samples, 30u);
  EXPECT_EQ(r->quarantined, 0u);
  EXPECT_EQ(r->tallies["encounters"].ingested, 30u);
  EXPECT_GT(r->tallies["audio"].ingested, 0u);
  EXPECT_EQ(r->tallies["audio"].ingested, r->tallies["audio"].inputs);
  const Json manifest = Json::parse(ReadFile(r->dir / "manifest.json").value());
  int samples = 0, summaries = 0, transcripts = 0;
  std::string last_key;
  for (const Json& sh : manifest["shards"]) {
    auto members = dataset::ReadShard(ReadFile(r->dir / sh["name"].get<std::string>()).value());
    ASSERT_TRUE(members.ok());
    for (const auto& m : *members) {
      EXPECT_NE(m.field(), "img.npy") << m.name;
      if (m.field() == "json") {
        const Json j = Json::parse(m.data);
        EXPECT_EQ(j["task"], "discharge_summary");
        EXPECT_GE(m.key(), last_key) << "samples out of key order";
        last_key = m.key();
        ++samples;
        transcripts += j["modalities"]["speech_transcript"] == "no prior studies";
      }
      if (m.field() == "txt")
        summaries += m.data.find("DISCHARGE MEDICATIONS:") != std::string::npos;
    }
    last_key.clear();
  }
  EXPECT_EQ(samples, 30);
  EXPECT_EQ(summaries, 30);
  EXPECT_EQ(static_cast<uint64_t>(transcripts), r->tallies["audio"].ingested);
  EXPECT_TRUE(VerifyDataset(r->dir)->problems.empty());
}

}  // namespace
}  // namespace medscribe::ingest
