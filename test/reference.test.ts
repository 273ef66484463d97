// The reference semantics are confirmed independently of the C path: evaluate() interprets each
// operator's IR body, and this file recomputes every family with direct nested loops written from
// the textbook / PyTorch definition of the operator (not from the IR), on tiny shapes with odd and
// prime extents, stride 2, padding, dilation 2, groups and channel multipliers.
import { describe, expect, it } from 'vitest';
import type { ComputeDef } from '../tensor/compute.ts';
import { inputValue } from '../tensor/data.ts';
import { add, float, int, load, select, lt, v, div, mod, sub, eq } from '../tensor/ir.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { EvaluationError, evaluate, makeInputs } from '../tensor/reference.ts';

/** Row-major reader over a flat array: at(i0, i1, ...) */
function tensor(data: Float32Array, shape: number[]) {
  return (...index: number[]): number => {
    let flat = 0;
    index.forEach((x, d) => {
      if (x < 0 || x >= shape[d]) throw new Error(`test bug: index ${index} outside ${shape}`);
      flat = flat * shape[d] + x;
    });
    return data[flat];
  };
}

/** Inputs the naive code reads, built from the deterministic data independently of makeInputs. */
function rawInputs(shapes: number[][]): Float32Array[] {
  return shapes.map((shape, t) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = inputValue(t, i);
    return a;
  });
}

function expectClose(actual: Float32Array, expected: number[]) {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  expect(worst).toBeLessThanOrEqual(1e-5);
  // A comparison of zeros would prove nothing: the data must produce varied, non-zero outputs.
  expect(new Set(expected).size).toBeGreaterThan(Math.min(3, expected.length - 1));
}

/** Run both sides: evaluate(def) and the naive implementation over the same inputs. */
function check(def: ComputeDef, naive: (inputs: Float32Array[]) => { shape: number[]; out: number[] }) {
  const inputs = rawInputs(def.inputs.map((t) => t.shape));
  const { shape, out } = naive(inputs);
  expect(def.output.shape).toEqual(shape);
  expectClose(evaluate(def), out);
}

// ---- matrix products --------------------------------------------------------------------------

function naiveGemm(A: Float32Array, B: Float32Array, M: number, N: number, K: number, batch = 1) {
  const out: number[] = [];
  for (let b = 0; b < batch; b++)
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[(b * M + m) * K + k] * B[(b * K + k) * N + n];
        out.push(s);
      }
  return out;
}

// ---- convolutions (3-D; 1-D and 2-D are 3-D with unit leading dims, no pad/stride there) ----

interface Conv3 { N: number; C: number; K: number; in: number[]; ker: number[]; stride: number[]; pad: number[]; dil: number[]; groups: number }

const per3 = (v1: number, rank: number, unit: number) => [...Array(3 - rank).fill(unit), ...Array(rank).fill(v1)];

/** PyTorch Conv3d: O[n,k,o] = sum_{c<C/g, taps} I[n, g(k)*C/g + c, o*s - p + tap*d] * W[k,c,taps], zero outside. */
function naiveConv(p: Conv3, I: Float32Array, W: Float32Array) {
  const cg = p.C / p.groups, kg = p.K / p.groups;
  const os = p.in.map((x, i) => Math.floor((x + 2 * p.pad[i] - p.dil[i] * (p.ker[i] - 1) - 1) / p.stride[i]) + 1);
  const at = tensor(I, [p.N, p.C, ...p.in]);
  const w = tensor(W, [p.K, cg, ...p.ker]);
  const out: number[] = [];
  for (let n = 0; n < p.N; n++)
    for (let k = 0; k < p.K; k++)
      for (let od = 0; od < os[0]; od++)
        for (let oh = 0; oh < os[1]; oh++)
          for (let ow = 0; ow < os[2]; ow++) {
            let s = 0;
            for (let c = 0; c < cg; c++)
              for (let t = 0; t < p.ker[0]; t++)
                for (let r = 0; r < p.ker[1]; r++)
                  for (let q = 0; q < p.ker[2]; q++) {
                    const id = od * p.stride[0] - p.pad[0] + t * p.dil[0];
                    const ih = oh * p.stride[1] - p.pad[1] + r * p.dil[1];
                    const iw = ow * p.stride[2] - p.pad[2] + q * p.dil[2];
                    if (id < 0 || id >= p.in[0] || ih < 0 || ih >= p.in[1] || iw < 0 || iw >= p.in[2]) continue;
                    s += at(n, Math.floor(k / kg) * cg + c, id, ih, iw) * w(k, c, t, r, q);
                  }
            out.push(s);
          }
  return { os, out };
}

