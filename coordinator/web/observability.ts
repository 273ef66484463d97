// The coordinator's observability on its --http server: Prometheus /metrics, the live page at /
// (dashboards/web/), its data (/api/measurements/ID) and its server-sent events (/api/events).
// Create it before the Farm (its observer goes into FarmOptions), then attach the farm and serve.
import type http from 'node:http';
import type { MeasureResult } from '../../contracts/result.ts';
import { defineFromKey } from '../../tensor/ops/registry.ts';
import type { Farm, FarmObserver } from '../farm/farm.ts';
import type { CoordinatorHttpServer } from '../http-server.ts';
import { CoordinatorMetrics } from '../metrics.ts';
import { combineObservers } from '../metrics/combine-observers.ts';
import { EventStream } from './event-stream.ts';
import { MeasurementStore, type MeasurementPoint } from './measurement-store.ts';
import { measurementsCsv } from './measurements-csv.ts';
import { loadPageFiles, type StaticFile } from './static-files.ts';

/** Measurements are sent in batches at this pace; campaign states as often when they change. */
const FLUSH_MS = 250;
/** Agents' health and the campaigns' queues change without results: refreshed this often. */
const REFRESH_MS = 1_000;

export interface ObservabilityOptions {
  /** Node.js process metrics on /metrics; default true. */
  processMetrics?: boolean;
}

export class Observability {
  readonly metrics: CoordinatorMetrics;
  readonly store = new MeasurementStore();
  private readonly events = new EventStream();
  private readonly pending: MeasurementPoint[] = [];
  private readonly timers: NodeJS.Timeout[] = [];
  private campaignsChanged = false;
  private farm: Farm | null = null;
  readonly observer: FarmObserver;

  constructor(options: ObservabilityOptions = {}) {
    this.metrics = new CoordinatorMetrics({ processMetrics: options.processMetrics });
    this.observer = combineObservers(this.metrics.observer, {
      applied: (campaign, result, agent) => {
        const point = this.store.add(campaign.id, result, agent, campaign.def.flops);
        if (point) this.pending.push(point);
        this.campaignsChanged = true;
      },
      campaignChanged: () => { this.campaignsChanged = true; },
    });
  }

  /** Reads history from the farm's tuning log and starts the page's refresh timers. */
  attach(farm: Farm): void {
    this.farm = farm;
    this.metrics.attach(farm);
    this.backfill(farm);
    this.timers.push(setInterval(() => this.flush(), FLUSH_MS), setInterval(() => this.refresh(), REFRESH_MS));
    for (const t of this.timers) t.unref();
  }

  /** Adds /metrics, /, /static/*, /api/events and /api/measurements/ID to the HTTP server. */
  serve(server: CoordinatorHttpServer): void {
    const files = loadPageFiles();
    server.addRoute('/metrics', async (_req, res) => {
      const text = await this.metrics.scrape();
      res.writeHead(200, { 'content-type': this.metrics.contentType });
      res.end(text);
    });
    server.addRoute('/', (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      // '/' is also the fallback of every path no other route takes.
      if (path !== '/' && path !== '/index.html') return sendJson(res, 404, { error: `no route ${path}` });
      sendFile(res, files.get('index.html')!);
    });
    server.addRoute('/static/', (req, res) => {
      const name = (req.url ?? '').split('?')[0].slice('/static/'.length);
      const file = name !== 'index.html' ? files.get(name) : undefined;
      if (!file) return sendJson(res, 404, { error: `no file ${name}` });
      sendFile(res, file);
    });
    server.addRoute('/api/measurements/', (req, res) => {
      const name = decodeURIComponent((req.url ?? '').split('?')[0].slice('/api/measurements/'.length));
      const csv = name.endsWith('.csv');
      const id = csv ? name.slice(0, -'.csv'.length) : name;
      const campaign = this.farm?.list().find((c) => c.id === id);
      if (!campaign) return sendJson(res, 404, { error: `unknown campaign '${id}'` });
      if (csv) {
        const records = this.farm!.records.all().filter((r) => r.campaign === id);
        res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${id}-measurements.csv"` });
        return void res.end(measurementsCsv(records, flopsOf(campaign.workload)));
      }
      sendJson(res, 200, { campaign: id, points: this.store.points(id) });
    });
    server.addRoute('/api/events', (req, res) => {
      this.events.open(req, res, [{ event: 'campaigns', data: this.farm?.list() ?? [] }, { event: 'agents', data: this.farm?.agents() ?? [] }]);
    });
  }

  close(): void {
    for (const t of this.timers) clearInterval(t);
    this.events.close();
  }

  private flush(): void {
    if (!this.events.size) {
      // Nobody is watching: the page fetches the history when it opens.
      this.pending.length = 0;
      this.campaignsChanged = false;
      return;
    }
    if (this.pending.length) this.events.broadcast('measurements', this.pending.splice(0));
    if (this.campaignsChanged && this.farm) {
      this.campaignsChanged = false;
      this.events.broadcast('campaigns', this.farm.list());
    }
  }

  private refresh(): void {
    if (!this.farm || !this.events.size) return;
    this.events.broadcast('campaigns', this.farm.list());
    this.events.broadcast('agents', this.farm.agents());
  }

  /** Campaigns resumed after a restart: their earlier measurements come from the tuning log. */
  private backfill(farm: Farm): void {
    const ids = new Set(farm.list().map((c) => c.id));
    if (!ids.size) return;
    const flops = new Map<string, number>();
    const flopsOf = (r: MeasureResult) => {
      let f = flops.get(r.workload);
      if (f === undefined) {
        try { f = defineFromKey(r.workload).flops; } catch { f = 0; }
        flops.set(r.workload, f);
      }
      return f;
    };
    for (const r of farm.records.all()) {
      if (r.campaign && ids.has(r.campaign)) this.store.add(r.campaign, r, '', flopsOf(r));
    }
  }
}

function flopsOf(workload: string): number {
  try { return defineFromKey(workload).flops; } catch { return 0; }
}

function sendFile(res: http.ServerResponse, file: StaticFile): void {
  res.writeHead(200, { 'content-type': file.contentType, 'cache-control': 'no-cache' });
  res.end(file.body);
}

function sendJson(res: http.ServerResponse, code: number, value: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(`${JSON.stringify(value)}\n`);
}
