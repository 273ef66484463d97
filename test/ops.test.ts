// The operator registry: every family builds, keys are canonical, FLOP counts and output shapes
// follow the textbook formulas, and bad shapes are refused with an error naming the parameter.
import { describe, expect, it } from 'vitest';
import { ShapeError, UnknownOpError } from '../tensor/errors.ts';
import { defineFromKey, defineWorkload, opFamily, opNames, workloadKey } from '../tensor/ops/registry.ts';

/** A small shape per family; a family added without one here fails the first test. */
const SMALL: Record<string, Record<string, number>> = {
  gemv: { M: 5, K: 7 },
  gemm: { M: 3, N: 5, K: 7 },
  batch_gemm: { B: 2, M: 3, N: 5, K: 7 },
  bilinear: { N: 3, K1: 5, K2: 4, M: 7 },
  conv1d: { N: 2, C: 3, L: 11, K: 4, R: 3, stride: 2, pad: 1 },
  conv2d: { N: 1, C: 8, H: 9, W: 7, K: 8, R: 3, S: 3, stride: 2, pad: 1, dilation: 2, groups: 4 },
  conv3d: { N: 1, C: 2, D: 5, H: 4, W: 3, K: 3, T: 3, R: 2, S: 3, pad: 1 },
  conv_transpose1d: { N: 1, C: 3, L: 5, K: 2, R: 3, stride: 2, pad: 1 },
  conv_transpose2d: { N: 1, C: 2, H: 4, W: 3, K: 3, R: 3, S: 2, stride: 2, pad: 1, dilation: 2 },
  conv_transpose3d: { N: 1, C: 2, D: 3, H: 3, W: 2, K: 2, T: 2, R: 3, S: 2, stride: 2 },
  grouped_conv2d: { N: 1, C: 8, H: 7, W: 7, K: 8, R: 3, S: 3, pad: 1, groups: 4 },
  depthwise_conv2d: { N: 1, C: 3, H: 7, W: 5, R: 3, S: 3, stride: 2, pad: 1, multiplier: 2 },
  dilated_conv2d: { N: 1, C: 2, H: 9, W: 9, K: 3, R: 3, S: 3, pad: 2, dilation: 2 },
};

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
/** floor((X + 2p - d(R-1) - 1) / s) + 1 */
const convOut = (x: number, r: number, s: number, p: number, d: number) => Math.floor((x + 2 * p - d * (r - 1) - 1) / s) + 1;
/** PyTorch ConvTranspose without output_padding: (X-1)s - 2p + d(R-1) + 1 */
const convTOut = (x: number, r: number, s: number, p: number, d: number) => (x - 1) * s - 2 * p + d * (r - 1) + 1;

function expectShapeError(fn: () => unknown, param: string, detail?: RegExp): ShapeError {
  let caught: unknown;
  try { fn(); } catch (e) { caught = e; }
  expect(caught).toBeInstanceOf(ShapeError);
  const err = caught as ShapeError;
  expect(err.name).toBe('ShapeError');
  expect(err.param).toBe(param);
  expect(err.message).toContain(`parameter ${param}`);
  if (detail) expect(err.message).toMatch(detail);
  return err;
}

describe('operator families', () => {
  it('lists the thirteen families, each with a small test shape here', () => {
    expect(opNames()).toHaveLength(13);
    expect(new Set(opNames()).size).toBe(13);
    expect([...opNames()].sort()).toEqual(Object.keys(SMALL).sort());
  });

  it.each(opNames())('%s builds on a small shape with a consistent definition', (op) => {
    const def = defineWorkload(op, SMALL[op]);
    expect(def.op).toBe(op);
    expect(Object.keys(def.params)).toEqual(opFamily(op).params.map((p) => p.name));
    expect(def.output.shape).toEqual(def.spatial.map((a) => a.extent));
    expect(def.reduce.length).toBeGreaterThan(0);
    for (const t of [...def.inputs, def.output]) expect(t.shape.every((n) => Number.isInteger(n) && n >= 1)).toBe(true);
    expect(def.flops).toBeGreaterThan(0);
    expect(def.dtype).toBe('float32');
  });
});

