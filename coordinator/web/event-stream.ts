// Server-sent events for the live page: every client gets named events (`event: NAME`, one JSON
// `data:` line). A comment line every 15 s keeps proxies from closing an idle stream.
import type http from 'node:http';

const KEEPALIVE_MS = 15_000;

export class EventStream {
  private readonly clients = new Set<http.ServerResponse>();
  private readonly keepAlive: NodeJS.Timeout;

  constructor() {
    this.keepAlive = setInterval(() => { for (const res of this.clients) res.write(': keep-alive\n\n'); }, KEEPALIVE_MS);
    this.keepAlive.unref();
  }

  get size(): number { return this.clients.size; }

  /** Takes over the response as an event stream; `first` events go to this client only. */
  open(req: http.IncomingMessage, res: http.ServerResponse, first: { event: string; data: unknown }[]): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // The browser reconnects by itself after a drop; 2 s is soon enough for a dashboard.
    res.write('retry: 2000\n\n');
    for (const e of first) res.write(format(e.event, e.data));
    this.clients.add(res);
    const drop = () => { this.clients.delete(res); };
    req.on('close', drop);
    res.on('error', drop);
  }

  broadcast(event: string, data: unknown): void {
    if (!this.clients.size) return;
    const text = format(event, data);
    for (const res of this.clients) res.write(text);
  }

  close(): void {
    clearInterval(this.keepAlive);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }
}

function format(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
