// Direct convolutions (NCHW-style layouts): conv1d/2d/3d, grouped, dilated and depthwise 2-D.
// Padding is a guarded load: reads outside the input are zero.
import type { OpFamily } from '../compute.ts';
import { ShapeError } from '../errors.ts';
import { add, and, div, float, ge, int, load, lt, mul, select, sub, v, type Expr } from '../ir.ts';
import { DIMS, axisWindows, convParams, perAxisParams, type ConvDims } from './conv-dims.ts';

const groupsParam = { name: 'groups', min: 1, default: 1, doc: 'channel groups (C and K divisible)' };

/** Output size of a strided, padded, dilated window: floor((X + 2p - d(R-1) - 1) / s) + 1. */
export function convOutSize(x: number, r: number, stride: number, pad: number, dilation: number): number {
  return Math.floor((x + 2 * pad - dilation * (r - 1) - 1) / stride) + 1;
}

/**
 * The input index for output position `o` and kernel tap `r`, and the guard that it lies in
 * [0, X). Bounds that can never be crossed for this shape are left out of the guard.
 */
export function windowIndex(o: string, r: string, p: { X: number; R: number; O: number; stride: number; pad: number; dilation: number }) {
  const index = sub(add(mul(v(o), int(p.stride)), mul(v(r), int(p.dilation))), int(p.pad));
  const guards: Expr[] = [];
  if (p.pad > 0) guards.push(ge(index, int(0)));
  if ((p.O - 1) * p.stride + (p.R - 1) * p.dilation - p.pad > p.X - 1) guards.push(lt(index, int(p.X)));
  return { index, guards };
}

export function guarded(guards: Expr[], value: Expr): Expr {
  return guards.length ? select(and(...guards), value, float(0)) : value;
}

function convFamily(name: string, rank: 1 | 2 | 3, summary: string, overrides: Parameters<typeof convParams>[2] = {}): OpFamily {
  const dims: ConvDims = DIMS[rank];
  return {
    name,
    summary,
    params: convParams(dims, [groupsParam, ...(rank === 2 ? perAxisParams(dims) : [])], overrides),
    build: (p) => {
      const { N, C, K, dilation, groups } = p;
      const axes = axisWindows(dims, p);
      if (C % groups !== 0) throw new ShapeError(name, 'groups', `groups=${groups} does not divide C=${C}`);
      if (K % groups !== 0) throw new ShapeError(name, 'groups', `groups=${groups} does not divide K=${K}`);
      const cg = C / groups, kg = K / groups;
      const outSizes = dims.input.map((d, i) => convOutSize(p[d], p[dims.kernel[i]], axes[i].stride, axes[i].pad, dilation));
      outSizes.forEach((o, i) => {
        if (o < 1) throw new ShapeError(name, dims.input[i], `output size ${o} is empty: input ${p[dims.input[i]]} too small for kernel ${p[dims.kernel[i]]} with pad ${axes[i].pad}, dilation ${dilation}`);
      });
      const windows = dims.out.map((o, i) => windowIndex(o, dims.red[i], {
        X: p[dims.input[i]], R: p[dims.kernel[i]], O: outSizes[i], ...axes[i], dilation,
      }));
      const spatialOut = dims.out.map((o, i) => ({ name: o, extent: outSizes[i] }));
      const kernel = dims.kernel.map((d) => p[d]);
      const reduce = [{ name: 'c', extent: cg }, ...dims.red.map((r, i) => ({ name: r, extent: p[dims.kernel[i]] }))];
      const guards = windows.flatMap((w) => w.guards);
      if (groups === 1) {
        return {
          inputs: [{ name: 'I', shape: [N, C, ...dims.input.map((d) => p[d])] }, { name: 'W', shape: [K, cg, ...kernel], constant: true }],
          output: { name: 'O', shape: [N, K, ...outSizes] },
          spatial: [{ name: 'n', extent: N }, { name: 'k', extent: K }, ...spatialOut],
          reduce,
          body: mul(guarded(guards, load('I', [v('n'), v('c'), ...windows.map((w) => w.index)])), load('W', [v('k'), v('c'), ...dims.red.map((r) => v(r))])),
        };
      }
      // Groups as an axis of their own: output channel k of group g reads input channel g*cg + c.
      // The tensors keep their memory layout (O[N,K,..] is O[N,G,K/G,..], W[K,C/G,..] is
      // W[G,K/G,C/G,..]), and the channel within a group indexes no input channel: the axis a
      // register tile can run along with weights packed, as for an ungrouped convolution.
      return {
        inputs: [
          { name: 'I', shape: [N, C, ...dims.input.map((d) => p[d])] },
          { name: 'W', shape: [groups, kg, cg, ...kernel], constant: true },
        ],
        output: { name: 'O', shape: [N, groups, kg, ...outSizes] },
        spatial: [{ name: 'n', extent: N }, { name: 'g', extent: groups }, { name: 'k', extent: kg }, ...spatialOut],
        reduce,
        body: mul(
          guarded(guards, load('I', [v('n'), add(mul(v('g'), int(cg)), v('c')), ...windows.map((w) => w.index)])),
          load('W', [v('g'), v('k'), v('c'), ...dims.red.map((r) => v(r))]),
        ),
      };
    },
  };
}

