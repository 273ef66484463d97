// The `flexfarm` command as a user runs it: a real process, real gcc, real files. Results go to
// stdout (exactly one JSON object with --json), problems to stderr with a non-zero exit and
// nothing on stdout.
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const execFileAsync = promisify(execFile);

let tmp: string;
beforeAll(() => { tmp = mkdtempSync(join(tmpdir(), 'flexfarm-cli-')); });
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface CliRun { code: number | null; stdout: string; stderr: string }

function flexfarm(args: string[], timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
      cwd: ROOT, env: { ...process.env, FLEXFARM_CACHE: join(tmp, 'cache') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => { clearTimeout(timer); done({ code, stdout, stderr }); });
  });
}

/** gcc accepts the file as C with OpenMP (compile only). */
async function expectCompiles(path: string) {
  await execFileAsync('gcc', ['-O1', '-fopenmp', '-std=gnu11', '-c', path, '-o', `${path}.o`]);
  expect(existsSync(`${path}.o`)).toBe(true);
}

type Line = { type?: string; config?: unknown; error?: unknown; candidateId?: string };
const readLines = (path: string): Line[] => readFileSync(path, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
const measurements = (path: string) => readLines(path).filter((l) => l.type === undefined);

/** Every config of the space computes the right answer; the only failure allowed is a timing run
 *  that overran the default 10 s limit because other processes crowd the cores (OpenMP kernels of
 *  microseconds then stall for whole scheduler slices). */
function expectOnlyTimeouts(lines: Line[]) {
  const errors = lines.filter((l) => l.error).map((l) => l.error as { code: string; message: string });
  for (const e of errors) expect(e.code, e.message).toBe('RUN_TIMEOUT');
}

describe('flexfarm ops', () => {
  it('--json lists the 13 operators with their shape parameters', async () => {
    const run = await flexfarm(['ops', '--json']);
    expect(run.code).toBe(0);
    const ops = JSON.parse(run.stdout) as { name: string; params: string[] }[];
    expect(ops.map((o) => o.name).sort()).toEqual([
      'batch_gemm', 'bilinear', 'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
      'depthwise_conv2d', 'dilated_conv2d', 'gemm', 'gemv', 'grouped_conv2d',
    ]);
    const params = Object.fromEntries(ops.map((o) => [o.name, o.params]));
    expect(params.gemm).toEqual(['M', 'N', 'K']);
    expect(params.gemv).toEqual(['M', 'K']);
    expect(params.bilinear).toEqual(['N', 'K1', 'K2', 'M']);
    expect(params.conv2d).toEqual(['N', 'C', 'H', 'W', 'K', 'R', 'S', 'stride', 'pad', 'dilation', 'groups', 'stride_h', 'stride_w', 'pad_h', 'pad_w']);
    expect(params.conv1d).toEqual(expect.arrayContaining(['L', 'R', 'stride', 'pad', 'dilation']));
    expect(params.conv3d).toEqual(expect.arrayContaining(['D', 'H', 'W', 'T', 'R', 'S']));
  });

  it('without --json prints one entry per operator', async () => {
    const run = await flexfarm(['ops']);
    expect(run.code).toBe(0);
    for (const op of ['gemm', 'conv_transpose3d', 'depthwise_conv2d']) expect(run.stdout).toMatch(new RegExp(`^${op} `, 'm'));
  });
});

describe('flexfarm codegen', () => {
  it('prints C for a random valid config that gcc compiles', async () => {
    const run = await flexfarm(['codegen', 'gemm', '--shape', 'M=33,N=17,K=9', '--seed', '1']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/void kernel\(/);
    expect(run.stdout).toMatch(/#pragma omp parallel for/);
    const path = join(tmp, 'codegen-gemm.c');
    writeFileSync(path, run.stdout);
    await expectCompiles(path);
    // The same seed gives the same program.
    expect((await flexfarm(['codegen', 'gemm', '--shape', 'M=33,N=17,K=9', '--seed', '1'])).stdout).toBe(run.stdout);
  });

  it('renders the config it is given', async () => {
    const config = { 'split.m': [3, 11, 1, 1], 'split.n': [1, 17, 1, 1], 'split.k': [1, 9, 1], reorder: 0, unroll: [0, 0] };
    const run = await flexfarm(['codegen', 'gemm', '--shape', 'M=33,N=17,K=9', '--config', JSON.stringify(config)]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(JSON.stringify(config));
    expect(run.stdout).toMatch(/for \(int m_1 = 0; m_1 < 11;/);
  });

  it('an invalid config fails naming the knob, with nothing on stdout', async () => {
    const bad = { 'split.m': [1, 1, 1, 1], 'split.n': [1, 17, 1, 1], 'split.k': [1, 9, 1], reorder: 0, unroll: [0, 0] };
    const run = await flexfarm(['codegen', 'gemm', '--shape', 'M=33,N=17,K=9', '--config', JSON.stringify(bad)]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/split\.m/);
  });

  it('an unknown knob in the config is named', async () => {
    const bad = { 'split.m': [33, 1, 1, 1], 'split.n': [1, 17, 1, 1], 'split.k': [1, 9, 1], reorder: 0, unroll: [0, 0], 'tile.q': 2 };
    const run = await flexfarm(['codegen', 'gemm', '--shape', 'M=33,N=17,K=9', '--config', JSON.stringify(bad)]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/tile\.q/);
  });

  it('a config that is not JSON is refused', async () => {
    const run = await flexfarm(['codegen', 'gemm', '--shape', 'M=33,N=17,K=9', '--config', '{split.m: 1']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/--config is not valid JSON/);
  });
});

describe('flexfarm tune --target cpu', () => {
  const KEYS = ['best', 'kernel', 'library', 'libraryMissing', 'noise', 'ofLibrary', 'ofPeak', 'peak', 'records', 'reference', 'remeasureSeconds', 'searchBest', 'speedup', 'target', 'trials', 'valid', 'wallSeconds', 'workload'];
  const shape = ['--shape', 'M=64,N=48,K=40'];
  let out: string;
  let records: string;

  it('--json prints exactly one JSON object; the log has one line per measurement; the kernel compiles', async () => {
    out = join(tmp, 'tune-gemm');
    records = join(out, 'records.jsonl');
    const run = await flexfarm(['tune', 'gemm', ...shape, '--target', 'cpu', '--trials', '6', '--seed', '3', '--json', '--out', out], 300_000);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(Object.keys(result).sort()).toEqual(KEYS);
    expect(result.workload).toBe('gemm(M=64,N=48,K=40,dtype=float32)');
    expect(result.target).toBe('cpu');
    expect(result.trials).toBe(6);
    expect(Object.keys(result.best).sort()).toEqual(['config', 'gflops', 'remeasured', 'seconds']);
    // Re-measured after the search (default --remeasure 5, 3 rounds): the figure is that median.
    expect(result.best.remeasured).toMatchObject({ seconds: result.best.seconds, runs: 3 });
    expect(result.remeasureSeconds).toBeGreaterThan(0);
    expect(result.remeasureSeconds).toBeLessThan(result.wallSeconds);
    expect(result.noise.timed).toBeGreaterThan(0);
    expect(result.noise.loadAverage.max).toBeGreaterThanOrEqual(result.noise.loadAverage.min);
    expect(Object.keys(result.reference).sort()).toEqual(['gflops', 'seconds']);
    expect(result.best.seconds).toBeGreaterThan(0);
    expect(result.best.gflops).toBeCloseTo(2 * 64 * 48 * 40 / result.best.seconds / 1e9, 6);
    expect(result.reference.seconds).toBeGreaterThan(0);
    expect(result.reference.gflops).toBeCloseTo(2 * 64 * 48 * 40 / result.reference.seconds / 1e9, 6);
    expect(resolve(ROOT, result.records)).toBe(resolve(records));

    const measured = measurements(records);
    expect(measured).toHaveLength(6);
    expectOnlyTimeouts(measured);
    expect(result.valid).toBe(measured.filter((m) => !m.error).length);
    expect(result.valid).toBeGreaterThan(0);
    // The best config is one of the measured ones.
    expect(measured.map((m) => JSON.stringify(m.config))).toContain(JSON.stringify(result.best.config));

    const kernel = resolve(ROOT, result.kernel);
    expect(readFileSync(kernel, 'utf8')).toContain(JSON.stringify(result.best.config));
    await expectCompiles(kernel);
  }, 300_000);

  it('resumes from the same --records: the log grows and no config is measured twice', async () => {
    expect(records, 'runs after the first tune test').toBeDefined();
    const before = measurements(records);
    const run = await flexfarm(['tune', 'gemm', ...shape, '--trials', '6', '--seed', '3', '--json', '--out', out, '--records', records], 300_000);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.trials).toBe(6);
    const after = measurements(records);
    expect(after).toHaveLength(12);
    expectOnlyTimeouts(after);
    expect(after.slice(0, 6)).toEqual(before);
    const configs = after.map((m) => JSON.stringify(m.config));
    expect(new Set(configs).size).toBe(12);
    // Best over both runs: never slower than the first run's best.
    expect(after.some((m) => JSON.stringify(m.config) === JSON.stringify(result.best.config))).toBe(true);
  }, 300_000);

  it('without --json reports the best config, GFLOP/s, the speedup and where the files are', async () => {
    const dir = join(tmp, 'tune-gemv');
    const run = await flexfarm(['tune', 'gemv', '--shape', 'M=37,K=29', '--trials', '2', '--out', dir], 300_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/best config: \{/);
    expect(run.stdout).toMatch(/GFLOP\/s, [\d.]+x the unscheduled reference/);
    expect(run.stdout).toContain(join(dir, 'records.jsonl'));
    expect(run.stdout).toContain(join(dir, 'kernel.c'));
    expect(run.stderr).toMatch(/\[2\/2\]/); // progress on stderr
  }, 300_000);
});

describe('flexfarm tune --target sim', () => {
  it('--json marks the result simulated', async () => {
    const out = join(tmp, 'tune-sim');
    const run = await flexfarm(['tune', 'gemm', '--shape', 'M=64,N=48,K=40', '--target', 'sim', '--trials', '20', '--json', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const result = JSON.parse(lines[0]);
    expect(result.simulated).toBe(true);
    expect(result.target).toBe('sim');
    expect(result.trials).toBe(20);
    expect(measurements(result.records)).toHaveLength(20);
  });

  it('without --json says SIMULATED', async () => {
    const run = await flexfarm(['tune', 'gemm', '--shape', 'M=64,N=48,K=40', '--target', 'sim', '--trials', '5', '--out', join(tmp, 'tune-sim-text')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^SIMULATED/m);
  });
});

describe.concurrent('flexfarm tune: bad input fails naming the problem, with nothing on stdout', () => {
  const GEMM = ['--shape', 'M=8,N=8,K=8'];
  const cases: [string, string[], RegExp][] = [
    ['unknown operator', ['matmul', ...GEMM], /unknown operator 'matmul'.*gemm/],
    ['missing --shape', ['gemm'], /--shape is required/],
    ['unknown shape parameter', ['gemm', '--shape', 'M=8,N=8,K=8,Q=2'], /parameter Q: unknown parameter/],
    ['missing shape parameter', ['gemm', '--shape', 'M=8,N=8'], /parameter K: missing/],
    ['zero extent', ['gemm', '--shape', 'M=0,N=8,K=8'], /parameter M: must be >= 1, got 0/],
    ['negative pad', ['conv2d', '--shape', 'N=1,C=3,H=8,W=8,K=4,R=3,S=3,pad=-1'], /parameter pad: must be >= 0, got -1/],
    ['non-integer extent', ['gemm', '--shape', 'M=8.5,N=8,K=8'], /M=8\.5.*INTEGER/],
    ['groups that do not divide the channels', ['grouped_conv2d', '--shape', 'N=1,C=6,H=8,W=8,K=8,R=3,S=3,groups=4'], /groups/],
    ['empty output', ['conv2d', '--shape', 'N=1,C=3,H=2,W=8,K=4,R=5,S=3'], /empty/],
    ['unknown target', ['gemm', ...GEMM, '--target', 'tpu'], /--target: 'tpu' is not one of .*cpu/],
    ['unknown explorer', ['gemm', ...GEMM, '--explorer', 'annealing'], /--explorer: 'annealing' is not one of .*random/],
    ['unknown flag', ['gemm', ...GEMM, '--frobnicate'], /--frobnicate/],
    ['zero trials', ['gemm', ...GEMM, '--trials', '0'], /--trials: must be >= 1, got 0/],
    ['non-integer trials', ['gemm', ...GEMM, '--trials', 'many'], /--trials: expected an integer, got 'many'/],
    ['two operators', ['gemm', 'gemv', ...GEMM], /expected one operator/],
  ];
  for (const [what, args, message] of cases) {
    it(what, async () => {
      const out = join(tmp, 'bad', what.replace(/\W+/g, '-'));
      const run = await flexfarm(['tune', ...args, '--out', out]);
      expect(run.code).not.toBe(0);
      expect(run.code).not.toBeNull(); // exited, not killed
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(message);
      expect(run.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
      expect(existsSync(out)).toBe(false); // nothing measured, nothing written
    });
  }
});

describe('flexfarm', () => {
  it('an unknown command fails with the usage on stderr', async () => {
    const run = await flexfarm(['frobnicate']);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/unknown command 'frobnicate'/);
    expect(run.stderr).toMatch(/tune/);
  });
});
