// `flexfarm export`: a tuned gemm and a tuned conv2d become standalone source trees that build
// with plain `make run` (gcc, no flexfarm), check their output against the reference and time it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../agent/backends/index.ts';
import { SimBackend } from '../agent/backends/sim/sim-backend.ts';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import { tune } from '../cli/embedded-tune.ts';
import { exportKernel } from '../cli/export-kernel.ts';
import { ExportError } from '../coordinator/export/export-kernel.ts';
import { median } from '../contracts/result.ts';
import { RecordLog } from '../coordinator/records.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import type { ComputeDef } from '../tensor/compute.ts';

const repo = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'flexfarm-export-'));
const cacheDir = join(dir, 'cache');
const records = join(dir, 'records.jsonl');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Odd extents: imperfect splits with guarded tails are exported as measured.
const gemm = defineWorkload('gemm', { M: 72, N: 40, K: 36 });
const conv = defineWorkload('conv2d', { N: 1, C: 6, H: 11, W: 11, K: 8, R: 3, S: 3, stride: 1, pad: 1 });
const PROTOCOL = { repeat: 3, minRepeatMs: 5, buildTimeoutMs: 60_000, runTimeoutMs: 10_000 };

function cli(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], {
    cwd: repo, encoding: 'utf8', env: { ...process.env, FLEXFARM_CACHE: cacheDir },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `make run` in a directory outside the repository, with nothing but the exported files. */
function makeRun(outDir: string) {
  const r = spawnSync('make', ['run'], { cwd: outDir, encoding: 'utf8', env: { PATH: process.env.PATH, OMP_NUM_THREADS: '2' }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(async () => {
  const backend = createBackend('cpu', { cacheDir }, { threads: 2 });
  for (const def of [gemm, conv]) {
    await tune({ def, backend, trials: 4, seed: 5, recordsPath: records, outDir: join(dir, 'tune'), protocol: PROTOCOL });
  }
});

/** The exported config's re-measured figure: the median of its re-measurements' medians. */
function remeasuredSeconds(def: ComputeDef, config: object): number {
  const again = RecordLog.open(records).remeasures().filter((r) => r.workload === def.key && !r.error && JSON.stringify(r.config) === JSON.stringify(config));
  expect(again).toHaveLength(3);
  return median(again.map((r) => r.median!))!;
}

describe('flexfarm export', () => {
  for (const [name, def] of [['gemm', gemm], ['conv2d', conv]] as const) {
    it(`exports the tuned ${name}; make run checks the output and prints a time`, () => {
      const outDir = join(dir, `export-${name}`);
      const r = cli(['export', '--records', records, '--workload', def.key, '--target', 'cpu', '--out', outDir]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`exported ${def.key}`);
      for (const f of ['kernel.c', 'reference.c', 'kernel.h', 'main.c', 'Makefile', 'README.md', 'config.json']) {
        expect(existsSync(join(outDir, f)), f).toBe(true);
      }
      const exported = JSON.parse(readFileSync(join(outDir, 'config.json'), 'utf8'));
      expect(exported.seconds).toBe(remeasuredSeconds(def, exported.config));
      expect(exported.remeasured.runs).toBe(3);
      const readme = readFileSync(join(outDir, 'README.md'), 'utf8');
      for (const [knob, value] of Object.entries(exported.config)) expect(readme).toContain(`"${knob}": ${JSON.stringify(value)}`);
      expect(readme).toContain(`void ${def.op}_tuned(const float* restrict`);
      expect(readme).toMatch(/Measured: [\d.]+ (us|ms|s) median per run, [\d.]+ GFLOP\/s/);

      const run = makeRun(outDir);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain('gcc -O3 -march=native -fopenmp');
      expect(run.stdout).toMatch(/correct: all \d+ outputs match the unscheduled reference/);
      const median = /median: ([\d.e+-]+) s per run \(5 repeats of (\d+) runs\), ([\d.]+) GFLOP\/s/.exec(run.stdout);
      expect(median).not.toBeNull();
      expect(Number(median![1])).toBeGreaterThan(0);
      expect(run.stdout).toMatch(/recorded: [\d.e+-]+ s, [\d.]+ GFLOP\/s \(measured cpu: /);
    });
  }

  it('the exported harness catches a kernel that computes a wrong answer', () => {
    const outDir = join(dir, 'export-broken');
    exportKernel({ recordsPath: records, workload: gemm.key, target: 'cpu', outDir });
    const kernel = readFileSync(join(outDir, 'kernel.c'), 'utf8');
    // Subtract instead of add in the multiply-accumulate, scalar (`acc[i] += …`) or explicit
    // vectors (`*(ff_vec*)&acc[i] = *(ff_vec*)&acc[i] + …`), whichever the tuned kernel has.
    const broken = kernel.replace(/(acc\[[^\]]*\]) \+= /, '$1 -= ').replace(/(= \*\(ff_vec\*\)&acc\[[^\]]*\]) \+ /, '$1 - ');
    expect(broken).not.toBe(kernel);
    writeFileSync(join(outDir, 'kernel.c'), broken);
    const run = makeRun(outDir);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/WRONG ANSWER: output element \d+ is/);
  });

  it('a config that packs weights and stages the padded input exports its prepare step, and make run checks it', async () => {
    const layoutRecords = join(dir, 'layout.jsonl');
    const backend = createCpuBackend({ cacheDir, threads: 2, vectorWidth: 4 });
    const config = {
      'split.n': [1, 1, 1, 1], 'split.k': [2, 1, 1, 4], 'split.h': [11, 1, 1, 1], 'split.w': [3, 1, 1, 4],
      'split.c': [1, 2, 3], 'split.r': [1, 1, 3], 'split.s': [1, 1, 3], reorder: 1, unroll: [512, 1], vector: 1, 'pack.W': 1, 'pad.I': 1,
    };
    const measured = await backend.measure({ id: 'layout-1', workload: conv.key, target: 'cpu', config }, PROTOCOL);
    expect(measured.error).toBeNull();
    RecordLog.open(layoutRecords).append(measured);
    const outDir = join(dir, 'export-layout');
    exportKernel({ recordsPath: layoutRecords, workload: conv.key, target: 'cpu', outDir });
    const kernel = readFileSync(join(outDir, 'kernel.c'), 'utf8');
    expect(kernel).toMatch(/void conv2d_tuned_prepare\(/);
    expect(kernel).toContain('W_packed[');
    expect(kernel).toContain('I_pad[');
    expect(kernel).toContain('ff_vec');   // the 4-float vectors it was measured with
    expect(readFileSync(join(outDir, 'kernel.h'), 'utf8')).toContain('void conv2d_tuned_prepare(');
    const run = makeRun(outDir);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/correct: all \d+ outputs match the unscheduled reference/);
    // without the prepare call the packed weights are zeros: the check must catch that
    writeFileSync(join(outDir, 'main.c'), readFileSync(join(outDir, 'main.c'), 'utf8').replace(/\n\s*conv2d_tuned_prepare\([^;]*;/, '\n'));
    const unprepared = makeRun(outDir);
    expect(unprepared.code).not.toBe(0);
    expect(unprepared.stdout).toMatch(/WRONG ANSWER/);
  });

  it('sim: exports the CPU kernel of the best sim config and says the figure is simulated', async () => {
    const simRecords = join(dir, 'sim.jsonl');
    await tune({ def: gemm, backend: new SimBackend({ seed: 2 }), trials: 20, seed: 1, recordsPath: simRecords, outDir: join(dir, 'tune-sim') });
    const outDir = join(dir, 'export-sim');
    const result = exportKernel({ recordsPath: simRecords, workload: gemm.key, target: 'sim', outDir });
    expect(result.entry.simulated).toBe(true);
    expect(readFileSync(join(outDir, 'README.md'), 'utf8')).toContain('**Simulated figure.**');
    expect(readFileSync(join(outDir, 'kernel.c'), 'utf8')).toContain('SIMULATED estimate');
    const run = makeRun(outDir);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/correct: all/);
    expect(run.stdout).toMatch(/recorded: .*SIMULATED estimate/);
  });

  it('refuses what it cannot export, with the reason', () => {
    expect(() => exportKernel({ recordsPath: records, workload: gemm.key, target: 'gpu', outDir: join(dir, 'x') }))
      .toThrow(/cannot export for target 'gpu'/);
    expect(() => exportKernel({ recordsPath: records, workload: 'gemm(M=2,N=2,K=2)', target: 'cpu', outDir: join(dir, 'x') }))
      .toThrow(ExportError);
    const full = join(dir, 'full');
    mkdirSync(full, { recursive: true });
    writeFileSync(join(full, 'mine.txt'), 'keep');
    expect(() => exportKernel({ recordsPath: records, workload: gemm.key, target: 'cpu', outDir: full })).toThrow(/not empty/);
    expect(readFileSync(join(full, 'mine.txt'), 'utf8')).toBe('keep');
    const missing = cli(['export', '--records', records, '--workload', gemm.key, '--target', 'cpu']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--out is required/);
  });
});
