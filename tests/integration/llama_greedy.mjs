// Greedy continuation of token ids by llama.cpp, through node-llama-cpp's prebuilt CPU binaries:
// the anchor MedScribe's GGUF export is checked against.
// Usage: node llama_greedy.mjs NODE_MODULES MODEL.gguf IDS N [EOS]
//   IDS: the prompt's token ids, comma-separated (bos first); N: tokens to generate at most.
// Prints the generated ids as a JSON array (without the end token EOS, default 3; -1: generate
// past it).
import path from "node:path";
import { pathToFileURL } from "node:url";

const [modules, modelPath, ids, n, eos = "3"] = process.argv.slice(2);
const entry = pathToFileURL(path.join(modules, "node-llama-cpp", "dist", "index.js")).href;
const { getLlama, LlamaLogLevel } = await import(entry);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const context = await model.createContext({ contextSize: 512, threads: 1 });
const sequence = context.getSequence();
const out = [];
for await (const token of sequence.evaluate(ids.split(",").map(Number), { temperature: 0 })) {
  if (token === Number(eos) || out.length >= Number(n)) break;
  out.push(token);
}
console.log(JSON.stringify(out));
await context.dispose();
await model.dispose();
await llama.dispose();