describe('workload keys', () => {
  it('lists every parameter in the family order with defaults filled, whatever the input order', () => {
    expect(defineWorkload('gemm', { K: 3, N: 2, M: 1 }).key).toBe('gemm(M=1,N=2,K=3,dtype=float32)');
    // The example key of DESIGN.md §3, from a shape that leaves the defaults out.
    expect(defineWorkload('conv2d', { W: 56, H: 56, C: 64, N: 1, K: 64, S: 3, R: 3, pad: 1 }).key)
      .toBe('conv2d(N=1,C=64,H=56,W=56,K=64,R=3,S=3,stride=1,pad=1,dilation=1,groups=1,dtype=float32)');
  });

  it.each(opNames())('%s round-trips through defineFromKey', (op) => {
    const def = defineWorkload(op, SMALL[op]);
    const again = defineFromKey(def.key);
    expect(again).toEqual(def);
    expect(workloadKey(op, again.params)).toBe(def.key);
  });

  it('parses a key with parameters out of order into the canonical key', () => {
    expect(defineFromKey('gemm(K=3,M=1,N=2,dtype=float32)').key).toBe('gemm(M=1,N=2,K=3,dtype=float32)');
  });

  it('refuses unparseable keys, bad values and other dtypes, naming what is wrong', () => {
    expectShapeError(() => defineFromKey('gemm M=1'), 'key', /gemm M=1/);
    expectShapeError(() => defineFromKey('gemm(M=x,N=1,K=1,dtype=float32)'), 'M', /integer/);
    expectShapeError(() => defineFromKey('gemm(M=1,N=1,K=1,dtype=float16)'), 'dtype', /float16/);
  });
});

describe('FLOP counts (multiply-add = 2)', () => {
  const flops = (op: string, shape: Record<string, number>) => defineWorkload(op, shape).flops;

  it('matrix products and bilinear', () => {
    expect(flops('gemv', { M: 5, K: 7 })).toBe(2 * 5 * 7);
    expect(flops('gemm', { M: 3, N: 5, K: 7 })).toBe(2 * 3 * 5 * 7);
    expect(flops('gemm', { M: 512, N: 512, K: 512 })).toBe(2 * 512 ** 3);
    expect(flops('batch_gemm', { B: 2, M: 3, N: 5, K: 7 })).toBe(2 * 2 * 3 * 5 * 7);
    // two multiplies and one add per (n, m, k1, k2)
    expect(flops('bilinear', { N: 3, K1: 5, K2: 4, M: 7 })).toBe(3 * 3 * 7 * 5 * 4);
  });

  it('direct convolutions: 2 * N * K * output points * C/groups * kernel points', () => {
    const c2 = SMALL.conv2d;
    const [OH, OW] = [convOut(c2.H, c2.R, 2, 1, 2), convOut(c2.W, c2.S, 2, 1, 2)];
    expect(flops('conv2d', c2)).toBe(2 * c2.N * c2.K * OH * OW * (c2.C / c2.groups) * c2.R * c2.S);
    // yolo-C4 of the benchmark list
    expect(flops('conv2d', { N: 1, C: 128, H: 56, W: 56, K: 256, R: 3, S: 3, pad: 1 })).toBe(2 * 256 * 56 * 56 * 128 * 9);
    const c1 = SMALL.conv1d;
    expect(flops('conv1d', c1)).toBe(2 * c1.N * c1.K * convOut(c1.L, c1.R, 2, 1, 1) * c1.C * c1.R);
    const c3 = SMALL.conv3d;
    const o3 = [convOut(5, 3, 1, 1, 1), convOut(4, 2, 1, 1, 1), convOut(3, 3, 1, 1, 1)];
    expect(flops('conv3d', c3)).toBe(2 * c3.N * c3.K * product(o3) * c3.C * c3.T * c3.R * c3.S);
    const g = SMALL.grouped_conv2d;
    expect(flops('grouped_conv2d', g)).toBe(2 * g.N * g.K * 7 * 7 * (g.C / g.groups) * g.R * g.S);
    const dl = SMALL.dilated_conv2d;
    const od = convOut(9, 3, 1, 2, 2);
    expect(flops('dilated_conv2d', dl)).toBe(2 * dl.N * dl.K * od * od * dl.C * dl.R * dl.S);
    const dw = SMALL.depthwise_conv2d;
    const K = dw.C * dw.multiplier;
    expect(flops('depthwise_conv2d', dw)).toBe(2 * dw.N * K * convOut(7, 3, 2, 1, 1) * convOut(5, 3, 2, 1, 1) * dw.R * dw.S);
  });

  it('transposed convolutions count only the taps that read an input (the scatter form: 2*N*C*K*input points*taps, less cropped taps)', () => {
    // Without padding or cropping every input point meets every tap exactly once.
    const plain = { N: 2, C: 3, H: 4, W: 5, K: 2, R: 3, S: 2, stride: 2 };
    expect(flops('conv_transpose2d', plain)).toBe(2 * plain.N * plain.C * plain.K * plain.H * plain.W * plain.R * plain.S);
    const p1 = { N: 1, C: 2, L: 6, K: 3, R: 3, stride: 3 };
    expect(flops('conv_transpose1d', p1)).toBe(2 * p1.N * p1.C * p1.K * p1.L * p1.R);
    // Padding crops the output: taps landing in the cropped border are not work.
    const padded = { ...plain, pad: 1 };
    expect(flops('conv_transpose2d', padded)).toBeLessThan(flops('conv_transpose2d', plain));
  });
});

