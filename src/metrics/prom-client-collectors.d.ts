// prom-client's default collectors, one module each; the package types only its index. Each registers its metrics
// on the registry it is given.
declare module 'prom-client/lib/metrics/*.js' {
  import type { Registry } from 'prom-client';

  const collect: (registry: Registry, config?: { eventLoopMonitoringPrecision?: number }) => void;
  export default collect;
}
