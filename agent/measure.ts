// lower → render → compile → run → check → MeasureResult, for every backend that compiles a
// program (cpu, gpu, fpga C simulation). Failures become error codes; nothing here throws for a
// bad candidate, and a crashed or hung kernel only ever takes its own child process down.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import type { Backend, LibraryMeasure, LibraryTiming, ReferenceTiming } from '../contracts/backend.ts';
import { FlexfarmError } from '../contracts/errors.ts';
import { timingSpread } from '../contracts/timing-spread.ts';
import { median, type Candidate, type DeviceInfo, type ErrorCode, type MeasureResult, type TimingProtocol } from '../contracts/result.ts';
import type { ComputeDef } from '../tensor/compute.ts';
import { tolerance } from '../tensor/data.ts';
import { InstantiationError } from '../tensor/errors.ts';
import type { Stmt } from '../tensor/ir.ts';
import { lower, lowerNaive } from '../tensor/lower.ts';
import { defineFromKey } from '../tensor/ops/registry.ts';
import type { Config, DeviceLimits, Template } from '../tensor/templates/template.ts';
import { runChild, type ChildOutcome } from './child-process.ts';
import { BuildTimeoutError, CompileError, compileCached, type CompilerSpec } from './compile-cache.ts';
import { HostLock } from './host-lock.ts';
import { publishPhase } from './phase-timing.ts';

/** What a compiling backend provides: a compiler and a program (kernel + harness) for a nest. */
export interface Toolchain {
  compiler: CompilerSpec;
  /** The whole program: kernel and a harness speaking the harness CLI (agent/c-harness.ts). */
  program(def: ComputeDef, nest: Stmt, note?: string): string;
  /** Environment of timing runs (e.g. OMP_NUM_THREADS). */
  runEnv?: NodeJS.ProcessEnv;
}

export interface CompiledBackendOptions {
  kind: Candidate['target'];
  template: Template;
  limits: DeviceLimits;
  toolchain: Toolchain;
  device: DeviceInfo;
  /** Binaries and reference outputs are cached here. */
  cacheDir: string;
  /** Address-space limit of each kernel run. */
  memoryBytes?: number;
  /** Compiles allowed at once (never while timing). */
  maxParallelCompiles?: number;
  /** Time allowed to compute a workload's reference output (unscheduled, slow). */
  referenceTimeoutMs?: number;
  /** Tests only: rewrite the source before compiling, to inject crashes, hangs and wrong answers. */
  sourceFilter?: (source: string, candidate: Candidate) => string;
  /** false: run each program once, for the correctness check only (FPGA C simulation, where the
   *  host's speed means nothing); results then carry no seconds. Default true. */
  timing?: boolean;
  /** Directory of the host-wide timing lock (agent/host-lock.ts); null: this process only. */
  hostLockDir?: string | null;
  /** When a timing's repeats scatter by more than this coefficient of variation, time the
   *  candidate again with `repeatFactor` times the repeats before returning its result
   *  (default RETIME). */
  retime?: RetimePolicy;
  /** The vendor library at a workload's shape on this device (timed under the timing lock). */
  library?: LibraryMeasure;
  /** Measures the device's FP32 peak once at start(), under the timing lock. */
  peak?: () => Promise<{ gflops: number; source: string }>;
}

export interface RetimePolicy {
  aboveCv: number;
  repeatFactor: number;
}

/** Repeats scattering by more than 10 % are timed again, with three times the repeats. */
export const RETIME: RetimePolicy = { aboveCv: 0.1, repeatFactor: 3 };

/** Share of a run's timeout the harness may spend timing before it reports what it has (--max-ms). */
const RUN_BUDGET_FRACTION = 0.5;

interface HarnessReport { ok: boolean; code?: ErrorCode; message?: string; number?: number; seconds?: number[] }
interface ReferenceEntry { outputPath: string; timing: ReferenceTiming }

class CandidateError extends FlexfarmError {
  override name = 'CandidateError';
  constructor(readonly code: ErrorCode, message: string) { super(message); }
}

export class CompiledBackend implements Backend {
  readonly kind: Candidate['target'];
  readonly template: Template;
  readonly limits: DeviceLimits;
  private readonly lock: HostLock;
  private readonly references = new Map<string, Promise<ReferenceEntry>>();
  private compileSlots: number;
  private readonly slotWaiters: (() => void)[] = [];

  constructor(private readonly options: CompiledBackendOptions) {
    this.kind = options.kind;
    this.template = options.template;
    this.limits = options.limits;
    this.compileSlots = options.maxParallelCompiles ?? 2;
    this.lock = new HostLock({ dir: options.hostLockDir });
    this.device = options.device;
  }

  private device: DeviceInfo;

  describe(): DeviceInfo { return this.device; }

