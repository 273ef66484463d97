// An agent's Prometheus metrics (`flexfarm agent --metrics HOST:PORT` serves them at /metrics):
// measurements by status, durations of whole measurements, of compiler runs and of timing runs,
// of publishing, and what the queue holds. Every series carries the agent's name and device class
// as constant labels; no config or candidate id is ever a label.
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { FlexfarmError } from '../contracts/errors.ts';
import { listenFailureMessage } from '../contracts/listen-failure.ts';
import { registerProcessMetrics } from '../contracts/process-metrics.ts';
import { MEASUREMENT_STATUSES } from '../contracts/measurement-status.ts';
import type { MeasureResult, TargetKind } from '../contracts/result.ts';
import { authRefusalCounter, type AuthRefusal } from '../contracts/security/auth-refusals.ts';
import type { MeasureQueueObserver } from './measure-queue.ts';
import { onMeasurePhase } from './phase-timing.ts';

/** From a cached sim measurement (microseconds) to an FPGA C simulation (minutes). */
const MEASURE_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const COMPILE_BUCKETS_SECONDS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const RUN_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const PUBLISH_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export interface AgentMetricsOptions {
  agent: string;
  deviceClass: TargetKind;
  /** Node.js process metrics (flexfarm_process_*, flexfarm_nodejs_*); default true. */
  processMetrics?: boolean;
}

/** What the queue gauge reads at scrape time (Agent.load()). */
export interface LoadSource {
  load(): { queued: number; measuring: number; unpublished: number };
}

export class AgentMetrics {
  readonly registry = new Registry();
  private loadSource: LoadSource | null = null;
  private readonly measurements: Counter<'status'>;
  private readonly measureDuration: Histogram<'status'>;
  private readonly publishDuration: Histogram<string>;
  private readonly compileDuration: Histogram<'outcome'>;
  private readonly runDuration: Histogram<'outcome'>;
  private readonly unsubscribePhases: () => void;
  /** Counts a gRPC call refused for its credentials (AgentServerOptions.authRefused). */
  readonly authRefused: (refusal: AuthRefusal) => void;

  constructor(options: AgentMetricsOptions) {
    this.registry.setDefaultLabels({ agent: options.agent, device_class: options.deviceClass });
    if (options.processMetrics !== false) registerProcessMetrics(this.registry);
    const registers = [this.registry];
    this.measurements = new Counter({
      name: 'flexfarm_agent_measurements_total', help: 'Candidates measured by this agent, by status (ok or error code).',
      labelNames: ['status'], registers,
    });
    this.measureDuration = new Histogram({
      name: 'flexfarm_agent_measure_duration_seconds', help: 'One whole measurement on the agent: lower, compile, run, check.',
      labelNames: ['status'], buckets: MEASURE_BUCKETS_SECONDS, registers,
    });
    this.compileDuration = new Histogram({
      name: 'flexfarm_agent_compile_duration_seconds', help: 'Compiler runs (cache misses only), by outcome (ok, error, timeout).',
      labelNames: ['outcome'], buckets: COMPILE_BUCKETS_SECONDS, registers,
    });
    this.runDuration = new Histogram({
      name: 'flexfarm_agent_run_duration_seconds', help: 'Timing runs of compiled kernels (warm-up, repeats and check), by outcome (ok, error).',
      labelNames: ['outcome'], buckets: RUN_BUCKETS_SECONDS, registers,
    });
    this.publishDuration = new Histogram({
      name: 'flexfarm_agent_publish_duration_seconds', help: 'Publishing a result until the broker acknowledged it.',
      buckets: PUBLISH_BUCKETS_SECONDS, registers,
    });
    this.authRefused = authRefusalCounter(this.registry, 'flexfarm_agent_grpc_auth_refused_total');
    const self = this;
    new Gauge({
      name: 'flexfarm_agent_queue_candidates', help: 'Candidates held by the agent, by stage (queued, measuring, unpublished).',
      labelNames: ['stage'], registers,
      collect() {
        const load = self.loadSource?.load() ?? { queued: 0, measuring: 0, unpublished: 0 };
        for (const [stage, n] of Object.entries(load)) this.set({ stage }, n);
      },
    });
    // Present at 0 before the first measurement (a Grafana stat panel reads 0, not "No data").
    for (const status of MEASUREMENT_STATUSES) this.measurements.inc({ status }, 0);
    for (const outcome of ['ok', 'error', 'timeout']) this.compileDuration.zero({ outcome });
    for (const outcome of ['ok', 'error']) this.runDuration.zero({ outcome });
    this.measureDuration.zero({ status: 'ok' });
    this.unsubscribePhases = onMeasurePhase((e) => {
      (e.phase === 'compile' ? this.compileDuration : this.runDuration).observe({ outcome: e.outcome }, e.seconds);
    });
  }

  /** Hooks for the agent's measure queue (AgentOptions.observer). */
  readonly observer: MeasureQueueObserver = {
    measured: (result: MeasureResult, elapsedMs: number) => {
      const status = result.error ? result.error.code : 'ok';
      this.measurements.inc({ status });
      this.measureDuration.observe({ status }, elapsedMs / 1000);
    },
    published: (_result: MeasureResult, elapsedMs: number) => {
      this.publishDuration.observe(elapsedMs / 1000);
    },
  };

  attach(source: LoadSource): void { this.loadSource = source; }

  get contentType(): string { return this.registry.contentType; }

  scrape(): Promise<string> { return this.registry.metrics(); }

  names(): string[] {
    return this.registry.getMetricsAsArray().map((m) => m.name).sort();
  }

  close(): void { this.unsubscribePhases(); }
}

export class MetricsListenError extends FlexfarmError {
  override name = 'MetricsListenError';
  readonly code = 'METRICS_LISTEN';
}

/** A small HTTP server for /metrics (and /healthz) of one registry. */
export class MetricsHttpServer {
  /** host:port actually bound. */
  address = '';

  private constructor(private readonly server: http.Server) {}

  static async start(listen: string, metrics: { contentType: string; scrape(): Promise<string> }): Promise<MetricsHttpServer> {
    const i = listen.lastIndexOf(':');
    const host = listen.slice(0, i), port = Number(listen.slice(i + 1));
    if (i <= 0 || !Number.isInteger(port) || port < 0 || port > 65_535) throw new MetricsListenError(`--metrics: expected HOST:PORT, got '${listen}'`);
    const server = http.createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === '/healthz') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok\n'); return; }
      if (path !== '/metrics') { res.writeHead(404, { 'content-type': 'text/plain' }); res.end(`no route ${path}; metrics are at /metrics\n`); return; }
      metrics.scrape().then((text) => {
        res.writeHead(200, { 'content-type': metrics.contentType });
        res.end(text);
      }, (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`cannot collect metrics: ${(err as Error).message}\n`);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new MetricsListenError(listenFailureMessage(listen, err, 'metrics'), { cause: err })));
      server.listen(port, host, () => resolve());
    });
    const self = new MetricsHttpServer(server);
    self.address = `${host}:${(server.address() as { port: number }).port}`;
    return self;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
