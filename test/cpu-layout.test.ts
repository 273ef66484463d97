// The CPU template's layout knobs: which axes and inputs the compute allows them on (read from the
// body, not the operator's name), the padding and packing stages element by element, the guard a
// padding stage removes, and bad layout configs refused with the knob named.
import { describe, expect, it } from 'vitest';
import { capSimd, simdFromFlags } from '../agent/backends/cpu/host-simd.ts';
import { InstantiationError } from '../tensor/errors.ts';
import { statements, type Expr, type Stmt } from '../tensor/ir.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';
import { makeInputs, evaluate } from '../tensor/reference.ts';
import { packableInputs, stageableInputs, vectorAxes } from '../tensor/templates/cpu-layout.ts';
import { cpuTemplate } from '../tensor/templates/cpu.ts';
import { leastOperandLoadsPerFma, operandLoadsPerFma } from '../tensor/templates/cpu-operand-loads.ts';
import type { Config } from '../tensor/templates/template.ts';
import { runNest } from './helpers/run-nest.ts';

const conv = (extra: Record<string, number> = {}) =>
  defineWorkload('conv2d', { N: 1, C: 3, H: 5, W: 6, K: 4, R: 3, S: 3, stride: 1, pad: 1, ...extra });
const convConfig = (extra: Config = {}): Config => ({
  'split.n': [1, 1, 1, 1], 'split.k': [1, 1, 1, 4], 'split.h': [1, 1, 5, 1], 'split.w': [1, 1, 2, 3],
  'split.c': [1, 1, 3], 'split.r': [1, 1, 3], 'split.s': [1, 1, 3], reorder: 1, unroll: [0, 0], ...extra,
});
const loadsIn = (s: Stmt): Expr[] => statements(s).flatMap((st) => (st.k === 'store' ? [st.value] : []));
const hasSelect = (e: Expr): boolean =>
  e.k === 'select' || (e.k === 'bin' && (hasSelect(e.a) || hasSelect(e.b)));

describe('layout knobs follow the compute', () => {
  it('vector axes: contiguous or invariant loads, or strided only in constant inputs', () => {
    expect(vectorAxes(defineWorkload('gemm', { M: 8, N: 8, K: 8 }))).toEqual([1]);         // n; m strides A, an activation
    expect(vectorAxes(conv())).toEqual([1, 3]);                                             // k (W packs), w; n has extent 1
    expect(vectorAxes(conv({ stride: 2 }))).toEqual([1]);                                   // w strides the input by 2
    // groups are an axis: the channel within a group (k) reads no input channel, and packs W
    const grouped = defineWorkload('grouped_conv2d', { N: 1, C: 8, H: 5, W: 6, K: 8, R: 3, S: 3, pad: 1, groups: 4 });
    expect(vectorAxes(grouped).map((i) => grouped.spatial[i].name)).toEqual(['k', 'w']);
    expect(packableInputs(grouped)).toEqual(['W']);
  });

  it('packable inputs are the constant ones a vector axis indexes on its own', () => {
    expect(packableInputs(conv())).toEqual(['W']);
    expect(packableInputs(defineWorkload('gemm', { M: 8, N: 8, K: 8 }))).toEqual(['B']);
    // depthwise: k also strides the input, so it is no vector axis and nothing packs W along it.
    expect(packableInputs(defineWorkload('depthwise_conv2d', { N: 1, C: 4, H: 5, W: 5, R: 3, S: 3, pad: 1 }))).toEqual([]);
  });

  it('stageable inputs: guards made only of bounds checks, with the padding that removes them', () => {
    expect(stageableInputs(conv())).toEqual([{ tensor: 'I', low: [0, 0, 1, 1], shape: [1, 3, 7, 8] }]);
    expect(stageableInputs(conv({ pad: 0 }))).toEqual([]);
    // a strided transposed convolution also guards divisibility: no padded copy removes that
    expect(stageableInputs(defineWorkload('conv_transpose2d', { N: 1, C: 2, H: 4, W: 4, K: 2, R: 3, S: 3, stride: 2, pad: 1 }))).toEqual([]);
  });

  it('the host ISA comes from the CPU flags', () => {
    expect(simdFromFlags(['fpu', 'sse2', 'avx', 'avx2', 'avx512f'])).toEqual({ isa: 'avx512f', vectorWidth: 16, vectorRegisters: 32 });
    expect(simdFromFlags(['sse2', 'avx', 'avx2', 'fma'])).toEqual({ isa: 'avx2', vectorWidth: 8, vectorRegisters: 16 });
    expect(simdFromFlags([])).toEqual({ isa: 'none', vectorWidth: 1, vectorRegisters: 16 });
  });

  it('an ISA cap drops the wider extensions and names the gcc flag that keeps -march=native below it', () => {
    const zen5 = ['sse2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx_vnni'];
    expect(capSimd(zen5, 'avx2')).toEqual({ simd: { isa: 'avx2', vectorWidth: 8, vectorRegisters: 16 }, flags: ['sse2', 'avx', 'avx2', 'fma', 'avx_vnni'], compilerFlags: ['-mno-avx512f'] });
    expect(capSimd(zen5, 'avx512f').compilerFlags).toEqual([]);
    expect(capSimd(zen5, 'sse2')).toMatchObject({ simd: { isa: 'sse2', vectorWidth: 4 }, compilerFlags: ['-mno-avx'] });
    expect(() => capSimd(zen5, 'avx3')).toThrow(/ISA 'avx3' is not one of avx512f, avx2, avx, sse2/);
    expect(() => capSimd(['sse2', 'avx', 'avx2'], 'avx512f')).toThrow(/this CPU has no avx512f \(its widest is avx2\)/);
  });
});

