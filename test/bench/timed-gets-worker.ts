// GETs one URL on one kept-alive connection, in a process of its own, so that the store bench's latency figures
// carry no pause of the bench process (whose heap the earlier benches grew: serving 256 MiB, checksumming it).
// Usage: node build/test/bench/timed-gets-worker.js <url> <warm-up> <samples> [<file for the last body>]
// Prints one JSON line: the timed samples (ms, sorted); the last body goes to the file when one is named.
import { writeFileSync } from 'node:fs';
import { Agent, get } from 'node:http';

const [url, warmUp, samples, bodyFile] = process.argv.slice(2);
if (!url || !(Number(samples) > 0) || !(Number(warmUp) >= 0)) throw new Error('usage: timed-gets-worker.js <url> <warm-up> <samples> [<file for the last body>]');

/** A GET on the kept-alive connection: the status and the body, timed to its last byte. */
function timedGet(agent: Agent): Promise<{ ms: number; status: number; body: Buffer }> {
  const began = performance.now();
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ ms: performance.now() - began, status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    }).on('error', reject);
  });
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const times: number[] = [];
let last: Buffer = Buffer.alloc(0);
for (let request = 0; request < Number(warmUp) + Number(samples); request++) {
  const { ms, status, body } = await timedGet(agent);
  if (status !== 200) throw new Error(`GET ${url} answered ${status}`);
  last = body;
  if (request >= Number(warmUp)) times.push(ms);
}
agent.destroy();
if (bodyFile) writeFileSync(bodyFile, last);
console.log(JSON.stringify({ times: times.sort((a, b) => a - b) }));
