// Run a program in its own process group with a wall-clock timeout and an address-space limit,
// so a kernel that hangs, crashes or allocates without bound only ever takes itself down.
import { spawn } from 'node:child_process';

export interface ChildOptions {
  timeoutMs: number;
  /** Address-space limit (ulimit -v); omitted: no limit. */
  memoryBytes?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Stop collecting output beyond this many bytes per stream. */
  maxOutputBytes?: number;
}

export interface ChildOutcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  elapsedMs: number;
}

export function runChild(command: string, args: string[], options: ChildOptions): Promise<ChildOutcome> {
  const max = options.maxOutputBytes ?? 1 << 20;
  // `exec` keeps one process, so the limit applies to the program and the kill reaches it.
  const limited = options.memoryBytes
    ? ['/bin/sh', ['-c', `ulimit -v ${Math.ceil(options.memoryBytes / 1024)} && exec "$0" "$@"`, command, ...args]] as const
    : [command, args] as const;
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(limited[0], [...limited[1]], {
      cwd: options.cwd, env: options.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '', timedOut = false;
    child.stdout.on('data', (d: Buffer) => { if (stdout.length < max) stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < max) stderr += d.toString(); });
    const killGroup = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } };
    const timer = setTimeout(() => { timedOut = true; killGroup(); }, options.timeoutMs);
    child.on('error', (err) => { clearTimeout(timer); reject(err); });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      killGroup(); // stray grandchildren (none expected) go too
      resolve({ code, signal, stdout, stderr, timedOut, elapsedMs: Date.now() - started });
    });
  });
}
