#!/usr/bin/env python3
"""Plants identifiers of every Safe Harbor category into a synthetic cohort, where ingest reads them.

Usage: phi_plant.py COHORT_DIR COUNT
       phi_plant.py --edit SEED

With --edit: prints one JSON object {"text", "planted"}: the paragraphs, English and Traditional
Chinese, that name one identifier of every category, as a clinician might type them into a
draft, and the planted strings (the workflow test checks the feedback export for them).

Also, for two encounters with dictation audio: a new dictation spoken with espeak-ng that names
the patient, spells out a call-back number and names a relative, and its sentences (twice each)
in COHORT_DIR/transcripts/planted_speech.txt, to build a language model in which speech
recognition writes them down (as a site's model of past dictations would).

For the first COUNT encounters whose image has no burned-in annotation: a paragraph in the
encounter's note (English, or Traditional Chinese when the note is), a sentence in its final
report, and values in the DICOM file's free-text attributes at the top level, inside nested
sequence items and in a private block (with DCMTK's dcmodify). Every planted string is added to
the encounter's "planted_phi" in truth/labels.jsonl, which phi_scan then searches for in the
dataset, the warehouse and the logs. Prints how many strings were planted, by category and place.
The identifiers are written as people write them, with the words that usually introduce them.
"""
import base64
import collections
import json
import os
import random
import subprocess
import sys

GIVEN = ["Marisol", "Tobias", "Agnieszka", "Rowan", "Imani", "Desmond", "Yusuf", "Greta", "Callum"]
FAMILY = ["Okonkwo", "Lindqvist", "Castellanos", "Abernathy", "Nakashima", "Van der Berg", "Kowalczyk"]
ZH_FAMILY = ["林", "黃", "張", "蔡", "許", "賴", "歐陽"]
ZH_GIVEN = ["佳穎", "冠廷", "淑芬", "志豪", "雅雯", "柏翰"]
SPOKEN_RELATIVES = ["Margaret", "Patricia", "Gregory", "Dorothy"]
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]


def digits(r, n):
    return "".join(str(r.randint(0, 9)) for _ in range(n))


def letters(r, n):
    return "".join(chr(ord("A") + r.randint(0, 25)) for _ in range(n))


def plant_values(r):
    """One identifier per category: (category, text, sentence holding it)."""
    name = f"{r.choice(GIVEN)} {r.choice(FAMILY)}"
    y, m, d = r.randint(2015, 2024), r.randint(1, 12), r.randint(1, 28)
    phone = f"{digits(r, 3)}-{digits(r, 3)}-{digits(r, 4)}"
    fax = f"({digits(r, 3)}) {digits(r, 3)}-{digits(r, 4)}"
    zip_code = digits(r, 5)
    street = f"{r.randint(10, 9999)} {r.choice(['Juniper', 'Alder', 'Cedar Hollow'])} Street"
    email = f"{name.split()[0].lower()}.{digits(r, 2)}@mailbox.example"
    v = [
        ("name", name, f"History from his daughter, {name}, who is the health care proxy."),
        ("date", f"{MONTHS[m - 1]} {d}, {y}", f"Admitted on {MONTHS[m - 1]} {d}, {y} with fever."),
        ("date", f"{m:02d}/{d:02d}/{y}", f"Prior film dated {m:02d}/{d:02d}/{y}."),
        ("phone", phone, f"Call back at {phone}."),
        ("fax", fax, f"Fax: {fax}."),
        ("address", street, f"Lives at {street}, Portland, OR {zip_code}."),
        ("address", zip_code, ""),
        ("email", email, f"E-mail {email} for results."),
        ("ssn", f"{digits(r, 3)}-{digits(r, 2)}-{digits(r, 4)}", None),
        ("record_number", f"MR{digits(r, 8)}", None),
        ("health_plan", f"{letters(r, 3)}{digits(r, 6)}-{digits(r, 2)}", None),
        ("account", f"AC{digits(r, 7)}", None),
        ("license", f"{letters(r, 1)}{digits(r, 4)}-{digits(r, 4)}", None),
        ("vehicle", f"{letters(r, 3)}-{digits(r, 4)}", None),
        ("device", f"{letters(r, 3)}{digits(r, 6)}{letters(r, 1)}", None),
        ("url", f"https://portal.example.org/p/{digits(r, 6)}", None),
        ("ip", f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}", None),
        ("biometric", f"FP-{digits(r, 6)}", None),
        ("photo", f"IMG_{digits(r, 8)}_{digits(r, 4)}.jpg", None),
        ("other_id", f"{digits(r, 9)}", None),
        ("age", f"{r.randint(90, 104)}-year-old", None),
    ]
    by = {c: t for c, t, _ in v}
    sentences = [s for _, _, s in v if s]
    sentences += [
        f"SSN {by['ssn']}. Chart no. {by['record_number']}. Member ID: {by['health_plan']}.",
        f"Account number {by['account']}. Driver license number {by['license']}.",
        f"Arrived by car, plate {by['vehicle']}. Pump serial no. {by['device']}.",
        f"Images at {by['url']}, uploaded from {by['ip']}.",
        f"Fingerprint ref {by['biometric']} and photo {by['photo']} on file.",
        f"Study code {by['other_id']}. A {by['age']} with cough.",
    ]
    return v, " ".join(sentences)


