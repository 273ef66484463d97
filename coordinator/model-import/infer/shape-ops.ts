// Data-movement operators, and the constants and shape arithmetic (Shape, Gather, Slice, Concat)
// that exported models use to compute Reshape targets at run time from static shapes.
import { InferError } from '../errors.ts';
import { elementCount, formatShape, MAX_VALUES, type Known } from '../facts.ts';
import { tensorFact } from '../tensor-proto.ts';
import { axis, constantValues, input, optionalValues, type InferContext, type ShapeRule } from './context.ts';

const withValues = (shape: number[], values: number[] | undefined): Known =>
  values && elementCount(shape) <= MAX_VALUES ? { shape, values } : { shape };

export const constant: ShapeRule = (ctx) => {
  const t = ctx.attrs.tensor('value');
  if (t) return [tensorFact(t)];
  const ints = ctx.attrs.ints('value_ints') ?? ctx.attrs.floats('value_floats');
  if (ints) return [withValues([ints.length], ints)];
  if (ctx.attrs.has('value_int')) return [{ shape: [], values: [ctx.attrs.int('value_int', 0)] }];
  if (ctx.attrs.has('value_float')) return [{ shape: [], values: [ctx.attrs.float('value_float', 0)] }];
  throw new InferError('Constant: no value attribute flexfarm reads (sparse or string constants)');
};

export const shapeOf: ShapeRule = (ctx) => {
  const shape = input(ctx, 0).shape;
  const rank = shape.length;
  const clamp = (v: number) => Math.min(rank, Math.max(0, v < 0 ? v + rank : v));
  const values = shape.slice(clamp(ctx.attrs.int('start', 0)), clamp(ctx.attrs.int('end', rank)));
  return [{ shape: [values.length], values }];
};

export const size: ShapeRule = (ctx) => [{ shape: [], values: [elementCount(input(ctx, 0).shape)] }];

export const gather: ShapeRule = (ctx) => {
  const data = input(ctx, 0), indices = input(ctx, 1);
  const a = axis(ctx, ctx.attrs.int('axis', 0), data.shape.length);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  if (data.values && indices.values && data.shape.length === 1) {
    const n = data.shape[0];
    return [withValues(shape, indices.values.map((i) => data.values![i < 0 ? i + n : i]))];
  }
  return [{ shape }];
};

export const slice: ShapeRule = (ctx) => {
  const data = input(ctx, 0);
  const rank = data.shape.length;
  const old = ctx.opset < 10;
  const starts = old ? ctx.attrs.ints('starts') ?? [] : constantValues(ctx, 1, 'starts');
  const ends = old ? ctx.attrs.ints('ends') ?? [] : constantValues(ctx, 2, 'ends');
  const axes = (old ? ctx.attrs.ints('axes') : optionalValues(ctx, 3, 'axes')) ?? starts.map((_, i) => i);
  const steps = (old ? undefined : optionalValues(ctx, 4, 'steps')) ?? starts.map(() => 1);
  const shape = [...data.shape];
  const ranges = data.shape.map((d) => ({ start: 0, step: 1, count: d }));
  axes.forEach((ax, i) => {
    const a = axis(ctx, ax, rank), d = data.shape[a], step = steps[i];
    if (step === 0) throw new InferError('Slice: step 0');
    const norm = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v < 0 ? v + d : v));
    const start = step > 0 ? norm(starts[i], 0, d) : norm(starts[i], 0, d - 1);
    const end = step > 0 ? norm(ends[i], 0, d) : norm(ends[i], -1, d - 1);
    const count = Math.max(0, Math.ceil((end - start) / step));
    shape[a] = count;
    ranges[a] = { start, step, count };
  });
  if (data.values && rank === 1) {
    const r = ranges[0];
    return [withValues(shape, Array.from({ length: r.count }, (_, i) => data.values![r.start + i * r.step]))];
  }
  return [{ shape }];
};

export const concat: ShapeRule = (ctx) => {
  const facts = ctx.node.input.map((_, i) => input(ctx, i));
  const rank = facts[0].shape.length;
  const a = axis(ctx, ctx.attrs.int('axis', 0), rank);
  for (const f of facts) {
    if (f.shape.length !== rank || f.shape.some((d, i) => i !== a && d !== facts[0].shape[i])) {
      throw new InferError(`Concat: shapes ${facts.map((x) => formatShape(x.shape)).join(', ')} differ off axis ${a}`);
    }
  }
  const shape = [...facts[0].shape];
  shape[a] = facts.reduce((s, f) => s + f.shape[a], 0);
  const values = rank === 1 && facts.every((f) => f.values) ? facts.flatMap((f) => f.values!) : undefined;
  return [withValues(shape, values)];
};