describe('padding and packing stages', () => {
  const def = conv();
  const inputs = makeInputs(def);

  it('pad.I = 1: the padded copy has the input inside, zeros on the borders, and no guard is left', () => {
    const nest = cpuTemplate.lower(def, convConfig({ 'pad.I': 1 }));
    const buffers = runNest(def, nest, inputs);
    const padded = buffers.get('I_pad')!;
    expect(padded.shape).toEqual([1, 3, 7, 8]);
    for (let c = 0; c < 3; c++) for (let y = 0; y < 7; y++) for (let x = 0; x < 8; x++) {
      const inside = y >= 1 && y <= 5 && x >= 1 && x <= 6;
      const expected = inside ? inputs[0][(c * 5 + (y - 1)) * 6 + (x - 1)] : 0;
      expect(padded.data[(c * 7 + y) * 8 + x]).toBe(expected);
    }
    const accumulations = statements(nest).filter((s) => s.k === 'store' && s.tensor === 'acc' && s.accumulate);
    expect(accumulations.length).toBeGreaterThan(0);
    for (const s of accumulations) expect(hasSelect((s as { value: Expr }).value)).toBe(false);
    // without the stage the guard stays in the innermost loop
    expect(loadsIn(cpuTemplate.lower(def, convConfig())).some(hasSelect)).toBe(true);
    expect(Array.from(buffers.get('O')!.data)).toEqual(Array.from(evaluate(def, inputs)));
  });

  it('pack.W = 1: blocks of the vector axis, innermost, zeros past a partial last block', () => {
    const wide = defineWorkload('conv2d', { N: 1, C: 2, H: 4, W: 4, K: 6, R: 3, S: 3, pad: 1 });
    const config = convConfig({ 'split.k': [2, 1, 1, 4], 'split.h': [1, 1, 4, 1], 'split.w': [1, 1, 1, 4], 'split.c': [1, 1, 2], vector: 1, 'pack.W': 1, 'pad.I': 1 });
    const wideInputs = makeInputs(wide);
    const buffers = runNest(wide, cpuTemplate.lower(wide, config), wideInputs);
    const packed = buffers.get('W_packed')!;
    expect(packed.shape).toEqual([2, 2, 3, 3, 4]);   // [K/4 rounded up, C, R, S, 4]
    const W = wideInputs[1];
    for (let b = 0; b < 2; b++) for (let c = 0; c < 2; c++) for (let t = 0; t < 9; t++) for (let l = 0; l < 4; l++) {
      const k = b * 4 + l;
      expect(packed.data[((b * 2 + c) * 9 + t) * 4 + l]).toBe(k < 6 ? W[(k * 2 + c) * 9 + t] : 0);
    }
    expect(Array.from(buffers.get('O')!.data)).toEqual(Array.from(evaluate(wide, wideInputs)));
    // packing is prepare work: it is no part of the timed kernel's statements
    const nest = cpuTemplate.lower(wide, config);
    const prepares = statements(nest).filter((s) => s.k === 'prepare');
    expect(prepares).toHaveLength(1);
    expect(statements((prepares[0] as { body: Stmt }).body).some((s) => s.k === 'store' && s.tensor === 'W_packed')).toBe(true);
  });
});

