// Agents, coordinators and CLI calls as real processes (`node --import tsx cli/flexfarm.ts …`),
// started on 127.0.0.1 with free ports and stopped by PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type JsMsg } from 'nats';
import type { ResultEnvelope } from '../../contracts/bus.ts';
import { RESULTS_STREAM } from '../../contracts/subjects.ts';
import type { MeasureResult } from '../../contracts/result.ts';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(REPO, 'cli', 'flexfarm.ts');

export interface ServiceProcess {
  pid: number;
  address: string;
  /** The coordinator's --http address, when it has one. */
  http?: string;
  /** Everything it wrote on stderr so far (its log). */
  log(): string;
  /** SIGTERM (graceful) or SIGKILL; resolves when it has exited. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** Starts `flexfarm <args>` and waits for its "listening on ADDR" line. */
export function startService(args: string[], options: { env?: NodeJS.ProcessEnv; readyTimeoutMs?: number } = {}): Promise<ServiceProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let stdout = '', stderr = '';
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { started.delete(child); resolve(code); }));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`flexfarm ${args[0]} not ready within ${options.readyTimeoutMs ?? 30_000} ms:\n${stderr}`));
    }, options.readyTimeoutMs ?? 30_000);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`flexfarm ${args[0]} exited with ${code} before it was ready:\n${stdout}${stderr}`));
    });
    child.stdout!.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /listening on (\S+)/.exec(stdout);
      if (!m || !stdout.includes('\n')) return;
      clearTimeout(timer);
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({
        pid: child.pid!, address: m[1], http: /\(http (\S+)\)/.exec(stdout)?.[1], log: () => stderr, exited,
        stop: async (signal = 'SIGTERM') => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

/** Stops every service this module started that is still running (afterAll safety net). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((child) => new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  })));
}

export interface AgentArgs {
  device: 'cpu' | 'sim';
  nats: string;
  name: string;
  extra?: string[];
}

/** `env`: extra variables (credentials, as a unit's environment file gives them). */
export function startAgent(a: AgentArgs, env?: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  return startService(['agent', '--device', a.device, '--listen', '127.0.0.1:0', '--nats', a.nats, '--name', a.name, ...(a.extra ?? [])], { env });
}

/** `env`: extra variables (credentials, as a unit's environment file gives them). */
export function startCoordinator(a: { nats: string; records: string; listen?: string; extra?: string[] }, env?: NodeJS.ProcessEnv): Promise<ServiceProcess> {
  return startService(['coordinator', '--listen', a.listen ?? '127.0.0.1:0', '--nats', a.nats, '--records', a.records, ...(a.extra ?? [])], { env });
}

export interface CliResult { code: number | null; stdout: string; stderr: string }

/** Runs `flexfarm <args>` to completion. */
export function cli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
      cwd: REPO, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`flexfarm ${args.join(' ')} timed out:\n${stderr}`)); }, options.timeoutMs ?? 60_000);
    child.once('exit', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** `flexfarm campaign get ID --json` as an object. */
export async function getCampaign(coordinator: string, id: string): Promise<CampaignView> {
  const r = await cli(['campaign', 'get', id, '--coordinator', coordinator, '--json']);
  if (r.code !== 0) throw new Error(`campaign get failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as CampaignView;
}

export interface CampaignView {
  id: string;
  state: string;
  targets: { target: string; budget: number; measured: number; valid: number; best: { config: unknown; seconds: number; gflops: number } | null }[];
}

/** Polls `check` until it returns a value (not undefined) or the time runs out. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The search's measurement lines of a tuning log (re-measurement, reference and library lines are apart: readLines). */
export function readRecords(path: string): MeasureResult[] {
  return readLines(path).filter((r) => (r as { type?: string }).type === undefined);
}

/** Candidate ids of every result of a campaign in the log: search and re-measurement lines. */
export function loggedIds(path: string, campaign: string): string[] {
  return readLines(path).filter((r) => r.campaign === campaign && r.candidateId).map((r) => r.candidateId);
}

/** Every line of a tuning log, parsed. */
export function readLines(path: string): (MeasureResult & { type?: string; round?: number; of?: string })[] {
  let text = '';
  try { text = readFileSync(path, 'utf8'); } catch { return []; }
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as MeasureResult);
}

export interface StreamedResult { result: MeasureResult; agent: string; timestampMs: number }

/** Every result message in the JetStream stream for one campaign, read independently of the coordinator. */
export async function streamedResults(natsUrl: string, campaign: string): Promise<StreamedResult[]> {
  const nc = await connect({ servers: natsUrl });
  try {
    const js = nc.jetstream();
    const consumer = await js.consumers.get(RESULTS_STREAM, { filterSubjects: `flexfarm.results.${campaign}.>` });
    const out: StreamedResult[] = [];
    // Each message says how many are left after it; stop at the last one (or when nothing comes).
    for (let more = true; more;) {
      more = false;
      const batch = await consumer.fetch({ max_messages: 500, expires: 2_000 });
      for await (const m of batch) {
        out.push(envelopeOf(m));
        more = m.info.pending > 0;
        if (!more) break;
      }
    }
    return out;
  } finally {
    await nc.close();
  }
}

function envelopeOf(m: JsMsg): StreamedResult {
  const e = JSON.parse(new TextDecoder().decode(m.data)) as ResultEnvelope;
  return { result: e.result, agent: e.agent, timestampMs: m.info.timestampNanos / 1e6 };
}

/** GET http://ADDRESS/PATH as JSON (the coordinator's --http API; cheaper to poll than the CLI). */
export async function httpJson<T>(address: string, path: string): Promise<T> {
  const res = await fetch(`http://${address}${path}`);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export interface HttpCampaign {
  id: string;
  state: string;
  targets: { target: string; state: string; message?: string; budget: number; measured: number; valid: number; queued: number; inFlight: number }[];
  message?: string;
}

export interface HttpAgent { name: string; state: string; inFlight: number; measured: number }

/** The --http address from a coordinator's ready line ("listening on A (http B)"). */
export function httpAddressOf(p: ServiceProcess): string {
  if (!p.http) throw new Error('coordinator was started without --http');
  return p.http;
}