export const conv1d = convFamily('conv1d', 1, 'O[n,k,l] = sum_{c,r} I[n,c,l*stride+r*dilation-pad] * W[k,c,r]');
export const conv2d = convFamily('conv2d', 2, 'O[n,k,h,w] = sum_{c,r,s} I[n,c,h*stride+r*dilation-pad,w*stride+s*dilation-pad] * W[k,c,r,s]');
export const conv3d = convFamily('conv3d', 3, 'O[n,k,d,h,w] = sum_{c,t,r,s} I[n,c,...] * W[k,c,t,r,s]');
export const groupedConv2d = convFamily('grouped_conv2d', 2, 'conv2d with channel groups (groups required)', {
  groups: { default: undefined, doc: 'channel groups (required; C and K divisible)' },
});
export const dilatedConv2d = convFamily('dilated_conv2d', 2, 'conv2d with a dilated kernel (dilation required)', {
  dilation: { default: undefined, doc: 'kernel dilation (required)' },
});

export const depthwiseConv2d: OpFamily = {
  name: 'depthwise_conv2d',
  summary: 'O[n,k,h,w] = sum_{r,s} I[n,k/multiplier,...] * W[k,r,s], K = C*multiplier',
  params: convParams(DIMS[2], [{ name: 'multiplier', min: 1, default: 1, doc: 'output channels per input channel' }, ...perAxisParams(DIMS[2])])
    .filter((s) => s.name !== 'K'),
  build: (p) => {
    const { N, C, H, W, R, S, dilation, multiplier } = p;
    const [ah, aw] = axisWindows(DIMS[2], p);
    const K = C * multiplier;
    const OH = convOutSize(H, R, ah.stride, ah.pad, dilation), OW = convOutSize(W, S, aw.stride, aw.pad, dilation);
    if (OH < 1) throw new ShapeError('depthwise_conv2d', 'H', `output height ${OH} is empty`);
    if (OW < 1) throw new ShapeError('depthwise_conv2d', 'W', `output width ${OW} is empty`);
    const wh = windowIndex('h', 'r', { X: H, R, O: OH, ...ah, dilation });
    const ww = windowIndex('w', 's', { X: W, R: S, O: OW, ...aw, dilation });
    const channel = multiplier === 1 ? v('k') : div(v('k'), int(multiplier));
    return {
      inputs: [{ name: 'I', shape: [N, C, H, W] }, { name: 'W', shape: [K, R, S], constant: true }],
      output: { name: 'O', shape: [N, K, OH, OW] },
      spatial: [{ name: 'n', extent: N }, { name: 'k', extent: K }, { name: 'h', extent: OH }, { name: 'w', extent: OW }],
      reduce: [{ name: 'r', extent: R }, { name: 's', extent: S }],
      body: mul(guarded([...wh.guards, ...ww.guards], load('I', [v('n'), channel, wh.index, ww.index])), load('W', [v('k'), v('r'), v('s')])),
    };
  },
};