  /** The peak microbenchmark, when the device has one; a failure leaves the peak unknown. */
  async start(log?: (line: string) => void): Promise<void> {
    const peak = this.options.peak;
    if (!peak || this.device.peakGflops !== undefined) return;
    try {
      const measured = await this.lock.time(peak);
      this.device = { ...this.device, peakGflops: Number(measured.gflops.toPrecision(4)), peakSource: measured.source };
    } catch (err) {
      log?.(`FP32 peak not measured: ${(err as Error).message}`);
    }
  }

  async library(def: ComputeDef, protocol: TimingProtocol): Promise<LibraryTiming> {
    const measure = this.options.library;
    if (!measure) return { missing: `no vendor library is wired for ${this.kind}` };
    return this.lock.time(() => measure(def, protocol));
  }

  source(def: ComputeDef, config: Config): string {
    return this.options.toolchain.program(def, lower(def, this.template, config, this.limits), `config: ${JSON.stringify(config)}`);
  }

  async measure(candidate: Candidate, protocol: TimingProtocol): Promise<MeasureResult> {
    const device = this.device;
    const base = {
      candidateId: candidate.id, ...(candidate.campaign ? { campaign: candidate.campaign } : {}),
      workload: candidate.workload, target: candidate.target, config: candidate.config,
      device, toolchain: device.toolchain,
    };
    try {
      const { seconds, number, loadAverage, retimed } = await this.measureOrThrow(candidate, protocol);
      const spread = timingSpread(seconds);
      return {
        ...base, seconds, median: median(seconds), number, ...(spread ? { spread } : {}),
        ...(loadAverage === undefined ? {} : { loadAverage }), ...(retimed ? { retimed } : {}),
        error: null, at: new Date().toISOString(),
      };
    } catch (err) {
      const code: ErrorCode = err instanceof CandidateError ? err.code : 'UNKNOWN';
      return { ...base, seconds: [], median: null, error: { code, message: (err as Error).message }, at: new Date().toISOString() };
    }
  }

  private async measureOrThrow(candidate: Candidate, protocol: TimingProtocol) {
    let def: ComputeDef, nest: Stmt;
    try {
      def = defineFromKey(candidate.workload);
      if (candidate.target !== this.kind) throw new InstantiationError(`this agent measures '${this.kind}', not '${candidate.target}'`);
      nest = lower(def, this.template, candidate.config, this.limits);
    } catch (err) {
      throw new CandidateError('INSTANTIATION', (err as Error).message);
    }
    let source = this.options.toolchain.program(def, nest, `config: ${JSON.stringify(candidate.config)}`);
    if (this.options.sourceFilter) source = this.options.sourceFilter(source, candidate);
    const binary = await this.build(source, protocol.buildTimeoutMs);
    const reference = await this.referenceOutput(def, protocol);
    const { atol, rtol } = tolerance(def.reduce.reduce((n, a) => n * a.extent, 1));
    const timed = await this.lock.time(async () => {
      // Sampled once the host is ours, so a load average names what else was running.
      const loadAverage = this.options.timing === false ? undefined : os.loadavg()[0];
      const first = await this.timedRun(binary, reference.outputPath, atol, rtol, protocol);
      const retime = this.options.retime ?? RETIME;
      const cv = timingSpread(first.seconds ?? [])?.cv ?? 0;
      if (this.options.timing === false || !(cv > retime.aboveCv)) return { report: first, loadAverage };
      // Too noisy to rank by: time it again, longer, before anyone sees the figure.
      const repeat = Math.max(protocol.repeat + 1, Math.round(protocol.repeat * retime.repeatFactor));
      const again = await this.timedRun(binary, reference.outputPath, atol, rtol, { ...protocol, repeat });
      return { report: again, loadAverage, retimed: { seconds: first.seconds ?? [], cv } };
    });
    return { seconds: timed.report.seconds ?? [], number: timed.report.number, loadAverage: timed.loadAverage, retimed: timed.retimed };
  }

  /** One run of a candidate's program under the timing lock: checked, timed, interpreted. */
  private async timedRun(binary: string, refPath: string, atol: number, rtol: number, protocol: TimingProtocol): Promise<HarnessReport> {
    const runStarted = performance.now();
    const outcome = await runChild(binary, [
      '--ref', refPath, '--atol', String(atol), '--rtol', String(rtol), ...this.timingArgs(protocol, protocol.runTimeoutMs),
    ], { timeoutMs: protocol.runTimeoutMs, memoryBytes: this.options.memoryBytes, env: this.runEnv() });
    const runSeconds = (performance.now() - runStarted) / 1000;
    try {
      const report = interpret(outcome, protocol.runTimeoutMs);
      publishPhase({ phase: 'run', seconds: runSeconds, outcome: 'ok' });
      return report;
    } catch (err) {
      publishPhase({ phase: 'run', seconds: runSeconds, outcome: 'error' });
      throw err;
    }
  }

