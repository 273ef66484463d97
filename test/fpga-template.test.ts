// The FPGA template and its HLS C++: the knobs form one space the explorers walk, a config lowers
// to tiles + burst copies + one pipelined loop around an unrolled PE array, the renderer puts the
// Vitis pragmas where Vitis reads them, and the CLI prints HLS C++ that g++ compiles alone and
// tunes with results marked as estimates.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hlsKernel } from '../agent/backends/fpga/hls-renderer.ts';
import { Rng } from '../coordinator/explore/rng.ts';
import { createExplorer } from '../coordinator/explore/index.ts';
import { Space } from '../coordinator/space.ts';
import { InstantiationError } from '../tensor/errors.ts';
import type { Stmt } from '../tensor/ir.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { fpgaTemplate } from '../tensor/templates/fpga.ts';
import { planFpga } from '../tensor/templates/fpga-plan.ts';

const dir = mkdtempSync(join(tmpdir(), 'flexfarm-fpga-template-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const repo = join(import.meta.dirname, '..');

const gemm = defineWorkload('gemm', { M: 64, N: 64, K: 64 });
const GEMM_CONFIG = { 'split.m': [2, 8, 4], 'split.n': [2, 4, 8], 'split.k': [2, 32, 1], order: 1, ii: 1, partition: 0, burst: 16 };

function loops(s: Stmt, out: Extract<Stmt, { k: 'loop' }>[] = []): Extract<Stmt, { k: 'loop' }>[] {
  if (s.k === 'loop') { out.push(s); loops(s.body, out); }
  else if (s.k === 'seq') s.body.forEach((b) => loops(b, out));
  else if (s.k === 'if') { loops(s.then, out); if (s.else) loops(s.else, out); }
  return out;
}

describe('FPGA knobs', () => {
  it('are sub-spaces of one space: 3-level splits per axis, order, II, partition, burst', () => {
    const knobs = fpgaTemplate.knobs(gemm);
    expect(knobs.map((k) => k.name)).toEqual(['split.m', 'split.n', 'split.k', 'order', 'ii', 'partition', 'burst']);
    expect((knobs[0].entities[0] as number[]).length).toBe(3);
    expect(knobs.find((k) => k.name === 'partition')!.entities).toEqual([0, 1, 2, 3]);
    const space = new Space(knobs);
    expect(space.size).toBe(BigInt(knobs.reduce((n, k) => n * k.entities.length, 1)));
    const point = space.randomPoint(new Rng(3));
    expect(space.fromConfig(space.toConfig(point))).toEqual(point);
    expect(space.neighbours(point).length).toBeGreaterThan(10);
  });

  it('an explorer proposes configs of the FPGA space that the template accepts or rejects cleanly', () => {
    const space = new Space(fpgaTemplate.knobs(gemm));
    const explorer = createExplorer('random', { space, seed: 1, budget: 50, history: [] });
    const configs = explorer.next(50);
    expect(configs.length).toBe(50);
    let valid = 0;
    for (const config of configs) {
      try { fpgaTemplate.check(gemm, config, { dsp: 6840, bram18: 4320, lut: 1_182_240, ff: 2_364_480, uram: 960 }); valid++; } catch (err) {
        expect(err).toBeInstanceOf(InstantiationError);
      }
    }
    expect(valid).toBeGreaterThan(0);
  });

  it('bad configs name the knob that is wrong', () => {
    expect(() => fpgaTemplate.lower(gemm, { ...GEMM_CONFIG, ii: 3 })).toThrow(/knob 'ii' must be one of 1, 2, 4/);
    expect(() => fpgaTemplate.lower(gemm, { ...GEMM_CONFIG, 'split.m': [1, 8, 4] })).toThrow(/split\.m.*outer factor/);
    expect(() => fpgaTemplate.lower(gemm, { ...GEMM_CONFIG, unroll: [0, 0] })).toThrow(/unknown knob 'unroll'/);
    const { burst: _, ...missing } = GEMM_CONFIG;
    expect(() => fpgaTemplate.lower(gemm, missing)).toThrow(/knob 'burst'/);
  });
});

describe('FPGA lowering', () => {
  it('tiles, burst copies, one pipelined loop with the II target, the PE array unrolled', () => {
    const nest = fpgaTemplate.lower(gemm, { ...GEMM_CONFIG, ii: 2 });
    const all = loops(nest);
    const unrolled = all.filter((l) => l.kind === 'unroll').map((l) => `${l.v}:${l.unroll}`);
    expect(unrolled).toEqual(expect.arrayContaining(['m_u:4', 'n_u:8', 'A_buf_w:16', 'B_buf_w:16', 'st_w:16']));
    const compute = all.find((l) => l.v === 'n_s')!;
    expect(compute.kind).toBe('pipeline');
    expect(compute.ii).toBe(2);
    // Spatial loops innermost (order 1): k_s outside m_s outside n_s.
    expect(all.filter((l) => ['k_s', 'm_s', 'n_s'].includes(l.v)).map((l) => l.v)).toEqual(['k_s', 'm_s', 'n_s']);
    expect(all.filter((l) => l.kind === 'pipeline' && l.v !== 'n_s').every((l) => l.ii === 1)).toBe(true);
    const allocs = (nest as Extract<Stmt, { k: 'seq' }>).body.filter((s) => s.k === 'alloc');
    expect(allocs.map((a) => a.k === 'alloc' && [a.name, a.shape])).toEqual([['A_buf', [32, 32]], ['B_buf', [32, 32]], ['C_buf', [32, 32]]]);
  });

  it('partitions match the unroll: cyclic factors = lanes the PE array touches (and half the burst)', () => {
    const plan = planFpga(gemm, { ...GEMM_CONFIG, burst: 4 });
    expect(plan.output.partition).toEqual([{ dim: 0, type: 'cyclic', factor: 4 }, { dim: 1, type: 'cyclic', factor: 8 }]);
    expect(plan.inputs[0].partition).toEqual([{ dim: 0, type: 'cyclic', factor: 4 }, { dim: 1, type: 'cyclic', factor: 2 }]);
    expect(planFpga(gemm, { ...GEMM_CONFIG, partition: 1 }).output.partition[0]).toEqual({ dim: 0, type: 'block', factor: 4 });
    expect(planFpga(gemm, { ...GEMM_CONFIG, partition: 2 }).output.partition).toEqual([{ dim: 0, type: 'complete' }, { dim: 1, type: 'complete' }]);
    expect(planFpga(gemm, { ...GEMM_CONFIG, partition: 3 }).output.partition).toEqual([]);
  });

  it('convolution footprints: a strided, padded window is one buffer; the copy zero-fills outside the tensor', () => {
    const conv = defineWorkload('conv2d', { N: 1, C: 3, H: 9, W: 7, K: 4, R: 3, S: 3, stride: 2, pad: 1 });
    const config = { 'split.n': [1, 1, 1], 'split.k': [1, 2, 2], 'split.h': [3, 1, 2], 'split.w': [1, 2, 2], 'split.c': [2, 1, 2], 'split.r': [1, 3, 1], 'split.s': [1, 1, 3], order: 1, ii: 1, partition: 0, burst: 4 };
    const plan = planFpga(conv, config);
    const input = plan.inputs.find((b) => b.tensor === 'I')!;
    // h tile 2 at stride 2 plus 3 taps: (2-1)*2 + 3 = 5 rows; w tile 4: (4-1)*2 + 3 = 9 columns.
    expect(input.shape).toEqual([1, 2, 5, 9]);
    expect(input.guardLow.slice(2)).toEqual([true, true]);
    // The unrolled w lanes (2) at stride 2 and s taps (3) span 5 columns: 5 banks, one index each.
    expect(input.partition).toContainEqual({ dim: 3, type: 'cyclic', factor: 5 });
    const { source } = hlsKernel(conv, fpgaTemplate.lower(conv, config));
    expect(source).toMatch(/>= 0\) && .* \? I\[/);
  });
});

describe('HLS C++', () => {
  it('a top function per kernel with AXI interfaces and Vitis pragmas where Vitis reads them', () => {
    const { source, top } = hlsKernel(gemm, fpgaTemplate.lower(gemm, GEMM_CONFIG));
    expect(top).toBe('gemm_top');
    expect(source).toContain('void gemm_top(const float* A, const float* B, float* C) {');
    expect(source).toContain('#pragma HLS INTERFACE mode=m_axi port=A bundle=gmem0 offset=slave depth=4096');
    expect(source).toContain('#pragma HLS INTERFACE mode=m_axi port=C bundle=gmem2');
    expect(source).toContain('#pragma HLS INTERFACE mode=s_axilite port=return');
    expect(source).toContain('static float C_buf[32][32];');
    expect(source).toContain('#pragma HLS ARRAY_PARTITION variable=C_buf type=cyclic factor=8 dim=2');
    // PIPELINE is the first line inside the labelled loop it applies to; UNROLL likewise.
    expect(source).toMatch(/L_n_s: for \(int n_s = 0; n_s < 4; \+\+n_s\) \{\n\s+#pragma HLS PIPELINE II=1\n/);
    expect(source).toMatch(/for \(int n_u = 0; n_u < 8; \+\+n_u\) \{\n\s+#pragma HLS UNROLL\n/);
    expect(source).toContain('C_buf[((m_s * 4) + m_u)][((n_s * 8) + n_u)] += (A_buf[((m_s * 4) + m_u)][k_s] * B_buf[k_s][((n_s * 8) + n_u)]);');
  });
});

describe('CLI', () => {
  const env = { ...process.env, FLEXFARM_CACHE: join(dir, 'cache') };
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'cli/flexfarm.ts', ...args], { cwd: repo, encoding: 'utf8', env });

  it('codegen --target fpga prints HLS C++ that g++ compiles on its own (g++ -c)', () => {
    const r = cli('codegen', 'conv2d', '--shape', 'N=1,C=8,H=14,W=14,K=16,R=3,S=3,pad=1', '--target', 'fpga', '--seed', '5');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('void conv2d_top(');
    expect(r.stdout).toContain('#pragma HLS PIPELINE');
    const src = join(dir, 'kernel.cpp');
    writeFileSync(src, r.stdout);
    const gxx = spawnSync('g++', ['-c', '-std=c++14', src, '-o', join(dir, 'kernel.o')], { encoding: 'utf8' });
    expect(gxx.status, gxx.stderr).toBe(0);
  });

  it('tune --target fpga --json: best says estimated and by which estimator; the kernel is the HLS C++', () => {
    const out = join(dir, 'tune');
    const r = cli('tune', 'gemm', '--shape', 'M=16,N=12,K=8', '--target', 'fpga', '--trials', '4', '--seed', '2', '--json', '--out', out);
    expect(r.status, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result.target).toBe('fpga');
    expect(result.best.estimated).toBe(true);
    expect(result.best.estimator).toBe('model');
    expect(result.best.seconds).toBeGreaterThan(0);
    expect(result.reference.seconds).toBeGreaterThan(result.best.seconds);
    expect(readFileSync(result.kernel, 'utf8')).toContain('void gemm_top(');
    const records = readFileSync(result.records, 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((x) => x.candidateId);
    expect(records.length).toBe(4);
    expect(records.every((x) => x.estimated === true && x.estimator === 'model')).toBe(true);
  });

  it('tune with an unknown target names the known ones, fpga among them', () => {
    const r = cli('tune', 'gemm', '--shape', 'M=4,N=4,K=4', '--target', 'asic');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/fpga/);
    expect(r.stdout).toBe('');
  });
});
