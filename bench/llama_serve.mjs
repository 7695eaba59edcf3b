// llama.cpp serving the same report-shaped requests as bench/engine_serve, all at once: one
// context with a sequence per request (node-llama-cpp batches the sequences' tokens into shared
// llama_decode calls), greedy, N generated tokens each.
// Usage: node llama_serve.mjs NODE_MODULES MODEL.gguf REQUESTS.json THREADS [N=128]
// Prints one line: "requests=... req_s=... tok_s=... ttft_p50_ms=... ttft_p99_ms=...".
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, modelPath, requestsPath, threadsArg, nArg = "128"] = process.argv.slice(2);
const threads = Number(threadsArg), n = Number(nArg);
const requests = JSON.parse(fs.readFileSync(requestsPath, "utf8"));
const entry = pathToFileURL(path.join(modules, "node-llama-cpp", "dist", "index.js")).href;
const { getLlama, LlamaLogLevel } = await import(entry);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 0 });
const model = await llama.loadModel({ modelPath });
const longest = Math.max(...requests.map((r) => r.length));
const context = await model.createContext({
  sequences: requests.length,
  contextSize: requests.length * (longest + n + 8),
  batchSize: 512,
  threads: { ideal: threads, min: threads },
});
const percentile = (v, p) => {
  const s = [...v].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};
const t0 = process.hrtime.bigint();
const ms = (t) => Number(t - t0) / 1e6;
const ttft = [];
let tokens = 0;
await Promise.all(requests.map(async (prompt) => {
  const sequence = context.getSequence();
  let count = 0;
  for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
    if (count === 0) ttft.push(ms(process.hrtime.bigint()));
    ++tokens;
    if (++count >= n) break;
  }
}));
const seconds = ms(process.hrtime.bigint()) / 1e3;
console.log(`requests=${requests.length} req_s=${(requests.length / seconds).toFixed(2)} ` +
  `tok_s=${(tokens / seconds).toFixed(1)} ttft_p50_ms=${percentile(ttft, 0.5).toFixed(0)} ` +
  `ttft_p99_ms=${percentile(ttft, 0.99).toFixed(0)}`);
await context.dispose();
await model.dispose();
await llama.dispose();
