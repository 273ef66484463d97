// Sliding-window operators: Conv, ConvTranspose and the pools. The geometry (kernel, strides,
// dilations, pads per side, output sizes) is computed once here; the layer mapper reads it too.
import { InferError } from '../errors.ts';
import { formatShape } from '../facts.ts';
import { input, rankError, type InferContext, type ShapeRule } from './context.ts';

export interface WindowGeometry {
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  /** Output spatial sizes. */
  out: number[];
}

function perAxis(ctx: InferContext, name: string, rank: number, fallback: number): number[] {
  const v = ctx.attrs.ints(name) ?? Array(rank).fill(fallback);
  if (v.length !== rank) throw new InferError(`${ctx.node.opType}: ${name} has ${v.length} values for ${rank} spatial axes`);
  return v;
}

/** Conv and pool windows; `ceil` is the pools' ceil_mode. */
export function windowGeometry(ctx: InferContext, spatial: number[], kernel: number[], ceil = false): WindowGeometry {
  const rank = spatial.length;
  const strides = perAxis(ctx, 'strides', rank, 1);
  const dilations = perAxis(ctx, 'dilations', rank, 1);
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let padsBegin: number[], padsEnd: number[];
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const total = spatial.map((x, i) => Math.max(0, (Math.ceil(x / strides[i]) - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - x));
    const small = total.map((t) => Math.floor(t / 2));
    [padsBegin, padsEnd] = autoPad === 'SAME_UPPER' ? [small, total.map((t, i) => t - small[i])] : [total.map((t, i) => t - small[i]), small];
  } else if (autoPad === 'VALID') {
    padsBegin = Array(rank).fill(0); padsEnd = Array(rank).fill(0);
  } else if (autoPad === 'NOTSET') {
    const pads = perAxis(ctx, 'pads', 2 * rank, 0);
    padsBegin = pads.slice(0, rank); padsEnd = pads.slice(rank);
  } else {
    throw new InferError(`${ctx.node.opType}: auto_pad '${autoPad}' is not an ONNX value`);
  }
  const out = spatial.map((x, i) => {
    const span = x + padsBegin[i] + padsEnd[i] - ((kernel[i] - 1) * dilations[i] + 1);
    let o = (ceil ? Math.ceil(span / strides[i]) : Math.floor(span / strides[i])) + 1;
    // A last window that would start inside the end padding is dropped (ONNX, PyTorch).
    if (ceil && (o - 1) * strides[i] >= x + padsBegin[i]) o--;
    return o;
  });
  if (out.some((o) => o < 1)) throw new InferError(`${ctx.node.opType}: input ${formatShape(spatial)} is too small for kernel ${formatShape(kernel)}`);
  return { kernel, strides, dilations, padsBegin, padsEnd, out };
}

/** Conv: X[N, C, spatial...], W[M, C/group, kernel...] → [N, M, out...]. */
export function convGeometry(ctx: InferContext) {
  const x = input(ctx, 0, 'input X').shape, w = input(ctx, 1, 'weights W').shape;
  if (x.length < 3 || w.length !== x.length) throw rankError(ctx, x, `[N, C, spatial...] with weights of the same rank, weights ${formatShape(w)}`);
  const group = ctx.attrs.int('group', 1);
  if (w[1] * group !== x[1]) throw new InferError(`Conv: input has ${x[1]} channels, weights ${formatShape(w)} with group ${group} expect ${w[1] * group}`);
  const kernel = ctx.attrs.ints('kernel_shape') ?? w.slice(2);
  return { x, w, group, ...windowGeometry(ctx, x.slice(2), kernel) };
}

/** ConvTranspose: X[N, C, spatial...], W[C, M/group, kernel...] → [N, M, out...]. */
export function convTransposeGeometry(ctx: InferContext) {
  const x = input(ctx, 0, 'input X').shape, w = input(ctx, 1, 'weights W').shape;
  if (x.length < 3 || w.length !== x.length) throw rankError(ctx, x, `[N, C, spatial...] with weights of the same rank, weights ${formatShape(w)}`);
  const group = ctx.attrs.int('group', 1);
  if (w[0] !== x[1]) throw new InferError(`ConvTranspose: input has ${x[1]} channels, weights ${formatShape(w)} expect ${w[0]}`);
  const rank = x.length - 2;
  const spatial = x.slice(2);
  const kernel = ctx.attrs.ints('kernel_shape') ?? w.slice(2);
  const strides = perAxis(ctx, 'strides', rank, 1);
  const dilations = perAxis(ctx, 'dilations', rank, 1);
  const outputPadding = perAxis(ctx, 'output_padding', rank, 0);
  const full = spatial.map((s, i) => strides[i] * (s - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1);
  const outputShape = ctx.attrs.ints('output_shape');
  const autoPad = ctx.attrs.string('auto_pad', 'NOTSET');
  let padsBegin: number[], padsEnd: number[];
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? outputShape.slice(-rank) : spatial.map((s, i) => s * strides[i]);
    const total = full.map((f, i) => f - target[i]);
    const half = total.map((t) => Math.floor(t / 2));
    // As the ONNX spec splits it: SAME_UPPER puts the smaller half at the start, the rest before.
    [padsBegin, padsEnd] = autoPad === 'SAME_UPPER' ? [half, total.map((t, i) => t - half[i])] : [total.map((t, i) => t - half[i]), half];
  } else {
    const pads = autoPad === 'VALID' ? Array(2 * rank).fill(0) : perAxis(ctx, 'pads', 2 * rank, 0);
    padsBegin = pads.slice(0, rank); padsEnd = pads.slice(rank);
  }
  const out = full.map((f, i) => f - padsBegin[i] - padsEnd[i]);
  if (out.some((o) => o < 1)) throw new InferError(`ConvTranspose: output ${formatShape(out)} is empty`);
  return { x, w, group, kernel, strides, dilations, padsBegin, padsEnd, outputPadding, out, channels: w[1] * group };
}

export const conv: ShapeRule = (ctx) => {
  const g = convGeometry(ctx);
  return [{ shape: [g.x[0], g.w[0], ...g.out] }];
};

export const convTranspose: ShapeRule = (ctx) => {
  const g = convTransposeGeometry(ctx);
  return [{ shape: [g.x[0], g.channels, ...g.out] }];
};

export const pool: ShapeRule = (ctx) => {
  const x = input(ctx, 0).shape;
  if (x.length < 3) throw rankError(ctx, x, '[N, C, spatial...]');
  const kernel = ctx.attrs.ints('kernel_shape');
  if (!kernel) throw new InferError(`${ctx.node.opType}: kernel_shape is missing`);
  const g = windowGeometry(ctx, x.slice(2), kernel, ctx.attrs.int('ceil_mode', 0) === 1);
  const shape = [x[0], x[1], ...g.out];
  return ctx.node.output.map(() => ({ shape }));
};

export const globalPool: ShapeRule = (ctx) => {
  const x = input(ctx, 0).shape;
  if (x.length < 3) throw rankError(ctx, x, '[N, C, spatial...]');
  return [{ shape: [x[0], x[1], ...x.slice(2).map(() => 1)] }];
};
