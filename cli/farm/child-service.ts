// One long-running child of `flexfarm farm up` (nats-server, the coordinator, an agent): started in
// its own process group, so a Ctrl-C on the terminal reaches only `farm up`, which then stops its
// children in order; its stderr goes to a log file; ready once a line of its output matches.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { FlexfarmError } from '../../contracts/errors.ts';

export class ChildServiceError extends FlexfarmError {
  override name = 'ChildServiceError';
  readonly code = 'CHILD_SERVICE';
}

export interface ChildServiceOptions {
  /** How it is named in messages: 'nats-server', 'coordinator', 'agent cpu'. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Its stderr (and stdout past the ready line) is appended here. */
  logPath: string;
  /** Matched against stdout and stderr; the first group, when there is one, is `ready`'s value. */
  ready: RegExp;
  readyTimeoutMs: number;
}

export class ChildService {
  /** The first group of the ready pattern (an address), or the whole match. */
  readyValue = '';
  /** The whole text the ready pattern matched. */
  readyLine = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;

  /** Every child started and not yet exited, ready or not (a second Ctrl-C kills them all). */
  static readonly running = new Set<ChildService>();

  private constructor(readonly options: ChildServiceOptions) {
    const log = createWriteStream(options.logPath, { flags: 'a' });
    // stdin is a pipe that closes when `farm up` dies, however it dies: flexfarm children stop then
    // (FLEXFARM_STOP_ON_STDIN_END, cli/service.ts), so no agent outlives its farm.
    this.child = spawn(options.command, options.args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.child.stdout!.pipe(log, { end: false });
    this.child.stderr!.pipe(log, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.once('error', () => resolve({ code: null, signal: null }));
      this.child.once('exit', (code, signal) => { resolve({ code, signal }); });
    });
    ChildService.running.add(this);
    void this.exited.then(() => {
      ChildService.running.delete(this);
      setTimeout(() => log.end(), 100);
    });
  }

  get pid(): number { return this.child.pid ?? -1; }

  /** Starts it and waits for its ready line; throws naming what it said when it exits first. */
  static async start(options: ChildServiceOptions): Promise<ChildService> {
    const self = new ChildService(options);
    let output = '';
    let spawnError: Error | undefined;
    self.child.once('error', (err) => { spawnError = err; });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        self.kill('SIGKILL');
        reject(new ChildServiceError(`${options.name} was not ready within ${options.readyTimeoutMs} ms (log: ${options.logPath})`));
      }, options.readyTimeoutMs);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const m = options.ready.exec(output);
        if (!m) return;
        clearTimeout(timer);
        self.readyValue = m[1] ?? m[0];
        self.readyLine = m[0];
        self.child.stdout!.off('data', onData);
        self.child.stderr!.off('data', onData);
        resolve();
      };
      self.child.stdout!.on('data', onData);
      self.child.stderr!.on('data', onData);
      void self.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        // Its last line is its own error; earlier ones may be log lines printed before it (the full text is in its log).
        const said = spawnError ? spawnError.message : lastLines(output, 1) || `exited with ${code ?? signal}`;
        reject(new ChildServiceError(`${options.name} did not start: ${said}`));
      });
    });
    return self;
  }

  /** Sends `signal`, waits up to graceMs for the exit, then SIGKILL; resolves once it is gone. */
  async stop(graceMs: number, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.gone) return;
    this.kill(signal);
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  kill(signal: NodeJS.Signals): void {
    if (this.gone) return;
    try { process.kill(this.pid, signal); } catch { /* already gone */ }
  }

  get gone(): boolean { return this.child.exitCode !== null || this.child.signalCode !== null || this.child.pid === undefined; }

  /** The last lines of its log file. */
  logTail(lines = 5): string {
    try { return lastLines(readFileSync(this.options.logPath, 'utf8'), lines); } catch { return ''; }
  }
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').filter(Boolean).slice(-n).join('\n');
}
