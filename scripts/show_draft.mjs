// Prints a draft for the quickstart: the progress stages of a streamed POST /v1/drafts answer
// (newline-delimited JSON), the draft text and its hints; with --signed, a signed draft's
// write-back locations.
// Usage: node show_draft.mjs STREAM.ndjson | node show_draft.mjs --signed DRAFT.json
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
if (args[0] === '--signed') {
  const d = JSON.parse(readFileSync(args[1], 'utf8'));
  if (d.error) {
    console.error(`error ${d.error.code}: ${d.error.message}`);
    process.exit(1);
  }
  console.log(`status: ${d.status} at ${d.signed_at} by ${d.signer.name}`);
  console.log(`FHIR DiagnosticReport (final): ${d.writeback.fhir}`);
  console.log(`DICOM SR (TID 2000, verified): ${d.writeback.dicom}`);
  const diff = d.diff.split('\n').filter((l) => l.startsWith('+') || l.startsWith('-'));
  console.log(`edits from the draft: ${diff.length ? diff.length + ' changed lines' : 'none'}`);
  process.exit(0);
}
let draft = null;
const stages = [];
for (const line of readFileSync(args[0], 'utf8').split('\n')) {
  if (!line.trim()) continue;
  const ev = JSON.parse(line);
  if (ev.error) {
    console.error(`error ${ev.error.code}: ${ev.error.message}`);
    process.exit(1);
  }
  if (ev.stage === 'error') {
    console.error(`error ${ev.status}: ${ev.message}`);
    process.exit(1);
  }
  if (ev.stage === 'done') draft = ev.draft;
  else if (ev.stage !== 'text' && !stages.includes(ev.stage)) stages.push(ev.stage);
}
if (!draft) {
  console.error('the stream ended without a draft');
  process.exit(1);
}
console.log(`progress: ${stages.join(' → ')}`);
console.log(`draft id: ${draft.id}`);
console.log(`model: ${draft.model_version}; patient ${draft.patient.name}; ${draft.study.description}, accession ${draft.study.accession}`);
if (draft.transcript) console.log(`dictation (ASR): ${draft.transcript.slice(0, 160)}${draft.transcript.length > 160 ? '…' : ''}`);
console.log('--- draft ---');
console.log(draft.text);
console.log('--- hints ---');
if (!draft.hints.length) console.log('(none)');
for (const h of draft.hints) {
  console.log(`[${h.severity}] ${h.rule_id}: ${h.message.en}${h.evidence ? ` (${h.evidence})` : ''}`);
  console.log(`          ${h.message['zh-Hant']}`);
}