describe('output shapes equal the textbook formulas', () => {
  it('conv1d/2d/3d with stride 2, pad, dilation 2 and groups 4', () => {
    const p = { stride: 2, pad: 1, dilation: 2, groups: 4 };
    // Groups are a dimension of their own (the same memory as [N, K, ..] and [K, C/G, ..]).
    expect(defineWorkload('conv1d', { N: 2, C: 8, L: 13, K: 12, R: 3, ...p }).output.shape)
      .toEqual([2, 4, 3, convOut(13, 3, 2, 1, 2)]);
    const d2 = defineWorkload('conv2d', { N: 1, C: 8, H: 11, W: 10, K: 8, R: 3, S: 2, ...p });
    expect(d2.output.shape).toEqual([1, 4, 2, convOut(11, 3, 2, 1, 2), convOut(10, 2, 2, 1, 2)]);
    expect(d2.output.shape).toEqual([1, 4, 2, 5, 5]);
    expect(d2.inputs.map((t) => t.shape)).toEqual([[1, 8, 11, 10], [4, 2, 2, 3, 2]]);
    expect(d2.spatial.map((a) => a.name)).toEqual(['n', 'g', 'k', 'h', 'w']);
    const d3 = defineWorkload('conv3d', { N: 1, C: 4, D: 7, H: 6, W: 5, K: 4, T: 3, R: 3, S: 1, ...p });
    expect(d3.output.shape).toEqual([1, 4, 1, convOut(7, 3, 2, 1, 2), convOut(6, 3, 2, 1, 2), convOut(5, 1, 2, 1, 2)]);
    expect(defineWorkload('grouped_conv2d', { N: 1, C: 8, H: 9, W: 9, K: 8, R: 3, S: 3, ...p }).output.shape)
      .toEqual([1, 4, 2, 4, 4]);
    expect(defineWorkload('conv2d', { N: 1, C: 8, H: 11, W: 10, K: 8, R: 3, S: 2, stride: 2 }).output.shape).toEqual([1, 8, 5, 5]);
    expect(defineWorkload('depthwise_conv2d', { N: 1, C: 4, H: 9, W: 8, R: 3, S: 3, stride: 2, pad: 1, dilation: 2, multiplier: 2 }).output.shape)
      .toEqual([1, 8, convOut(9, 3, 2, 1, 2), convOut(8, 3, 2, 1, 2)]);
  });

  it('transposed conv1d/2d/3d with stride 2, pad and dilation 2', () => {
    const p = { stride: 2, pad: 1, dilation: 2 };
    expect(defineWorkload('conv_transpose1d', { N: 1, C: 3, L: 5, K: 2, R: 3, ...p }).output.shape)
      .toEqual([1, 2, convTOut(5, 3, 2, 1, 2)]);
    const d2 = defineWorkload('conv_transpose2d', { N: 1, C: 3, H: 4, W: 5, K: 2, R: 3, S: 2, ...p });
    expect(d2.output.shape).toEqual([1, 2, convTOut(4, 3, 2, 1, 2), convTOut(5, 2, 2, 1, 2)]);
    expect(d2.output.shape).toEqual([1, 2, 9, 9]);
    expect(d2.inputs.map((t) => t.shape)).toEqual([[1, 3, 4, 5], [3, 2, 3, 2]]);
    expect(defineWorkload('conv_transpose3d', { N: 1, C: 2, D: 3, H: 4, W: 2, K: 2, T: 2, R: 3, S: 1, ...p }).output.shape)
      .toEqual([1, 2, convTOut(3, 2, 2, 1, 2), convTOut(4, 3, 2, 1, 2), convTOut(2, 1, 2, 1, 2)]);
  });
});