describe('the register tile meets memory in the output\'s own order', () => {
  /** Loop variables around the store into `tensor`, outermost first. */
  const loopsAround = (s: Stmt, tensor: string, outer: string[] = []): string[] | null => {
    if (s.k === 'store') return s.tensor === tensor ? outer : null;
    if (s.k === 'loop') return loopsAround(s.body, tensor, [...outer, s.v]);
    const children: Stmt[] = s.k === 'seq' ? s.body : s.k === 'if' ? [s.then, ...(s.else ? [s.else] : [])] : s.k === 'prepare' ? [s.body] : [];
    for (const c of children) { const found = loopsAround(c, tensor, outer); if (found) return found; }
    return null;
  };

  it('vector axis k: the tile multiplies along k innermost, but writes rows of w innermost', () => {
    const wide = defineWorkload('conv2d', { N: 1, C: 2, H: 4, W: 8, K: 8, R: 3, S: 3, pad: 1 });
    const config = convConfig({ 'split.k': [1, 1, 1, 8], 'split.h': [1, 1, 4, 1], 'split.w': [1, 1, 2, 4], 'split.c': [1, 1, 2], vector: 1, 'pack.W': 1, 'pad.I': 1 });
    const nest = cpuTemplate.lower(wide, config);
    const writes = loopsAround(nest, 'O')!;
    expect(writes.slice(-2)).toEqual(['k_3', 'w_3']);     // one output row (contiguous w) at a time
    const multiplies = (st: Stmt): string[] | null => {
      if (st.k === 'store') return st.tensor === 'acc' && st.accumulate ? [] : null;
      if (st.k === 'loop') { const inner = multiplies(st.body); return inner && [st.v, ...inner]; }
      for (const c of st.k === 'seq' ? st.body : st.k === 'if' ? [st.then] : []) { const found = multiplies(c); if (found) return found; }
      return null;
    };
    expect(multiplies(nest)!.slice(-2)).toEqual(['w_3', 'k_3']);   // lanes of k contiguous in registers
    const inputs = makeInputs(wide);
    expect(Array.from(runNest(wide, nest, inputs).get('O')!.data)).toEqual(Array.from(evaluate(wide, inputs)));
    // reorder 0 accumulates into the output across outer reduce iterations: it reads it row-wise too
    const r0 = cpuTemplate.lower(wide, { ...config, 'split.c': [2, 1, 1], reorder: 0 });
    const reads = statements(r0).filter((s) => s.k === 'store' && s.tensor === 'acc' && !s.accumulate);
    expect(reads.length).toBeGreaterThan(0);
    expect(Array.from(runNest(wide, r0, inputs).get('O')!.data)).toEqual(Array.from(evaluate(wide, inputs)));
  });
});

