// The anchors compute the right thing (their own spot checks pass on awkward shapes), a library
// called wrongly is caught as a wrong answer, and a missing library reads "not installed".
// No timing is asserted: timing belongs to `npm run bench:cpu`.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { TimingProtocol } from '../../contracts/result.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { ANCHOR_SOURCE_DIR } from './build.ts';
import { ANCHORS, openblasCoretypeFor, anchorsFor, AnchorRunner, type AnchorSpec } from './anchors.ts';

const FAST: TimingProtocol = { repeat: 1, minRepeatMs: 1, buildTimeoutMs: 60_000, runTimeoutMs: 30_000 };
const work = mkdtempSync(join(os.tmpdir(), 'flexfarm-anchors-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const runner = new AnchorRunner({ buildDir: join(work, 'build'), threads: 2, baseEnv: process.env });
const openblas = await runner.isInstalled('openblas');
const onednn = await runner.isInstalled('onednn');
const installed = (spec: AnchorSpec) => (spec.library === 'openblas' ? openblas : onednn);

const SHAPES = {
  gemm: [{ M: 37, N: 29, K: 53 }, { M: 64, N: 1, K: 7 }],
  conv2d: [
    { N: 2, C: 8, H: 11, W: 13, K: 12, R: 3, S: 3, stride: 2, pad: 1, dilation: 2, groups: 4 },
    { N: 1, C: 5, H: 9, W: 7, K: 3, R: 3, S: 2, stride: 1, pad: 2 },
  ],
  // Odd extents, strides, padding and dilation in every family the generic program covers.
  conv1d: [{ N: 2, C: 5, L: 17, K: 6, R: 3, stride: 2, pad: 1, dilation: 2 }],
  conv3d: [{ N: 1, C: 3, D: 5, H: 6, W: 7, K: 4, T: 3, R: 3, S: 2, stride: 1, pad: 1 }],
  // Per-axis strides and pads (as OCR models use them) in the families only oneDNN's program computes.
  grouped_conv2d: [{ N: 1, C: 8, H: 9, W: 7, K: 12, R: 3, S: 3, stride: 2, pad: 1, groups: 4 }, { N: 1, C: 4, H: 7, W: 9, K: 8, R: 1, S: 3, stride: 1, stride_w: 2, pad: 0, pad_w: 1, groups: 2 }],
  depthwise_conv2d: [{ N: 1, C: 6, H: 9, W: 8, R: 3, S: 3, stride: 2, pad: 1, multiplier: 2 }, { N: 1, C: 5, H: 10, W: 9, R: 3, S: 3, stride: 2, stride_w: 1, pad: 1 }],
  dilated_conv2d: [{ N: 1, C: 4, H: 11, W: 10, K: 5, R: 3, S: 3, pad: 2, dilation: 2 }],
  conv_transpose1d: [{ N: 1, C: 4, L: 9, K: 5, R: 3, stride: 2, pad: 1 }],
  conv_transpose2d: [{ N: 1, C: 4, H: 5, W: 6, K: 3, R: 3, S: 3, stride: 2, pad: 1, dilation: 2 }],
  conv_transpose3d: [{ N: 1, C: 2, D: 3, H: 4, W: 3, K: 3, T: 2, R: 3, S: 2, stride: 2, pad: 0 }],
} as const;

describe('anchor programs', () => {
  for (const spec of ANCHORS) {
    for (const op of spec.ops) {
      for (const shape of SHAPES[op as keyof typeof SHAPES]) {
        it.skipIf(!installed(spec))(`${spec.program} computes ${op} ${JSON.stringify(shape)}`, async () => {
          const def = defineWorkload(op, shape);
          const outcome = await runner.measure(spec, def, FAST);
          expect(outcome, outcome.status !== 'ok' ? outcome.message : '').toMatchObject({ status: 'ok' });
          if (outcome.status !== 'ok') return;
          expect(outcome.checked).toBe(256); // positions may repeat on tiny outputs; each is checked
          expect(outcome.maxAbsErr).toBeLessThan(1e-3);
          expect(outcome.seconds.length).toBe(1);
        });
      }
    }
  }

  it('an anchor that takes one stride and pad refuses a workload with per-axis ones', async () => {
    const spec = ANCHORS.find((a) => a.program === 'openblas-conv2d')!;
    const outcome = await runner.measure(spec, defineWorkload('conv2d', { N: 1, C: 2, H: 8, W: 8, K: 2, R: 3, S: 3, stride: 2, stride_w: 1 }), FAST);
    expect(outcome).toMatchObject({ status: 'failed', message: expect.stringMatching(/one stride and pad for all axes/) });
  });

  it('lists anchors for gemm and every convolution family', () => {
    expect(anchorsFor('gemm').map((a) => a.program).sort()).toEqual(['onednn-sgemm', 'openblas-sgemm']);
    expect(anchorsFor('conv2d').map((a) => a.program).sort()).toEqual(['onednn-conv', 'openblas-conv2d']);
    for (const op of ['conv1d', 'conv3d', 'grouped_conv2d', 'depthwise_conv2d', 'dilated_conv2d', 'conv_transpose2d']) {
      expect(anchorsFor(op).map((a) => a.program)).toEqual(['onednn-conv']);
    }
    expect(anchorsFor('gemv')).toEqual([]);
  });
});

describe('a broken anchor cannot flatter us', () => {
  // Copies of the sources with one deliberate mistake each; their own checks must refuse them.
  const mutants: { program: string; library: 'openblas' | 'onednn'; from: string; to: string }[] = [
    { program: 'openblas-sgemm', library: 'openblas', from: 'CblasNoTrans, CblasNoTrans', to: 'CblasNoTrans, CblasTrans' },
    { program: 'onednn-sgemm', library: 'onednn', from: "dnnl_sgemm('N', 'N'", to: "dnnl_sgemm('N', 'T'" },
    { program: 'openblas-conv2d', library: 'openblas', from: ': 0.0f;', to: ': 1.0f;' },
    { program: 'onednn-conv', library: 'onednn', from: 'plain(&w_plain, wd, w_dims, p.transposed);', to: 'plain(&w_plain, wd, w_dims, !p.transposed);' },
  ];
  for (const mutant of mutants) {
    it.skipIf(!(mutant.library === 'openblas' ? openblas : onednn))(`${mutant.program} with a wrong call → WRONG_ANSWER`, async () => {
      const sourceDir = join(work, `mutant-${mutant.program}`);
      cpSync(ANCHOR_SOURCE_DIR, sourceDir, { recursive: true, filter: (f) => !f.endsWith('.ts') });
      const file = join(sourceDir, `${mutant.program}.c`);
      const text = readFileSync(file, 'utf8');
      expect(text).toContain(mutant.from);
      writeFileSync(file, text.replace(mutant.from, mutant.to));
      const broken = new AnchorRunner({ buildDir: join(work, `build-${mutant.program}`), sourceDir, threads: 2, baseEnv: process.env });
      const spec = ANCHORS.find((a) => a.program === mutant.program)!;
      const op = (spec.ops.includes('conv_transpose2d') ? 'conv_transpose2d' : spec.ops[0]) as keyof typeof SHAPES;
      const shape = op === 'gemm' ? { M: 40, N: 40, K: 40 } : op === 'conv2d' ? SHAPES.conv2d[0] : SHAPES.conv_transpose2d[0];
      const outcome = await broken.measure(spec, defineWorkload(op, shape), FAST);
      expect(outcome.status).toBe('failed');
      expect(outcome.status === 'failed' && outcome.message).toMatch(/^WRONG_ANSWER: output element \d+ is/);
    });
  }
});

describe('library detection', () => {
  it('a library that does not link reads "not installed" with the package to install', async () => {
    const missing = new AnchorRunner({
      buildDir: join(work, 'build-missing'), threads: 2, baseEnv: process.env,
      libraries: { onednn: { name: 'oneDNN', libs: ['-lflexfarm_no_such_library'], debian: 'libdnnl-dev', probe: 'int main(void) { return 0; }\n' } },
    });
    expect(await missing.isInstalled('onednn')).toBe(false);
    const spec = ANCHORS.find((a) => a.program === 'onednn-sgemm')!;
    const outcome = await missing.measure(spec, defineWorkload('gemm', { M: 4, N: 4, K: 4 }), FAST);
    expect(outcome).toMatchObject({ status: 'not-installed' });
    expect(outcome.status === 'not-installed' && outcome.message).toContain('apt-get install -y libdnnl-dev');
  });

  it('sets the thread count for every runtime and an OpenBLAS core the CPU can run', () => {
    const avx512 = ['avx2', 'avx512f', 'avx512bw', 'avx512dq', 'avx512vl'];
    const env = new AnchorRunner({ buildDir: work, threads: 3, baseEnv: { PATH: '/usr/bin' }, cpuFlags: avx512 }).env();
    expect(env).toMatchObject({ OMP_NUM_THREADS: '3', OPENBLAS_NUM_THREADS: '3', OPENBLAS_CORETYPE: 'SkylakeX', PATH: '/usr/bin' });
    // AVX2 only (Zen 3): SkylakeX would die with SIGILL, so OpenBLAS detects its core itself
    const avx2 = new AnchorRunner({ buildDir: work, threads: 2, baseEnv: { OPENBLAS_CORETYPE: undefined }, cpuFlags: ['avx', 'avx2', 'fma'] }).env();
    expect('OPENBLAS_CORETYPE' in avx2).toBe(false);
    // a core type set by the machine's environment is kept
    const set = new AnchorRunner({ buildDir: work, threads: 2, baseEnv: { OPENBLAS_CORETYPE: 'Haswell' }, cpuFlags: avx512 }).env();
    expect(set.OPENBLAS_CORETYPE).toBe('Haswell');
    expect(openblasCoretypeFor(['avx2'])).toBeUndefined();
    // capped as ours is (--isa avx2): both libraries run their AVX2 code, whatever the environment said
    const capped = new AnchorRunner({ buildDir: work, threads: 2, baseEnv: { OPENBLAS_CORETYPE: 'SkylakeX' }, cpuFlags: avx512, isa: 'avx2' }).env();
    expect(capped).toMatchObject({ ONEDNN_MAX_CPU_ISA: 'AVX2', OPENBLAS_CORETYPE: 'Haswell' });
  });
});
