// Node.js process metrics (CPU, memory, event loop, GC) with the flexfarm_ prefix, for the
// coordinator and the agents. prom-client's three *_total gauges of active handles, requests and
// resources break Prometheus' naming rule (promtool: a non-counter must not end in _total); the
// same figures remain, by type, in flexfarm_nodejs_active_{handles,requests,resources}.
import { collectDefaultMetrics, type Registry } from 'prom-client';

export const PROCESS_METRICS_PREFIX = 'flexfarm_';

const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function registerProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry, prefix: PROCESS_METRICS_PREFIX });
  for (const name of MISNAMED_GAUGES) {
    if (registry.getSingleMetric(`${PROCESS_METRICS_PREFIX}${name}`)) registry.removeSingleMetric(`${PROCESS_METRICS_PREFIX}${name}`);
  }
}