describe('edge tiles run the full-size register code where that is safe', () => {
  const odd = defineWorkload('gemm', { M: 13, N: 21, K: 7 });
  const gemmConfig = (extra: Config = {}): Config => ({
    'split.m': [4, 1, 1, 4], 'split.n': [2, 1, 1, 16], 'split.k': [1, 1, 7], reorder: 1, unroll: [0, 0], vector: 1, 'pack.B': 1, ...extra,
  });
  /** S3 loops (the register tile's) whose extent is only known at run time. */
  const boundedTileLoops = (nest: Stmt) => statements(nest).filter((st) => st.k === 'loop' && /_3$/.test(st.v) && st.extent.k !== 'int');
  const inputs = makeInputs(odd);

  it('m is clamped (the last tile moves back), n is masked (packed B is zero past 21): no bounded loop', () => {
    const nest = cpuTemplate.lower(odd, gemmConfig());
    expect(boundedTileLoops(nest)).toEqual([]);
    const moved = statements(nest).filter((st) => st.k === 'let' && st.name === 'm_b');
    expect(moved).toHaveLength(2);                                    // the tile's base, and the clamped one
    expect(Array.from(runNest(odd, nest, inputs).get('C')!.data)).toEqual(Array.from(evaluate(odd, inputs)));
  });

  it('tiles that accumulate into the output across reduce iterations cannot overlap: bounded loops', () => {
    const nest = cpuTemplate.lower(odd, gemmConfig({ 'split.k': [7, 1, 1], reorder: 0 }));
    expect(boundedTileLoops(nest).length).toBeGreaterThan(0);
    expect(Array.from(runNest(odd, nest, inputs).get('C')!.data)).toEqual(Array.from(evaluate(odd, inputs)));
    // with only the masked (packed vector) axis ragged, the output is read and written under the mask
    const masked = defineWorkload('gemm', { M: 12, N: 21, K: 7 });
    const maskedNest = cpuTemplate.lower(masked, gemmConfig({ 'split.m': [3, 1, 1, 4], 'split.k': [7, 1, 1], reorder: 0 }));
    expect(boundedTileLoops(maskedNest)).toEqual([]);
    const maskedInputs = makeInputs(masked);
    expect(Array.from(runNest(masked, maskedNest, maskedInputs).get('C')!.data)).toEqual(Array.from(evaluate(masked, maskedInputs)));
  });

  it('an unpacked vector axis is clamped, not masked (its loads past the end would leave the input)', () => {
    const nest = cpuTemplate.lower(odd, gemmConfig({ 'pack.B': 0, 'split.n': [2, 1, 1, 16] }));
    expect(boundedTileLoops(nest)).toEqual([]);
    expect(statements(nest).filter((st) => st.k === 'let' && st.name === 'n_b')).toHaveLength(2);
    expect(Array.from(runNest(odd, nest, inputs).get('C')!.data)).toEqual(Array.from(evaluate(odd, inputs)));
  });
});

