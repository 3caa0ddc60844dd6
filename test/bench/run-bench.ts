// `npm run bench`: every benchmark side by side with the tools people use today, in one run.
// Usage: npm run bench [-- direct|m3u8|store …] to run only some.
import { runDirectBench } from './direct.bench.js';
import { runM3u8Bench } from './m3u8.bench.js';
import { runStoreBench } from './store.bench.js';

const benches: Record<string, () => Promise<string[]>> = { direct: runDirectBench, m3u8: runM3u8Bench, store: runStoreBench };
const chosen = process.argv.slice(2).filter((name) => name in benches);
for (const name of chosen.length ? chosen : Object.keys(benches)) {
  const lines = await benches[name]();
  console.log(lines.join('\n'));
  console.log('');
}
