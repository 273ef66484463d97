// A real nats-server with JetStream for tests: 127.0.0.1, a free port, a temporary store directory.
// Stopped by its PID; `restart()` brings it back on the same port with the same store (JetStream
// state survives, as on a lab machine).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface NatsServer {
  url: string;
  port: number;
  storeDir: string;
  readonly pid: number | undefined;
  /** Stops the server (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>;
  /** Stops it and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes the store. */
  dispose(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

/** `config`: nats-server configuration text (e.g. `max_payload: 4096`), given with -c. `configFile`:
 *  a whole configuration (JetStream and its store_dir in it, `storeDir` the folder it names, removed
 *  by dispose), of which only the address and port are replaced (-a, -p). */
export async function startNatsServer(options: { readyTimeoutMs?: number; config?: string; configFile?: string; storeDir?: string } = {}): Promise<NatsServer> {
  const port = await freePort();
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), 'flexfarm-nats-'));
  const configArgs: string[] = [];
  if (options.config) {
    writeFileSync(join(storeDir, 'server.conf'), options.config);
    configArgs.push('-c', join(storeDir, 'server.conf'));
  }
  const storeArgs = options.configFile ? ['-c', options.configFile] : ['-js', '-sd', storeDir];
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    child = spawn('nats-server', [...configArgs, ...storeArgs, '-a', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitReady(child, readyTimeoutMs);
  };
  const stop = async (): Promise<void> => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => c.once('exit', () => resolve()));
    c.kill('SIGTERM');
    const timer = setTimeout(() => c.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };

  await start();
  return {
    url: `nats://127.0.0.1:${port}`, port, storeDir,
    get pid() { return child?.pid; },
    stop,
    restart: async () => { await stop(); await start(); },
    dispose: async () => { await stop(); rmSync(storeDir, { recursive: true, force: true }); },
  };
}

/** nats-server logs "Server is ready" on stderr once it accepts clients. */
function waitReady(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => fail(new Error(`nats-server not ready within ${timeoutMs} ms:\n${log}`)), timeoutMs);
    const fail = (err: Error) => { clearTimeout(timer); child.kill('SIGKILL'); reject(err); };
    child.once('error', (err) => fail(new Error(`cannot start nats-server (apt-get install nats-server): ${err.message}`)));
    child.once('exit', (code) => fail(new Error(`nats-server exited with ${code}:\n${log}`)));
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes('Server is ready')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stderr!.removeAllListeners('data');
        child.stderr!.resume();
        resolve();
      }
    });
  });
}