/** Transposed conv by scattering: each input pixel i and tap r adds I*W to output i*s - p + r*d. */
function naiveConvTranspose(p: Conv3, I: Float32Array, W: Float32Array) {
  const os = p.in.map((x, i) => (x - 1) * p.stride[i] - 2 * p.pad[i] + p.dil[i] * (p.ker[i] - 1) + 1);
  const at = tensor(I, [p.N, p.C, ...p.in]);
  const w = tensor(W, [p.C, p.K, ...p.ker]);
  const out = new Array<number>(p.N * p.K * os[0] * os[1] * os[2]).fill(0);
  const flat = (n: number, k: number, d: number, h: number, x: number) => (((n * p.K + k) * os[0] + d) * os[1] + h) * os[2] + x;
  for (let n = 0; n < p.N; n++)
    for (let c = 0; c < p.C; c++)
      for (let id = 0; id < p.in[0]; id++)
        for (let ih = 0; ih < p.in[1]; ih++)
          for (let iw = 0; iw < p.in[2]; iw++)
            for (let k = 0; k < p.K; k++)
              for (let t = 0; t < p.ker[0]; t++)
                for (let r = 0; r < p.ker[1]; r++)
                  for (let q = 0; q < p.ker[2]; q++) {
                    const od = id * p.stride[0] - p.pad[0] + t * p.dil[0];
                    const oh = ih * p.stride[1] - p.pad[1] + r * p.dil[1];
                    const ow = iw * p.stride[2] - p.pad[2] + q * p.dil[2];
                    if (od < 0 || od >= os[0] || oh < 0 || oh >= os[1] || ow < 0 || ow >= os[2]) continue;
                    out[flat(n, k, od, oh, ow)] += at(n, c, id, ih, iw) * w(c, k, t, r, q);
                  }
  return { os, out };
}

type Shape = Record<string, number>;
const INPUT_DIMS = { 1: ['L'], 2: ['H', 'W'], 3: ['D', 'H', 'W'] } as const;
const KERNEL_DIMS = { 1: ['R'], 2: ['R', 'S'], 3: ['T', 'R', 'S'] } as const;

/** The operator's shape as a 3-D problem: unit leading dims with stride 1, pad 0, dilation 1. */
function as3d(rank: 1 | 2 | 3, s: Shape): Conv3 {
  return {
    N: s.N, C: s.C, K: s.K, groups: s.groups ?? 1,
    in: [...Array(3 - rank).fill(1), ...INPUT_DIMS[rank].map((d) => s[d])],
    ker: [...Array(3 - rank).fill(1), ...KERNEL_DIMS[rank].map((d) => s[d])],
    stride: per3(s.stride ?? 1, rank, 1), pad: per3(s.pad ?? 0, rank, 0), dil: per3(s.dilation ?? 1, rank, 1),
  };
}

function checkConv(op: string, rank: 1 | 2 | 3, shape: Shape) {
  const p = as3d(rank, shape);
  check(defineWorkload(op, shape), ([I, W]) => {
    const { os, out } = naiveConv(p, I, W);
    // Grouped: the same memory, with the group as a dimension of its own (O[N,G,K/G,..]).
    const channels = p.groups > 1 ? [p.groups, p.K / p.groups] : [p.K];
    return { shape: [p.N, ...channels, ...os.slice(3 - rank)], out };
  });
}

function checkConvTranspose(rank: 1 | 2 | 3, shape: Shape) {
  const p = as3d(rank, shape);
  check(defineWorkload(`conv_transpose${rank}d`, shape), ([I, W]) => {
    const { os, out } = naiveConvTranspose(p, I, W);
    return { shape: [p.N, p.K, ...os.slice(3 - rank)], out };
  });
}

describe('matrix products and bilinear', () => {
  it('gemv: y[m] = sum_k A[m,k] x[k]', () => {
    check(defineWorkload('gemv', { M: 5, K: 13 }), ([A, X]) => {
      const out: number[] = [];
      for (let m = 0; m < 5; m++) {
        let s = 0;
        for (let k = 0; k < 13; k++) s += A[m * 13 + k] * X[k];
        out.push(s);
      }
      return { shape: [5], out };
    });
  });

  it.each([[3, 5, 7], [1, 11, 2], [8, 1, 13]])('gemm M=%i N=%i K=%i', (M, N, K) => {
    check(defineWorkload('gemm', { M, N, K }), ([A, B]) => ({ shape: [M, N], out: naiveGemm(A, B, M, N, K) }));
  });

  it('batch_gemm: each batch is an independent gemm', () => {
    check(defineWorkload('batch_gemm', { B: 3, M: 2, N: 5, K: 7 }), ([A, B]) => ({ shape: [3, 2, 5], out: naiveGemm(A, B, 2, 5, 7, 3) }));
  });

  it('bilinear: out[n,m] = sum A[n,k1] B[n,k2] W[m,k1,k2]', () => {
    const [N, K1, K2, M] = [3, 5, 4, 7];
    check(defineWorkload('bilinear', { N, K1, K2, M }), ([A, B, W]) => {
      const out: number[] = [];
      for (let n = 0; n < N; n++)
        for (let m = 0; m < M; m++) {
          let s = 0;
          for (let k1 = 0; k1 < K1; k1++)
            for (let k2 = 0; k2 < K2; k2++) s += A[n * K1 + k1] * B[n * K2 + k2] * W[(m * K1 + k1) * K2 + k2];
          out.push(s);
        }
      return { shape: [N, M], out };
    });
  });
});

