// Faults become result codes, and the backend goes on: kernels forced (through the test-only
// sourceFilter) to segfault, hang, compute a wrong answer or not compile, a compiler that runs out
// of time, a kernel over the memory limit, and candidates that cannot be instantiated. After each
// fault a normal candidate is measured on the same backend and must succeed.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCpuBackend } from '../agent/backends/cpu/cpu-backend.ts';
import type { CompiledBackend } from '../agent/measure.ts';
import type { Candidate, ErrorCode, MeasureResult, TimingProtocol } from '../contracts/result.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import type { Config } from '../tensor/templates/template.ts';

const PROTOCOL: TimingProtocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 20_000 };
const GEMM = defineWorkload('gemm', { M: 15, N: 13, K: 7 });
/** A valid config with guarded tails on every axis. */
const GOOD: Config = { 'split.m': [2, 2, 2, 2], 'split.n': [2, 1, 2, 4], 'split.k': [2, 2, 2], reorder: 1, unroll: [512, 1] };

/** Source rewrites by fault name; a candidate's id starts with the fault it asks for. */
const KERNEL_OPEN = /(void kernel\([^)]*\) \{)/;
const FAULTS: Record<string, (source: string) => string> = {
  segfault: (s) => s.replace(KERNEL_OPEN, '$1\n  *(volatile int*)0 = 1;'),
  hang: (s) => s.replace(KERNEL_OPEN, '$1\n  for (;;) __asm__ volatile("");'),
  // Every store of the accumulator into the output is off by one half.
  wrong: (s) => s.replace(/(C\[[^\]]+\]) = (acc\[[^\]]+\]);/g, '$1 = $2 + 0.5f;'),
  garbage: (s) => `this is not C at all;\n${s}`,
  // A fresh source each time, so the compile cache cannot answer for the compiler.
  fresh: (s) => `${s}\n/* uncached ${process.hrtime.bigint()} */\n`,
};

let cacheDir: string;
let backend: CompiledBackend;
const filtered: string[] = [];
let serial = 0;

beforeAll(() => {
  cacheDir = mkdtempSync(join(tmpdir(), 'flexfarm-cpu-faults-'));
  backend = createCpuBackend({
    cacheDir, threads: 2,
    sourceFilter: (source, candidate) => {
      filtered.push(candidate.id);
      const fault = FAULTS[candidate.id.split(':')[0]];
      if (!fault) return source;
      const changed = fault(source);
      if (changed === source) throw new Error(`test bug: fault ${candidate.id} did not change the source`);
      return changed;
    },
  });
});
afterAll(() => rmSync(cacheDir, { recursive: true, force: true }));

function candidate(fault: string, config: Config = GOOD, workload = GEMM.key, target: Candidate['target'] = 'cpu'): Candidate {
  return { id: `${fault}:${serial++}`, workload, target, config };
}

function expectError(result: MeasureResult, code: ErrorCode, message: RegExp) {
  expect(result.error, JSON.stringify(result)).not.toBeNull();
  expect(result.error!.code).toBe(code);
  expect(result.error!.message).toMatch(message);
  expect(result.seconds).toEqual([]);
  expect(result.median).toBeNull();
}

/** A normal candidate right after a fault: the backend must still measure correctly. */
async function expectBackendGoesOn(b: CompiledBackend = backend) {
  const result = await b.measure(candidate('normal'), PROTOCOL);
  expect(result.error, JSON.stringify(result.error)).toBeNull();
  expect(result.seconds.length).toBeGreaterThan(0);
  expect(result.median).toBeGreaterThan(0);
}

/** Processes still running a binary from this test's cache (a killed kernel must not linger). */
function runningFromCache(): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return ps.split('\n').filter((l) => l.includes(cacheDir) && !l.includes('ps -eo'));
}