describe('bad input is refused with an error naming the parameter', () => {
  it('an unknown operator lists the known ones', () => {
    let caught: unknown;
    try { defineWorkload('conv4d', { N: 1 }); } catch (e) { caught = e; }
    expect(caught).toBeInstanceOf(UnknownOpError);
    expect((caught as Error).name).toBe('UnknownOpError');
    expect((caught as Error).message).toContain("'conv4d'");
    for (const name of opNames()) expect((caught as Error).message).toContain(name);
    expect(() => defineFromKey('conv4d(N=1,dtype=float32)')).toThrow(UnknownOpError);
  });

  it('a missing parameter, including ones required only by the specialised families', () => {
    expectShapeError(() => defineWorkload('gemm', { M: 4, N: 4 }), 'K', /missing/);
    expectShapeError(() => defineWorkload('grouped_conv2d', { N: 1, C: 8, H: 7, W: 7, K: 8, R: 3, S: 3 }), 'groups', /missing/);
    expectShapeError(() => defineWorkload('dilated_conv2d', { N: 1, C: 2, H: 9, W: 9, K: 3, R: 3, S: 3 }), 'dilation', /missing/);
  });

  it('an unknown parameter, listing the expected ones', () => {
    const err = expectShapeError(() => defineWorkload('gemm', { M: 4, N: 4, K: 4, Q: 1 }), 'Q', /unknown/);
    expect(err.message).toMatch(/M, N, K/);
    // depthwise derives K from C and the multiplier
    expectShapeError(() => defineWorkload('depthwise_conv2d', { ...SMALL.depthwise_conv2d, K: 6 }), 'K', /unknown/);
  });

  it('a non-integer value', () => {
    expectShapeError(() => defineWorkload('gemm', { M: 1.5, N: 4, K: 4 }), 'M', /integer.*1\.5/);
    expectShapeError(() => defineWorkload('conv2d', { ...SMALL.conv2d, stride: Number.NaN }), 'stride', /integer/);
  });

  it('a zero extent, a zero stride or dilation, a negative pad', () => {
    expectShapeError(() => defineWorkload('gemm', { M: 4, N: 0, K: 4 }), 'N', />= 1, got 0/);
    expectShapeError(() => defineWorkload('conv2d', { ...SMALL.conv2d, stride: 0 }), 'stride', />= 1/);
    expectShapeError(() => defineWorkload('conv2d', { ...SMALL.conv2d, dilation: 0 }), 'dilation', />= 1/);
    expectShapeError(() => defineWorkload('conv2d', { ...SMALL.conv2d, pad: -1 }), 'pad', />= 0, got -1/);
    expectShapeError(() => defineWorkload('conv_transpose2d', { ...SMALL.conv_transpose2d, pad: -2 }), 'pad', />= 0/);
    expectShapeError(() => defineWorkload('depthwise_conv2d', { ...SMALL.depthwise_conv2d, multiplier: 0 }), 'multiplier', />= 1/);
  });

  it('an empty output: a kernel larger than the padded input', () => {
    // 2 + 2*1 - (7 - 1) - 1 < 0
    expectShapeError(() => defineWorkload('conv2d', { N: 1, C: 1, H: 2, W: 8, K: 1, R: 7, S: 3, pad: 1 }), 'H', /empty/);
    expectShapeError(() => defineWorkload('conv2d', { N: 1, C: 1, H: 8, W: 3, K: 1, R: 3, S: 3, dilation: 2 }), 'W', /empty/);
    expectShapeError(() => defineWorkload('conv1d', { N: 1, C: 1, L: 3, K: 1, R: 4 }), 'L', /empty/);
    expectShapeError(() => defineWorkload('depthwise_conv2d', { N: 1, C: 1, H: 2, W: 8, R: 3, S: 3 }), 'H', /empty/);
    expectShapeError(() => defineWorkload('depthwise_conv2d', { N: 1, C: 1, H: 8, W: 2, R: 3, S: 3 }), 'W', /empty/);
    // transposed: (1-1)*1 - 2*1 + 1*(1-1) + 1 = -1
    expectShapeError(() => defineWorkload('conv_transpose2d', { N: 1, C: 1, H: 1, W: 1, K: 1, R: 1, S: 1, pad: 1 }), 'pad', /empty/);
  });

  it('groups that do not divide the channels', () => {
    expectShapeError(() => defineWorkload('conv2d', { ...SMALL.conv2d, C: 6 }), 'groups', /C=6/);
    expectShapeError(() => defineWorkload('grouped_conv2d', { ...SMALL.grouped_conv2d, K: 6 }), 'groups', /K=6/);
    expectShapeError(() => defineWorkload('conv1d', { ...SMALL.conv1d, groups: 2 }), 'groups', /C=3/);
  });

  it('tensors over the memory cap', () => {
    // 3 * 40000^2 floats = 19.2 GB against the default 2 GiB
    expectShapeError(() => defineWorkload('gemm', { M: 40000, N: 40000, K: 40000 }), 'shape', /over the cap of 2\.0 GiB/);
    const small = { M: 64, N: 64, K: 64 }; // 48 KiB in all
    expect(() => defineWorkload('gemm', small, { memoryCapBytes: 3 * 64 * 64 * 4 })).not.toThrow();
    expectShapeError(() => defineWorkload('gemm', small, { memoryCapBytes: 3 * 64 * 64 * 4 - 1 }), 'shape', /A\[64x64\]/);
    expectShapeError(() => defineWorkload('gemm', { M: 2 ** 31, N: 1, K: 1 }), 'M', /too large/);
  });
});