describe('direct convolutions', () => {
  it.each<Shape>([
    { N: 2, C: 3, L: 13, K: 4, R: 3 },
    { N: 1, C: 2, L: 11, K: 3, R: 3, stride: 2, pad: 1 },
    { N: 1, C: 2, L: 7, K: 2, R: 3, pad: 2, dilation: 2 },
    { N: 1, C: 6, L: 9, K: 9, R: 2, stride: 2, pad: 1, groups: 3 },
  ])('conv1d %o', (s) => checkConv('conv1d', 1, s));

  it.each<Shape>([
    { N: 1, C: 3, H: 7, W: 5, K: 4, R: 3, S: 3 },
    { N: 2, C: 2, H: 9, W: 7, K: 3, R: 3, S: 2, stride: 2, pad: 1 },
    { N: 1, C: 2, H: 7, W: 11, K: 3, R: 3, S: 3, pad: 2, dilation: 2 },
    { N: 1, C: 8, H: 7, W: 5, K: 8, R: 3, S: 3, stride: 2, pad: 1, groups: 4 },
    { N: 1, C: 3, H: 5, W: 5, K: 2, R: 5, S: 1, pad: 3 },
  ])('conv2d %o', (s) => checkConv('conv2d', 2, s));

  it.each<Shape>([
    { N: 1, C: 2, D: 5, H: 4, W: 3, K: 3, T: 3, R: 2, S: 3, pad: 1 },
    { N: 1, C: 4, D: 7, H: 5, W: 5, K: 2, T: 3, R: 3, S: 1, stride: 2, pad: 1, dilation: 2, groups: 2 },
  ])('conv3d %o', (s) => checkConv('conv3d', 3, s));

  it.each<Shape>([
    { N: 1, C: 8, H: 7, W: 7, K: 8, R: 3, S: 3, pad: 1, groups: 4 },
    { N: 2, C: 4, H: 9, W: 6, K: 6, R: 3, S: 2, stride: 2, pad: 1, groups: 2 },
    { N: 1, C: 8, H: 5, W: 7, K: 4, R: 1, S: 1, groups: 4 },
  ])('grouped_conv2d %o', (s) => checkConv('grouped_conv2d', 2, s));

  it.each<Shape>([
    { N: 1, C: 2, H: 9, W: 9, K: 3, R: 3, S: 3, pad: 2, dilation: 2 },
    { N: 1, C: 3, H: 13, W: 11, K: 2, R: 3, S: 2, stride: 2, pad: 1, dilation: 3 },
  ])('dilated_conv2d %o', (s) => checkConv('dilated_conv2d', 2, s));
});

describe('depthwise conv2d', () => {
  /** Output channel k reads input channel floor(k / multiplier) with its own filter W[k]. */
  function naiveDepthwise(s: Shape, I: Float32Array, W: Float32Array) {
    const { N, C, H, W: Wd, R, S } = s;
    const [stride, pad, dil, mult] = [s.stride ?? 1, s.pad ?? 0, s.dilation ?? 1, s.multiplier ?? 1];
    const K = C * mult;
    const OH = Math.floor((H + 2 * pad - dil * (R - 1) - 1) / stride) + 1;
    const OW = Math.floor((Wd + 2 * pad - dil * (S - 1) - 1) / stride) + 1;
    const at = tensor(I, [N, C, H, Wd]), w = tensor(W, [K, R, S]);
    const out: number[] = [];
    for (let n = 0; n < N; n++)
      for (let k = 0; k < K; k++)
        for (let oh = 0; oh < OH; oh++)
          for (let ow = 0; ow < OW; ow++) {
            let sum = 0;
            for (let r = 0; r < R; r++)
              for (let q = 0; q < S; q++) {
                const ih = oh * stride - pad + r * dil, iw = ow * stride - pad + q * dil;
                if (ih >= 0 && ih < H && iw >= 0 && iw < Wd) sum += at(n, Math.floor(k / mult), ih, iw) * w(k, r, q);
              }
            out.push(sum);
          }
    return { shape: [N, K, OH, OW], out };
  }

  it.each<Shape>([
    { N: 1, C: 3, H: 7, W: 5, R: 3, S: 3, stride: 2, pad: 1, multiplier: 2 },
    { N: 2, C: 2, H: 9, W: 9, R: 3, S: 3, pad: 2, dilation: 2 },
    { N: 1, C: 5, H: 6, W: 7, R: 2, S: 3, multiplier: 3 },
  ])('depthwise_conv2d %o', (s) => {
    check(defineWorkload('depthwise_conv2d', s), ([I, W]) => naiveDepthwise(s, I, W));
  });
});