describe('kernel faults give their error code and the backend goes on', () => {
  it('measures the normal candidate before any fault', async () => {
    await expectBackendGoesOn();
  });

  it('a kernel that segfaults → RUNTIME naming the signal', async () => {
    expectError(await backend.measure(candidate('segfault'), PROTOCOL), 'RUNTIME', /SIGSEGV/);
    await expectBackendGoesOn();
  });

  it('a kernel that hangs → RUN_TIMEOUT within the run timeout, and the process is killed', async () => {
    const started = Date.now();
    const result = await backend.measure(candidate('hang'), { ...PROTOCOL, runTimeoutMs: 1500 });
    expectError(result, 'RUN_TIMEOUT', /1500 ms/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(runningFromCache()).toEqual([]);
    await expectBackendGoesOn();
  });

  it('a kernel that computes a wrong answer → WRONG_ANSWER naming the element and both values', async () => {
    expectError(await backend.measure(candidate('wrong'), PROTOCOL), 'WRONG_ANSWER', /output element \d+ is -?[\d.]+, reference -?[\d.]+/);
    await expectBackendGoesOn();
  });

  it('a source that does not compile → COMPILE with the compiler error', async () => {
    expectError(await backend.measure(candidate('garbage'), PROTOCOL), 'COMPILE', /gcc failed:[\s\S]*error/);
    await expectBackendGoesOn();
  });

  it('a compiler slower than the build timeout → BUILD_TIMEOUT', async () => {
    // gcc -O3 with OpenMP needs well over 5 ms for any program; the source is new, so not cached.
    expectError(await backend.measure(candidate('fresh'), { ...PROTOCOL, buildTimeoutMs: 5 }), 'BUILD_TIMEOUT', /longer than 5 ms/);
    expect(runningFromCache()).toEqual([]);
    await expectBackendGoesOn();
  });

  it('a kernel over the memory limit → RUNTIME, while the unlimited backend measures it', async () => {
    // 256 MiB of matrix against a 128 MiB address-space limit. The reference output is computed
    // first by the unlimited backend (same cache), so the limited one fails in the kernel's own run.
    const big = defineWorkload('gemv', { M: 8192, K: 8192 });
    const config: Config = { 'split.m': [64, 2, 8, 8], 'split.k': [128, 8, 8], reorder: 1, unroll: [0, 0] };
    const unlimited = await backend.measure(candidate('normal', config, big.key), PROTOCOL);
    expect(unlimited.error).toBeNull();
    const limited = createCpuBackend({ cacheDir, threads: 2, memoryBytes: 128 * 1024 ** 2 });
    expectError(await limited.measure(candidate('normal', config, big.key), PROTOCOL), 'RUNTIME', /^cannot allocate \d+ floats/);
    await expectBackendGoesOn(limited);
  });
});

describe('candidates that cannot be instantiated → INSTANTIATION, without compiling', () => {
  const cases: [string, Partial<Candidate>, RegExp][] = [
    ['factors outside the split sub-space', { config: { ...GOOD, 'split.m': [1, 1, 1, 1] } }, /split\.m/],
    ['a factor that is not a divisor nor a power of two', { config: { ...GOOD, 'split.n': [1, 1, 1, 13 * 3] } }, /split\.n/],
    ['an unknown knob', { config: { ...GOOD, 'vector.width': 8 } }, /unknown knob 'vector\.width'/],
    ['a missing knob', { config: { 'split.m': [2, 2, 2, 2], 'split.n': [2, 1, 2, 4], reorder: 1, unroll: [512, 1] } }, /split\.k/],
    ['a reorder outside its choices', { config: { ...GOOD, reorder: 7 } }, /reorder/],
    ['a register tile over the device limit', {
      workload: defineWorkload('gemm', { M: 128, N: 128, K: 4 }).key,
      config: { 'split.m': [1, 1, 1, 128], 'split.n': [1, 1, 1, 128], 'split.k': [1, 1, 4], reorder: 1, unroll: [0, 0] },
    }, /register tile/],
    ['a workload key that does not parse', { workload: 'gemm(M=15,N=13' }, /cannot parse workload key/],
    ['a workload key of an unknown operator', { workload: 'matmul(M=15,N=13,K=7,dtype=float32)' }, /unknown operator 'matmul'/],
    ['a workload key with a zero extent', { workload: 'gemm(M=0,N=13,K=7,dtype=float32)' }, /parameter M: must be >= 1, got 0/],
    ['a candidate for another target', { target: 'sim' }, /measures 'cpu'/],
  ];
  for (const [what, override, message] of cases) {
    it(what, async () => {
      const c = { ...candidate('instantiation'), ...override };
      const binaries = existsSync(join(cacheDir, 'bin')) ? readdirSync(join(cacheDir, 'bin')).length : 0;
      expectError(await backend.measure(c, PROTOCOL), 'INSTANTIATION', message);
      expect(filtered).not.toContain(c.id); // never rendered for the compiler
      expect(existsSync(join(cacheDir, 'bin')) ? readdirSync(join(cacheDir, 'bin')).length : 0).toBe(binaries);
      await expectBackendGoesOn();
    });
  }
});