describe('pad.<T> = 2: each parallel tile pads the slice it reads', () => {
  const dw = defineWorkload('depthwise_conv2d', { N: 1, C: 5, H: 6, W: 7, R: 3, S: 3, pad: 1 });
  const dwConfig = (extra: Config = {}): Config => ({
    'split.n': [1, 1, 1, 1], 'split.k': [3, 1, 1, 2], 'split.h': [2, 1, 1, 3], 'split.w': [1, 1, 1, 7],
    'split.r': [1, 1, 3], 'split.s': [1, 1, 3], reorder: 1, unroll: [0, 0], vector: 3, 'pad.I': 2, ...extra,
  });
  const knob = (def: ReturnType<typeof defineWorkload>, name: string) => cpuTemplate.knobs(def).find((k) => k.name === name)!;

  it('offered where an axis indexes an outer dimension on its own (the depthwise channel), not for conv2d', () => {
    expect(knob(dw, 'pad.I').entities).toEqual([0, 1, 2]);
    expect(knob(conv(), 'pad.I').entities).toEqual([0, 1]);   // every output channel reads every input channel
  });

  it('the fill sits inside the parallel loop over channels; h goes serial; every element is right', () => {
    const nest = cpuTemplate.lower(dw, dwConfig());
    const top = statements(nest).filter((st) => st.k === 'loop' && st.kind === 'parallel');
    expect(top.map((st) => (st as { v: string }).v)).toEqual(['k_0']);     // h_0 is no longer parallel
    const parallel = top[0] as Extract<Stmt, { k: 'loop' }>;
    const fills = statements(parallel.body).filter((st) => st.k === 'store' && st.tensor === 'I_pad');
    expect(fills.length).toBeGreaterThan(0);
    expect(statements(nest).filter((st) => st.k === 'store' && st.tensor === 'I_pad')).toHaveLength(fills.length);
    const inputs = makeInputs(dw);
    expect(Array.from(runNest(dw, nest, inputs).get('O')!.data)).toEqual(Array.from(evaluate(dw, inputs)));
    // 5 channels in tiles of 2: the last tile pads (and computes) one channel, and is never moved back
    expect(statements(nest).filter((st) => st.k === 'let' && st.name === 'k_b')).toHaveLength(1);
  });

  it('a small slice lives in a buffer of the tile\'s own (its slice only, indexed from the slice\'s start); a large one in the whole buffer', () => {
    const allocOf = (nest: Stmt) => statements(nest).find((st): st is Extract<Stmt, { k: 'alloc' }> => st.k === 'alloc' && st.name === 'I_pad')!;
    const inputs = makeInputs(dw);
    const small = cpuTemplate.lower(dw, dwConfig());
    expect(allocOf(small)).toMatchObject({ scope: 'local', shape: [1, 2, 8, 9] });   // 2 channels of the padded 8 × 9
    const parallel = statements(small).find((st) => st.k === 'loop' && st.kind === 'parallel') as Extract<Stmt, { k: 'loop' }>;
    expect(statements(parallel.body)).toContain(allocOf(small));                        // declared inside the tile
    expect(Array.from(runNest(dw, small, inputs).get('O')!.data)).toEqual(Array.from(evaluate(dw, inputs)));
    const wide = defineWorkload('depthwise_conv2d', { N: 1, C: 4, H: 130, W: 130, R: 3, S: 3, pad: 1 });
    const large = cpuTemplate.lower(wide, dwConfig({ 'split.k': [2, 1, 1, 2], 'split.h': [2, 1, 1, 65], 'split.w': [1, 1, 1, 130] }));
    expect(allocOf(large)).toMatchObject({ scope: 'static', shape: [1, 4, 132, 132] });  // 2 × 132 × 132 floats > 128 KiB
  });

  it('a value outside the knob\'s space is refused naming it', () => {
    expect(() => cpuTemplate.lower(conv(), convConfig({ 'pad.I': 2 }))).toThrow(/knob 'pad.I' must be one of 0, 1/);
  });
});

describe('bad layout configs are INSTANTIATION errors naming the knob', () => {
  const gemm = defineWorkload('gemm', { M: 8, N: 8, K: 8 });
  const gemmConfig: Config = { 'split.m': [1, 1, 2, 4], 'split.n': [1, 1, 1, 8], 'split.k': [1, 1, 8], reorder: 1, unroll: [0, 0] };
  const refused = (def: typeof gemm, config: Config) => {
    try { cpuTemplate.check(def, config, {}); } catch (err) { expect(err).toBeInstanceOf(InstantiationError); return (err as Error).message; }
    throw new Error('config was accepted');
  };

  it('a vector axis whose loads are strided', () => {
    expect(refused(gemm, { ...gemmConfig, vector: 0 })).toMatch(/knob 'vector' must be one of 1 \(n\)/);
  });
  it('a packed layout for an input that is not constant', () => {
    expect(refused(gemm, { ...gemmConfig, vector: 1, 'pack.A': 1 })).toMatch(/unknown knob 'pack.A'/);
    expect(refused(conv(), convConfig({ 'pack.I': 1 }))).toMatch(/unknown knob 'pack.I'/);
  });
  it('a strided constant input left unpacked under its vector axis, and a layout value outside {0, 1}', () => {
    expect(refused(conv(), convConfig({ vector: 1 }))).toMatch(/knob 'pack.W' must be 1 with vector axis 'k'/);
    expect(refused(conv(), convConfig({ 'pad.I': 2 }))).toMatch(/knob 'pad.I' must be one of 0, 1/);
  });
  it('a padding stage for an input without bounds guards', () => {
    expect(refused(conv({ pad: 0 }), convConfig({ 'split.h': [1, 1, 3, 1], 'split.w': [1, 1, 2, 2], 'pad.I': 1 }))).toMatch(/unknown knob 'pad.I'/);
  });
});