describe('transposed convolutions (scatter formulation vs the gather/guard definition)', () => {
  it.each<Shape>([
    { N: 1, C: 3, L: 5, K: 2, R: 3 },
    { N: 2, C: 2, L: 7, K: 3, R: 3, stride: 2, pad: 1 },
    { N: 1, C: 2, L: 5, K: 2, R: 4, stride: 2 },
    { N: 1, C: 2, L: 4, K: 2, R: 3, stride: 3, pad: 2, dilation: 2 },
  ])('conv_transpose1d %o', (s) => checkConvTranspose(1, s));

  it.each<Shape>([
    { N: 1, C: 2, H: 4, W: 3, K: 3, R: 3, S: 3, stride: 2, pad: 1 },
    { N: 1, C: 3, H: 5, W: 3, K: 2, R: 3, S: 2, stride: 2 },
    { N: 1, C: 2, H: 3, W: 4, K: 2, R: 3, S: 3, stride: 2, pad: 1, dilation: 2 },
    { N: 2, C: 2, H: 3, W: 3, K: 2, R: 2, S: 3, pad: 1 },
  ])('conv_transpose2d %o', (s) => checkConvTranspose(2, s));

  it.each<Shape>([
    { N: 1, C: 2, D: 3, H: 3, W: 2, K: 2, T: 2, R: 3, S: 2, stride: 2 },
    { N: 1, C: 2, D: 2, H: 3, W: 3, K: 2, T: 3, R: 2, S: 3, stride: 2, pad: 1, dilation: 2 },
  ])('conv_transpose3d %o', (s) => checkConvTranspose(3, s));
});

describe('the interpreter itself', () => {
  const gemm = defineWorkload('gemm', { M: 2, N: 3, K: 4 });

  it('makeInputs gives the deterministic data in declaration order', () => {
    const [A, B] = makeInputs(gemm);
    expect(A.length).toBe(8);
    expect(B.length).toBe(12);
    expect(Array.from(B)).toEqual(Array.from({ length: 12 }, (_, i) => inputValue(1, i)));
  });

  it('evaluates on caller-supplied inputs', () => {
    const A = Float32Array.from([1, 0, 0, 0, 0, 1, 0, 0]); // rows e0 and e1
    const B = Float32Array.from({ length: 12 }, (_, i) => i);
    expect(Array.from(evaluate(gemm, [A, B]))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('refuses inputs of the wrong number or size', () => {
    expect(() => evaluate(gemm, [new Float32Array(8)])).toThrow(/expected 2 inputs/);
    expect(() => evaluate(gemm, [new Float32Array(8), new Float32Array(11)])).toThrow(/input B needs 12/);
  });

  it('an unguarded out-of-bounds load is an EvaluationError, a guarded one reads zero', () => {
    const base = defineWorkload('gemv', { M: 3, K: 2 });
    const shifted = { ...base, body: load('X', [add(v('k'), int(1))]) };
    expect(() => evaluate(shifted)).toThrow(EvaluationError);
    const guarded = { ...base, body: select(lt(add(v('k'), int(1)), int(2)), load('X', [add(v('k'), int(1))]), float(0)) };
    const X = makeInputs(base)[1];
    expect(Array.from(evaluate(guarded))).toEqual([X[1], X[1], X[1]]);
  });

  it('integer division and modulo floor towards minus infinity (foldInt semantics)', () => {
    // out[i] = X[(i - 3) / 2 + 2] where (i - 3) % 2 == 0; i = 1 gives (-2)/2 = -1 → X[1]; i = 0 is odd → 0.
    const base = defineWorkload('gemv', { M: 5, K: 4 });
    const q = sub(v('m'), int(3));
    const def = { ...base, reduce: [], body: select(eq(mod(q, int(2)), int(0)), load('X', [add(div(q, int(2)), int(2))]), float(0)) };
    const X = makeInputs(base)[1];
    // m=0: q=-3, -3 mod 2 = 1 → 0; m=1: q=-2 → X[1]; m=2: q=-1 → 0; m=3: q=0 → X[2]; m=4: q=1 → 0
    expect(Array.from(evaluate(def))).toEqual([0, X[1], 0, X[2], 0]);
  });
});