  async reference(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceTiming> {
    return (await this.referenceOutput(def, protocol)).timing;
  }

  /** The unscheduled kernel's output (the correctness oracle) and timing, computed once per workload. */
  private referenceOutput(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceEntry> {
    let entry = this.references.get(def.key);
    if (!entry) {
      entry = this.computeReference(def, protocol);
      this.references.set(def.key, entry);
      entry.catch(() => this.references.delete(def.key)); // a failed attempt may be retried
    }
    return entry;
  }

  private async computeReference(def: ComputeDef, protocol: TimingProtocol): Promise<ReferenceEntry> {
    const source = this.options.toolchain.program(def, lowerNaive(def), 'unscheduled reference');
    const id = createHash('sha256').update(source).update(this.device.toolchain).digest('hex').slice(0, 24);
    const dir = join(this.options.cacheDir, 'ref');
    const outputPath = join(dir, `${id}.out`), timingPath = join(dir, `${id}.json`);
    try {
      await stat(outputPath);
      return { outputPath, timing: JSON.parse(await readFile(timingPath, 'utf8')) as ReferenceTiming };
    } catch { /* not cached yet */ }
    await mkdir(dir, { recursive: true });
    const binary = await this.build(source, protocol.buildTimeoutMs);
    const tmp = `${outputPath}.${process.pid}.tmp`;
    const timeoutMs = this.options.referenceTimeoutMs ?? 600_000;
    const outcome = await this.lock.time(() => runChild(binary, [
      '--write', tmp, ...this.timingArgs(protocol, timeoutMs),
    ], { timeoutMs, memoryBytes: this.options.memoryBytes, env: this.runEnv() }));
    let report: HarnessReport;
    try {
      report = interpret(outcome, timeoutMs);
    } catch (err) {
      throw new CandidateError('RUNTIME', `reference kernel for ${def.key} failed: ${(err as Error).message}`);
    }
    const seconds = median(report.seconds ?? []) ?? NaN;
    const timing: ReferenceTiming = { seconds, gflops: def.flops / seconds / 1e9 };
    await writeFile(timingPath, JSON.stringify(timing));
    await rename(tmp, outputPath);
    return { outputPath, timing };
  }

  private async build(source: string, timeoutMs: number): Promise<string> {
    await this.acquireCompileSlot();
    try {
      return await this.lock.compile(() => compileCached(source, this.options.toolchain.compiler, this.options.cacheDir, timeoutMs));
    } catch (err) {
      if (err instanceof BuildTimeoutError) throw new CandidateError('BUILD_TIMEOUT', err.message);
      if (err instanceof CompileError) throw new CandidateError('COMPILE', err.message);
      throw err;
    } finally {
      this.releaseCompileSlot();
    }
  }

  private async acquireCompileSlot(): Promise<void> {
    while (this.compileSlots === 0) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.compileSlots--;
  }
  private releaseCompileSlot(): void {
    this.compileSlots++;
    this.slotWaiters.shift()?.();
  }

  private timingArgs(protocol: TimingProtocol, timeoutMs: number): string[] {
    if (this.options.timing === false) return ['--no-time'];
    return ['--repeat', String(protocol.repeat), '--min-repeat-ms', String(protocol.minRepeatMs),
      '--max-ms', String(Math.floor(timeoutMs * RUN_BUDGET_FRACTION))];
  }

  private runEnv(): NodeJS.ProcessEnv {
    return { ...process.env, ...this.options.toolchain.runEnv };
  }
}

/** Map a harness run to its report, or throw the candidate's error. */
function interpret(outcome: ChildOutcome, timeoutMs: number): HarnessReport {
  if (outcome.timedOut) throw new CandidateError('RUN_TIMEOUT', `kernel did not finish within ${timeoutMs} ms (killed)`);
  if (outcome.signal) throw new CandidateError('RUNTIME', `kernel crashed with ${outcome.signal}${tail(outcome.stderr)}`);
  const line = outcome.stdout.trim().split('\n').pop() ?? '';
  let report: HarnessReport | undefined;
  try { report = JSON.parse(line) as HarnessReport; } catch { /* handled below */ }
  if (report && !report.ok) throw new CandidateError(report.code ?? 'RUNTIME', report.message ?? 'kernel reported a failure');
  if (!report || outcome.code !== 0) {
    throw new CandidateError('RUNTIME', `kernel exited with status ${outcome.code}${tail(outcome.stderr || outcome.stdout)}`);
  }
  return report;
}

function tail(text: string): string {
  const t = text.trim();
  return t ? `: ${t.slice(-400)}` : '';
}