export const reshape: ShapeRule = (ctx) => {
  const data = input(ctx, 0);
  const target = ctx.opset < 5 ? ctx.attrs.ints('shape') ?? [] : constantValues(ctx, 1, 'target shape');
  const allowZero = ctx.attrs.int('allowzero', 0) === 1;
  const shape = target.map((d, i) => (d === 0 && !allowZero ? data.shape[i] : d));
  const known = shape.filter((d) => d !== -1);
  const missing = shape.length - known.length;
  if (missing > 1) throw new InferError(`Reshape: target ${formatShape(target)} has more than one -1`);
  const total = elementCount(data.shape), rest = elementCount(known);
  if (missing) shape[shape.indexOf(-1)] = rest ? total / rest : 0;
  if (elementCount(shape) !== total || shape.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new InferError(`Reshape: ${formatShape(data.shape)} cannot become ${formatShape(target)}`);
  }
  return [withValues(shape, data.values)];
};

export const flatten: ShapeRule = (ctx) => {
  const shape = input(ctx, 0).shape;
  const raw = ctx.attrs.int('axis', 1);
  const a = raw < 0 ? raw + shape.length : raw;
  if (a < 0 || a > shape.length) throw new InferError(`Flatten: axis ${raw} is out of range for rank ${shape.length}`);
  return [{ shape: [elementCount(shape.slice(0, a)), elementCount(shape.slice(a))] }];
};

export const transpose: ShapeRule = (ctx) => {
  const shape = input(ctx, 0).shape;
  const perm = ctx.attrs.ints('perm') ?? shape.map((_, i) => shape.length - 1 - i);
  if (perm.length !== shape.length) throw new InferError(`Transpose: perm ${formatShape(perm)} does not match rank ${shape.length}`);
  return [{ shape: perm.map((p) => shape[axis(ctx, p, shape.length)]) }];
};

function axesOf(ctx: InferContext): number[] | undefined {
  return ctx.opset < 13 ? ctx.attrs.ints('axes') : optionalValues(ctx, 1, 'axes');
}

export const squeeze: ShapeRule = (ctx) => {
  const data = input(ctx, 0);
  const axes = axesOf(ctx)?.map((a) => axis(ctx, a, data.shape.length));
  const shape = data.shape.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
  return [withValues(shape, data.values)];
};

export const unsqueeze: ShapeRule = (ctx) => {
  const data = input(ctx, 0);
  const axes = axesOf(ctx);
  if (!axes) throw new InferError('Unsqueeze: axes are missing');
  const rank = data.shape.length + axes.length;
  const at = new Set(axes.map((a) => axis(ctx, a, rank)));
  const rest = [...data.shape];
  const shape = Array.from({ length: rank }, (_, i) => (at.has(i) ? 1 : rest.shift()!));
  return [withValues(shape, data.values)];
};

export const expand: ShapeRule = (ctx) => {
  const data = input(ctx, 0).shape, target = constantValues(ctx, 1, 'target shape');
  const rank = Math.max(data.length, target.length);
  const pad = (s: number[]) => [...Array(rank - s.length).fill(1), ...s];
  return [{ shape: pad(data).map((d, i) => (d === 1 ? pad(target)[i] : d)) }];
};

export const tile: ShapeRule = (ctx) => {
  const data = input(ctx, 0).shape, repeats = constantValues(ctx, 1, 'repeats');
  return [{ shape: data.map((d, i) => d * (repeats[i] ?? 1)) }];
};

export const constantOfShape: ShapeRule = (ctx) => [{ shape: constantValues(ctx, 0, 'shape') }];

export const split: ShapeRule = (ctx) => {
  const data = input(ctx, 0).shape;
  const a = axis(ctx, ctx.attrs.int('axis', 0), data.length);
  const outputs = ctx.node.output.length;
  const parts = (ctx.opset < 13 ? ctx.attrs.ints('split') : optionalValues(ctx, 1, 'split'))
    ?? Array.from({ length: outputs }, (_, i) => Math.ceil(data[a] / outputs) - (i === outputs - 1 ? Math.ceil(data[a] / outputs) * outputs - data[a] : 0));
  return parts.map((p) => ({ shape: data.map((d, i) => (i === a ? p : d)) }));
};

export const reduce: ShapeRule = (ctx) => {
  const data = input(ctx, 0).shape;
  // ReduceSum took its axes as an input from opset 13, the other reductions from opset 18.
  const fromInput = ctx.opset >= (ctx.node.opType === 'ReduceSum' ? 13 : 18);
  const axes = (fromInput ? optionalValues(ctx, 1, 'axes') : ctx.attrs.ints('axes'))?.map((x) => axis(ctx, x, data.length));
  const keep = ctx.attrs.int('keepdims', 1) === 1;
  if (!axes && fromInput && ctx.attrs.int('noop_with_empty_axes', 0)) return [{ shape: data }];
  const reduced = (i: number) => !axes || axes.includes(i);
  return [{ shape: keep ? data.map((d, i) => (reduced(i) ? 1 : d)) : data.filter((_, i) => !reduced(i)) }];
};

export const argReduce: ShapeRule = (ctx) => {
  const data = input(ctx, 0).shape;
  const a = axis(ctx, ctx.attrs.int('axis', 0), data.length);
  const keep = ctx.attrs.int('keepdims', 1) === 1;
  return [{ shape: keep ? data.map((d, i) => (i === a ? 1 : d)) : data.filter((_, i) => i !== a) }];
};
