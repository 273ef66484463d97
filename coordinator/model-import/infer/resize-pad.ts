// Resize (and the older Upsample) with constant scales or sizes, and Pad with constant pads.
import { InferError } from '../errors.ts';
import { formatShape } from '../facts.ts';
import { input, optionalValues, type ShapeRule } from './context.ts';

export const resize: ShapeRule = (ctx) => {
  const x = input(ctx, 0).shape;
  if (ctx.attrs.has('axes')) throw new InferError('Resize: the axes attribute is not supported');
  // Opset 10: (X, scales); from opset 11: (X, roi, scales, sizes).
  const scales = optionalValues(ctx, ctx.opset < 11 ? 1 : 2, 'scales');
  const sizes = ctx.opset < 11 ? undefined : optionalValues(ctx, 3, 'sizes');
  if (sizes) {
    if (sizes.length !== x.length) throw new InferError(`Resize: sizes ${formatShape(sizes)} do not match rank ${x.length}`);
    return [{ shape: sizes }];
  }
  if (!scales) throw new InferError('Resize: neither constant scales nor sizes are given');
  return [{ shape: scaled(x, scales) }];
};

export const upsample: ShapeRule = (ctx) => {
  const x = input(ctx, 0).shape;
  const scales = ctx.attrs.floats('scales') ?? optionalValues(ctx, 1, 'scales');
  if (!scales) throw new InferError('Upsample: scales are missing');
  return [{ shape: scaled(x, scales) }];
};

function scaled(x: number[], scales: number[]): number[] {
  if (scales.length !== x.length) throw new InferError(`Resize: ${scales.length} scales for rank ${x.length}`);
  return x.map((d, i) => Math.floor(d * scales[i]));
}

export const pad: ShapeRule = (ctx) => {
  const x = input(ctx, 0).shape;
  const rank = x.length;
  const pads = ctx.opset < 11 ? ctx.attrs.ints('pads') : optionalValues(ctx, 1, 'pads');
  if (!pads) throw new InferError('Pad: pads are missing');
  // From opset 18 an axes input names the axes the pads are for.
  const axes = (ctx.opset >= 18 ? optionalValues(ctx, 3, 'axes') : undefined)?.map((a) => (a < 0 ? a + rank : a)) ?? x.map((_, i) => i);
  if (pads.length !== 2 * axes.length) throw new InferError(`Pad: ${pads.length} pads for ${axes.length} axes`);
  const shape = [...x];
  axes.forEach((a, i) => { shape[a] += pads[i] + pads[i + axes.length]; });
  return [{ shape }];
};
