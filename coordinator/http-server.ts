// The coordinator's HTTP side (--http): health and JSON views of campaigns and agents. Other
// parts add routes (Prometheus /metrics, the live page) with addRoute.
import http from 'node:http';
import { listenFailureMessage } from '../contracts/listen-failure.ts';
import type { Farm } from './farm/farm.ts';
import { UnknownCampaignError } from './farm/errors.ts';

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export class CoordinatorHttpServer {
  private readonly routes = new Map<string, HttpHandler>();
  /** host:port actually bound. */
  address = '';

  private constructor(private readonly server: http.Server, farm: Farm) {
    this.addRoute('/healthz', (_req, res) => send(res, 200, 'text/plain', 'ok\n'));
    this.addRoute('/api/campaigns', (_req, res) => json(res, 200, farm.list()));
    this.addRoute('/api/agents', (_req, res) => json(res, 200, farm.agents()));
    this.addRoute('/api/campaigns/', (req, res) => {
      const id = decodeURIComponent((req.url ?? '').split('?')[0].slice('/api/campaigns/'.length));
      try {
        json(res, 200, farm.get(id));
      } catch (err) {
        if (err instanceof UnknownCampaignError) json(res, 404, { error: err.message });
        else throw err;
      }
    });
  }

  static async start(options: { farm: Farm; listen: string }): Promise<CoordinatorHttpServer> {
    const server = http.createServer();
    const self = new CoordinatorHttpServer(server, options.farm);
    server.on('request', (req, res) => void self.handle(req, res));
    const i = options.listen.lastIndexOf(':');
    const host = options.listen.slice(0, i), port = Number(options.listen.slice(i + 1));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(listenFailureMessage(options.listen, err, 'http'), { cause: err })));
      server.listen(port, host, () => resolve());
    });
    self.address = `${host}:${(server.address() as { port: number }).port}`;
    return self;
  }

  /** A path ending in '/' matches every path below it; exact paths win. */
  addRoute(path: string, handler: HttpHandler): void {
    this.routes.set(path, handler);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    let handler = this.routes.get(path);
    if (!handler) {
      const prefix = [...this.routes.keys()].filter((p) => p.endsWith('/') && path.startsWith(p)).sort((a, b) => b.length - a.length)[0];
      handler = prefix ? this.routes.get(prefix) : undefined;
    }
    if (!handler) return json(res, 404, { error: `no route ${path}` });
    try {
      await handler(req, res);
    } catch (err) {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.end();
    }
  }
}

function send(res: http.ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, { 'content-type': type });
  res.end(body);
}

function json(res: http.ServerResponse, code: number, value: unknown): void {
  send(res, code, 'application/json', `${JSON.stringify(value)}\n`);
}
