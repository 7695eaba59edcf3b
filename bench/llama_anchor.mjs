// llama.cpp on the same GGUF weights as the engine (node-llama-cpp's prebuilt CPU binaries):
// prompt processing of P tokens and batch-1 greedy decode of N tokens, each the best of R runs.
// Usage: node llama_anchor.mjs NODE_MODULES MODEL.gguf THREADS [P=128] [N=128] [R=3]
// Prints one line: "pp_tok_s=... tok_s=... threads=...".
//
// Run it with UV_THREADPOOL_SIZE=1 (bench/engine.sh does): libuv's default pool of four threads
// competes with llama.cpp's compute threads on a small machine.
//
// Threads: the Llama instance is created with maxThreads 0, so that the context's thread count
// is used as given, never lowered by node-llama-cpp's sharing of threads between contexts, and
// the context asks for that many as its minimum too.
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, modelPath, threadsArg, pArg = "128", nArg = "128", rArg = "3"] = process.argv.slice(2);
const threads = Number(threadsArg), p = Number(pArg), n = Number(nArg), reps = Number(rArg);
const entry = pathToFileURL(path.join(modules, "node-llama-cpp", "dist", "index.js")).href;
const { getLlama, LlamaLogLevel } = await import(entry);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error, maxThreads: 0 });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({
  contextSize: p + n + 16,
  batchSize: Math.max(p, 8),
  threads: { ideal: threads, min: threads },
});
const prompt = Array.from({ length: p }, (_, i) => 4 + ((i * 37) % 7000));
let pp = 0, tg = 0;
for (let r = 0; r < reps; ++r) {
  const sequence = context.getSequence();
  let t0 = process.hrtime.bigint();
  await sequence.evaluateWithoutGeneratingNewTokens(prompt);
  pp = Math.max(pp, p / (Number(process.hrtime.bigint() - t0) / 1e9));
  // Decode: the first generated token is the prompt's; time the N after it.
  let count = 0;
  for await (const token of sequence.evaluate([prompt[p - 1]], { temperature: 0 })) {
    if (count === 0) t0 = process.hrtime.bigint();
    if (++count > n) break;
  }
  tg = Math.max(tg, n / (Number(process.hrtime.bigint() - t0) / 1e9));
  sequence.dispose();
}
console.log(`pp_tok_s=${pp.toFixed(1)} tok_s=${tg.toFixed(1)} threads=${threads}`);
await context.dispose();
await model.dispose();
await llama.dispose();