describe('explorers look only where the hardware rules say a kernel can be fast', () => {
  const gemm = defineWorkload('gemm', { M: 256, N: 256, K: 256 });
  const avx512 = { vectorWidth: 16, vectorRegisters: 32, threads: 2 };
  const base: Config = { 'split.m': [2, 4, 4, 8], 'split.n': [1, 8, 1, 32], 'split.k': [1, 1, 256], reorder: 1, unroll: [512, 0], vector: 1, 'pack.B': 1 };

  it('unpromising: partial vectors, a tile that spills, idle threads; a good tile passes', () => {
    const why = (config: Config) => cpuTemplate.unpromising!(gemm, config, avx512);
    expect(why(base)).toBeNull();
    expect(why({ ...base, 'split.n': [1, 8, 4, 8] })).toMatch(/not a whole number of 16-float vectors/);
    expect(why({ ...base, 'split.m': [2, 1, 4, 32] })).toMatch(/64 vectors .* leaves none of the host's 32 vector registers/);
    expect(why({ ...base, 'split.m': [2, 1, 8, 16] })).toMatch(/32 vectors .* leaves none of the host's 32/);   // the broadcast needs one
    expect(why({ ...base, 'split.m': [3, 1, 8, 12] })).toBeNull();   // 24 accumulators: three times a power of two rows
    expect(why({ ...base, 'split.m': [1, 8, 4, 8] })).toMatch(/1 parallel tile\(s\), fewer than the 2 threads/);
    expect(why({ ...base, 'split.m': [2, 4, 16, 2] })).toMatch(/4 vectors .* fewer than 8 independent accumulators/);
    // 8 accumulators hide the latency, but gemm's outer product shares operands far better in a bigger tile
    expect(why({ ...base, 'split.m': [2, 4, 8, 4] })).toMatch(/8 vectors .* 0\.75 operand loads per multiply-add in 32 registers, where the best tile issues 0\.40/);
    // beyond 31 registers the 4 resident vectors of B are reloaded at every use: 7 × 4 loads more than 6 × 4
    const gemm168 = defineWorkload('gemm', { M: 168, N: 256, K: 256 });
    expect(cpuTemplate.unpromising!(gemm168, { ...base, 'split.m': [2, 12, 1, 7], 'split.n': [1, 4, 1, 64] }, avx512)).toMatch(/28 vectors .* 1\.25 operand loads/);
    expect(cpuTemplate.unpromising!(gemm168, { ...base, 'split.m': [2, 14, 1, 6], 'split.n': [1, 4, 1, 64] }, avx512)).toBeNull();
    // a tiny output cannot hold that many: as many as it has is enough
    const tiny = defineWorkload('gemm', { M: 4, N: 16, K: 64 });
    expect(cpuTemplate.unpromising!(tiny, { 'split.m': [2, 1, 1, 2], 'split.n': [1, 1, 1, 16], 'split.k': [1, 1, 64], reorder: 1, unroll: [512, 0], vector: 1, 'pack.B': 0 }, avx512))
      .toMatch(/2 vectors .* fewer than 4/);
    expect(cpuTemplate.unpromising!(gemm, { ...base, 'split.n': [1, 8, 4, 8] }, {})).toBeNull();   // no limits known: no rule
    // limits from a heartbeat are untrusted: implausible ones switch the rules off instead of pruning everything
    for (const bad of [{ vectorWidth: 16, vectorRegisters: -1 }, { vectorWidth: 'x', vectorRegisters: 32 }, { vectorWidth: 1e300, vectorRegisters: 32 }]) {
      expect(cpuTemplate.unpromising!(gemm, { ...base, 'split.n': [1, 8, 4, 8] }, bad as never)).toBeNull();
    }
    expect(cpuTemplate.unpromising!(gemm, { ...base, 'split.m': [1, 8, 4, 8] }, { ...avx512, threads: 1e9 })).toBeNull();
  });

  it('a small tile passes where no bigger one shares operands better (depthwise: the input is loaded once per multiply-add)', () => {
    const dw = defineWorkload('depthwise_conv2d', { N: 1, C: 144, H: 56, W: 56, R: 3, S: 3, stride: 1, pad: 1 });
    const rows8: Config = { 'split.n': [1, 1, 1, 1], 'split.k': [72, 2, 1, 1], 'split.h': [1, 1, 7, 8], 'split.w': [1, 4, 1, 16], 'split.r': [1, 1, 3], 'split.s': [1, 1, 3], reorder: 2, unroll: [1500, 1], vector: 3, 'pad.I': 2 };
    expect(cpuTemplate.unpromising!(dw, rows8, avx512)).toBeNull();
    expect(cpuTemplate.unpromising!(dw, { ...rows8, 'split.h': [1, 1, 14, 4] }, avx512)).toMatch(/4 vectors .* fewer than 8 independent accumulators/);
    // loads per multiply-add, counted from the body: 8 input vectors and 1 weight broadcast feed 8
    expect(operandLoadsPerFma(dw, new Map([['k', 1], ['h', 8], ['w', 16]]), 'w', 16)).toBeCloseTo(9 / 8);
    expect(leastOperandLoadsPerFma(dw, 'w', 16, 31)).toBeGreaterThan(1);
    // gemm: m broadcasts of A and n vectors of B feed m·n multiply-adds
    expect(operandLoadsPerFma(gemm, new Map([['m', 4], ['n', 64]]), 'n', 16)).toBeCloseTo(8 / 16);
    expect(leastOperandLoadsPerFma(gemm, 'n', 16, 31)).toBeCloseTo(10 / 25);   // 5 × 5, its 5 B vectors resident
  });

  it('AVX2: the 6 × 2-vector tile keeps its operands in 16 registers, the 4 × 3 one reloads them', () => {
    const avx2 = { vectorWidth: 8, vectorRegisters: 16, threads: 2 };
    const wide = defineWorkload('gemm', { M: 168, N: 384, K: 256 });
    const tile = (m: number, vectors: number): Config => ({ ...base, 'split.m': [2, 84 / m, 1, m], 'split.n': [1, 384 / (8 * vectors), 1, 8 * vectors] });
    expect(operandLoadsPerFma(gemm, new Map([['m', 4], ['n', 24]]), 'n', 8, 16)).toBeCloseTo(16 / 12);
    expect(operandLoadsPerFma(gemm, new Map([['m', 6], ['n', 16]]), 'n', 8, 16)).toBeCloseTo(8 / 12);
    expect(cpuTemplate.unpromising!(wide, tile(6, 2), avx2)).toBeNull();
    expect(cpuTemplate.unpromising!(wide, tile(4, 3), avx2)).toMatch(/12 vectors .* 1\.33 operand loads per multiply-add in 16 registers, where the best tile issues 0\.67/);
  });

  it('AVX2: a conv2d tile of 8 output columns × one vector of channels (9 loads per 8 multiply-adds) stays in the space', () => {
    const avx2 = { vectorWidth: 8, vectorRegisters: 16, threads: 2 };
    const c4 = defineWorkload('conv2d', { N: 1, C: 128, H: 56, W: 56, K: 256, R: 3, S: 3, stride: 1, pad: 1 });
    const columns8: Config = {
      'split.n': [1, 1, 1, 1], 'split.k': [2, 8, 2, 8], 'split.h': [28, 2, 1, 1], 'split.w': [1, 1, 7, 8], 'split.c': [16, 8, 1],
      'split.r': [1, 3, 1], 'split.s': [1, 3, 1], reorder: 1, unroll: [0, 1], vector: 1, 'pack.W': 1, 'pad.I': 1,
    };
    expect(operandLoadsPerFma(c4, new Map([['n', 1], ['k', 8], ['h', 1], ['w', 8]]), 'k', 8, 16)).toBeCloseTo(9 / 8);
    expect(cpuTemplate.unpromising!(c4, columns8, avx2)).toBeNull();
    // 16 columns × one vector reload nothing but leave no register for the operands
    expect(cpuTemplate.unpromising!(c4, { ...columns8, 'split.w': [1, 1, 4, 16] }, avx2)).toMatch(/16 vectors .* leaves none/);
  });

  it('a space with a filter never proposes what it refuses, at random or by a move', async () => {
    const { Space } = await import('../coordinator/space.ts');
    const { Rng } = await import('../coordinator/explore/rng.ts');
    const accepts = (c: Config) => cpuTemplate.unpromising!(gemm, c, avx512) === null;
    const space = new Space(cpuTemplate.knobs(gemm), { accepts });
    const rng = new Rng(3);
    for (let i = 0; i < 50; i++) {
      const p = space.randomPoint(rng);
      expect(accepts(space.toConfig(p))).toBe(true);
      for (const n of space.neighbours(p)) expect(accepts(space.toConfig(n))).toBe(true);
    }
    // without the filter most random points break one of the rules
    const plain = new Space(cpuTemplate.knobs(gemm));
    const refused = Array.from({ length: 200 }, () => plain.randomPoint(rng)).filter((p) => !accepts(plain.toConfig(p))).length;
    expect(refused).toBeGreaterThan(100);
  });
});

describe('fused spatial axes', () => {
  const pointwise = defineWorkload('conv2d', { N: 1, C: 3, H: 5, W: 6, K: 4, R: 1, S: 1 });

  it('h and w of a 1×1 convolution fuse (the input and output merge two dimensions); padded ones do not', async () => {
    const { fusablePairs } = await import('../tensor/templates/cpu-fuse.ts');
    expect(fusablePairs(pointwise).map((i) => pointwise.spatial[i].name)).toEqual(['h']);   // (h, w)
    expect(fusablePairs(conv())).toEqual([]);                                              // guards read h and w
    expect(fusablePairs(defineWorkload('gemm', { M: 8, N: 8, K: 8 }))).toEqual([]);       // A reads m, not n
    const knobs = cpuTemplate.knobs(pointwise);
    expect(knobs.find((k) => k.name === 'fuse')!.entities).toEqual([0, 3]);
    expect(knobs.find((k) => k.name === 'split.hw')!.axis).toEqual({ name: 'hw', extent: 30, reduce: false });
  });

  it('fuse = 3: one loop over h·w, vectorised along it, the same output as the operator', () => {
    const config: Config = {
      'split.n': [1, 1, 1, 1], 'split.k': [2, 1, 1, 2], 'split.h': [5, 1, 1, 1], 'split.w': [6, 1, 1, 1], 'split.hw': [2, 1, 2, 8],
      'split.c': [1, 1, 3], 'split.r': [1, 1, 1], 'split.s': [1, 1, 1], reorder: 1, unroll: [512, 0], vector: 3, 'pack.W': 0, fuse: 3,
    };
    expect(() => cpuTemplate.check(pointwise, config, {})).not.toThrow();
    const nest = cpuTemplate.lower(pointwise, config);
    expect(statements(nest).filter((s) => s.k === 'view').map((s) => s.k === 'view' && [s.tensor, s.shape])).toEqual([['I', [1, 3, 30]], ['O', [1, 4, 30]]]);
    expect(statements(nest).some((s) => s.k === 'loop' && s.kind === 'vector' && s.v === 'hw_3')).toBe(true);
    const inputs = makeInputs(pointwise);
    expect(Array.from(runNest(pointwise, nest, inputs).get('O')!.data)).toEqual(Array.from(evaluate(pointwise, inputs)));
  });

  it('a fuse value outside the space is refused naming the knob', () => {
    expect(() => cpuTemplate.check(pointwise, { 'split.n': [1, 1, 1, 1], 'split.k': [1, 1, 1, 4], 'split.h': [5, 1, 1, 1], 'split.w': [6, 1, 1, 1],
      'split.c': [1, 1, 3], 'split.r': [1, 1, 1], 'split.s': [1, 1, 1], reorder: 1, unroll: [0, 0], fuse: 2 }, {})).toThrow(/knob 'fuse' must be one of 0, 3/);
  });
});