def plant_values_zh(r):
    name = r.choice(ZH_FAMILY) + r.choice(ZH_GIVEN)
    mobile = f"09{digits(r, 2)}-{digits(r, 3)}-{digits(r, 3)}"
    nid = letters(r, 1) + str(r.randint(1, 2)) + digits(r, 8)
    address = f"台中市西屯區文心路{r.randint(2, 99)}巷{r.randint(1, 200)}號"
    v = [("name", name), ("phone", mobile), ("national_id", nid), ("address", address)]
    text = (f"女兒{name}陪同就診，聯絡電話{mobile}，身分證字號{nid}，住址：{address}。")
    return v, text


def main():
    cohort, count = sys.argv[1], int(sys.argv[2])
    truth_path = os.path.join(cohort, "truth", "labels.jsonl")
    truths = [json.loads(line) for line in open(truth_path, encoding="utf-8")]
    fhir = os.path.join(cohort, "fhir")
    docs = [json.loads(line) for line in open(os.path.join(fhir, "DocumentReference.ndjson"), encoding="utf-8")]
    reports = [json.loads(line) for line in open(os.path.join(fhir, "DiagnosticReport.ndjson"), encoding="utf-8")]
    dicom_of = {}
    for root, _, files in os.walk(os.path.join(cohort, "dicom")):
        for f in files:
            dicom_of[f[:-4]] = os.path.join(root, f)

    patients = {}
    for line in open(os.path.join(fhir, "Patient.ndjson"), encoding="utf-8"):
        p = json.loads(line)
        patients[p["id"]] = p["name"][0]
    spoken_corpus = []

    planted = collections.Counter()
    chosen = [t for t in truths if not t["burned_in_annotation"]][:count]
    for t in chosen:
        r = random.Random(t["encounter_id"])
        enc_ref = "Encounter/" + t["encounter_id"]
        values, paragraph = plant_values(r)
        zh_values, zh_paragraph = plant_values_zh(r)
        new = []
        # The note: English paragraph, and the Chinese one in Chinese notes.
        for doc in docs:
            if enc_ref not in [e["reference"] for e in doc.get("context", {}).get("encounter", [])]:
                continue
            att = doc["content"][0]["attachment"]
            if not att.get("contentType", "").startswith("text/"):
                continue
            text = base64.b64decode(att["data"]).decode("utf-8")
            zh = att.get("language", "").startswith("zh")
            text += "\n" + (zh_paragraph if zh else paragraph)
            att["data"] = base64.b64encode(text.encode("utf-8")).decode("ascii")
            for c, v, *_ in (zh_values if zh else values):
                new.append(v)
                planted[(c, "note")] += 1
        # The final report: who it was discussed with, how to reach them, when.
        for dr in reports:
            if dr.get("encounter", {}).get("reference") != enc_ref:
                continue
            form = dr["presentedForm"][0]
            text = base64.b64decode(form["data"]).decode("utf-8")
            name, phone = values[0][1], values[3][1]
            text += f"\nFindings discussed with {name} (daughter) at {phone} on {values[1][1]}."
            form["data"] = base64.b64encode(text.encode("utf-8")).decode("ascii")
            for c in ("name", "phone", "date"):
                planted[(c, "report")] += 1
        # DICOM: free text at the top level, in nested sequence items and in a private block.
        path = dicom_of.get(t["sop_instance_uid"])
        if path:
            name, phone, street = values[0][1], values[3][1], values[5][1]
            other_name = f"{r.choice(GIVEN)} {r.choice(FAMILY)}"
            zh_name = zh_values[0][1]
            mrn = values[9][1]
            dicom_values = [
                ("(0008,1030)", f"CHEST call {phone}", [phone], "dicom"),
                ("(0010,4000)", f"lives at {street}", [street], "dicom"),
                ("(0020,4000)", f"pt {name}", [name], "dicom"),
                ("(0008,103e)", f"PA {zh_name}", [zh_name], "dicom"),
                ("(0040,0275)[0].(0032,1060)", f"CXR for {other_name}", [other_name], "dicom nested"),
                ("(0040,0555)[0].(0040,a160)", f"tech Dr. {name}", [name], "dicom nested"),
                ("(0010,1002)[0].(0010,0020)", mrn, [mrn], "dicom nested"),
                ("(0029,0010)", "SITE PRIVATE", [], "dicom private"),
                ("(0029,1001)", f"ref {other_name} {phone}", [other_name, phone], "dicom private"),
            ]
            args = ["dcmodify", "-nb", "-q"]
            for tag, value, _, _ in dicom_values:
                args += ["-i", f"{tag}={value}"]
            subprocess.run(args + [path], check=True)
            for _, _, strings, where in dicom_values:
                new += strings
                for _ in strings:
                    planted[("dicom", where)] += 1
        # A dictation that says who, a number and a relative.
        wav = os.path.join(cohort, "audio", t["encounter_id"] + ".wav")
        if len(spoken_corpus) < 4 and os.path.exists(wav):
            pn = patients[t["patient_id"]]
            patient = f"{pn['given'][0]} {pn['family']}"
            number = " ".join(r.choice(DIGIT_WORDS[1:]) for _ in range(7))
            relative = SPOKEN_RELATIVES[len(spoken_corpus) // 2]
            sentences = [f"Patient {patient}.", f"Call back number {number}.",
                         f"Spoke with daughter {relative}.", "Two views of the chest."]
            subprocess.run(["espeak-ng", "-w", wav, " ".join(sentences)], check=True)
            spoken_corpus += [" ".join(sentences)] * 2
            new += [patient, number, relative]
            for c in ("name", "phone", "name"):
                planted[(c, "dictation audio")] += 1
        t["planted_phi"] = t["planted_phi"] + [s for s in new if s not in t["planted_phi"]]

    with open(os.path.join(fhir, "DocumentReference.ndjson"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in docs)
    with open(os.path.join(fhir, "DiagnosticReport.ndjson"), "w", encoding="utf-8") as f:
        f.writelines(json.dumps(d, ensure_ascii=False) + "\n" for d in reports)
    with open(truth_path, "w", encoding="utf-8") as f:
        f.writelines(json.dumps(t, ensure_ascii=False) + "\n" for t in truths)
    os.makedirs(os.path.join(cohort, "transcripts"), exist_ok=True)
    with open(os.path.join(cohort, "transcripts", "planted_speech.txt"), "w", encoding="utf-8") as f:
        f.writelines(line + "\n" for line in spoken_corpus)
    categories = sorted({c for c, _ in planted})
    places = sorted({p for _, p in planted})
    print(f"planted in {len(chosen)} encounters: {sum(planted.values())} identifiers, "
          f"{len(categories)} categories ({' '.join(categories)}), places: {', '.join(places)}")


def edit(seed):
    r = random.Random(seed)
    values, paragraph = plant_values(r)
    zh_values, zh_paragraph = plant_values_zh(r)
    planted = [v[1] for v in values + zh_values]
    print(json.dumps({"text": paragraph + " " + zh_paragraph, "planted": planted}, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--edit":
        edit(int(sys.argv[2]))
    else:
        main()
