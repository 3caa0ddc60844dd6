import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { GC_DURATION_METRIC, collectProcessMetrics } from './process-metrics.js';

/** The names of the metrics on a registry, sorted. */
async function names(registry: Registry): Promise<string[]> {
  return (await registry.getMetricsAsJSON()).map((metric) => metric.name).sort();
}

describe('collectProcessMetrics', () => {
  it("registers prom-client's default metrics but the GC durations, unless asked for", async () => {
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults });
    const expected = await names(defaults);
    assert.ok(expected.includes(GC_DURATION_METRIC), `prom-client's defaults still name ${GC_DURATION_METRIC}`);

    const without = new Registry();
    collectProcessMetrics(without, { gcDurations: false });
    // a collector prom-client adds in an upgrade shows here, to be listed in process-metrics.ts
    assert.deepEqual(await names(without), expected.filter((name) => name !== GC_DURATION_METRIC));

    const withGc = new Registry();
    collectProcessMetrics(withGc, { gcDurations: true });
    assert.deepEqual(await names(withGc), expected);
  });

  it('reads real values: the process CPU, resident memory and heap', async () => {
    const registry = new Registry();
    collectProcessMetrics(registry, { gcDurations: false });
    const text = await registry.metrics();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_heap_size_used_bytes']) {
      const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      assert.ok(value > 0, `${name} is ${value}`);
    }
  });
});
