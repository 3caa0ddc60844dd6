import type { Registry } from 'prom-client';
import eventLoopLag from 'prom-client/lib/metrics/eventLoopLag.js';
import gcDuration from 'prom-client/lib/metrics/gc.js';
import heapSizeAndUsed from 'prom-client/lib/metrics/heapSizeAndUsed.js';
import heapSpacesSizeAndUsed from 'prom-client/lib/metrics/heapSpacesSizeAndUsed.js';
import osMemoryHeap from 'prom-client/lib/metrics/osMemoryHeap.js';
import processCpuTotal from 'prom-client/lib/metrics/processCpuTotal.js';
import processHandles from 'prom-client/lib/metrics/processHandles.js';
import processMaxFileDescriptors from 'prom-client/lib/metrics/processMaxFileDescriptors.js';
import processOpenFileDescriptors from 'prom-client/lib/metrics/processOpenFileDescriptors.js';
import processRequests from 'prom-client/lib/metrics/processRequests.js';
import processResources from 'prom-client/lib/metrics/processResources.js';
import processStartTime from 'prom-client/lib/metrics/processStartTime.js';
import version from 'prom-client/lib/metrics/version.js';

/** The metric the GC collector adds: how long each collection took, by kind. */
export const GC_DURATION_METRIC = 'nodejs_gc_duration_seconds';

/** prom-client's default collectors, the GC one aside: the same list its collectDefaultMetrics runs. */
const WITHOUT_GC = [
  processCpuTotal,
  processStartTime,
  osMemoryHeap,
  processOpenFileDescriptors,
  processMaxFileDescriptors,
  eventLoopLag,
  processResources,
  processHandles,
  processRequests,
  heapSizeAndUsed,
  heapSpacesSizeAndUsed,
  version,
];

/**
 * The process metrics prom-client's collectDefaultMetrics gives (CPU, memory, heap spaces, handles, event loop lag,
 * Node version), with the GC durations only when asked for (METRICS_GC=true).
 * Why not by default: that collector is a PerformanceObserver of every collection, and for each one Node builds an
 * entry with a map and four wrapped accessors. Under load (a few hundred scavenges a second) those entries were
 * about 60 % of what reached V8's old generation, so full collections, each a pause of 3 to 9 ms, came about four
 * times as often. prom-client has no switch to leave one default collector out, so the list is spelled out here;
 * the spec checks it against collectDefaultMetrics's own after an upgrade.
 */
export function collectProcessMetrics(registry: Registry, { gcDurations }: { gcDurations: boolean }): void {
  // the precision collectDefaultMetrics passes unless told otherwise
  const config = { eventLoopMonitoringPrecision: 10 };
  for (const collect of gcDurations ? [...WITHOUT_GC, gcDuration] : WITHOUT_GC) collect(registry, config);
}
