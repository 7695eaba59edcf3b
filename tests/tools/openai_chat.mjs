// The official OpenAI client against the model server: one plain and one streamed chat
// completion. Usage: [OPENAI_API_KEY=TOKEN] [NODE_EXTRA_CA_CERTS=CA.pem] node openai_chat.mjs BASE_URL MODEL
// Prints "plain: <text>" and "stream: <n> chunks: <text>"; exits 1 on any error.
import OpenAI from 'openai';

const [baseURL, model] = process.argv.slice(2);
const client = new OpenAI({ baseURL, apiKey: process.env.OPENAI_API_KEY || 'unused', maxRetries: 0 });
const messages = [{ role: 'user', content: '<history> 70-year-old male. <report>' }];
try {
  const plain = await client.chat.completions.create({ model, messages, max_tokens: 8 });
  console.log(`plain: ${plain.choices[0].message.content} (${plain.usage.completion_tokens} tokens)`);
  const stream = await client.chat.completions.create({ model, messages, max_tokens: 8, stream: true });
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks += 1;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  console.log(`stream: ${chunks} chunks: ${text}`);
  try {
    await client.chat.completions.create({ model, messages, logprobs: true });
    console.log('logprobs: accepted');
  } catch (e) {
    console.log(`logprobs: refused ${e.status}`);
  }
} catch (e) {
  console.error(`error: ${e.message}`);
  process.exit(1);
}
