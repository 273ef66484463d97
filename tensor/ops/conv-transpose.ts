// Transposed convolutions (the gradient of conv w.r.t. its input), 1-D to 3-D.
// Output o receives input i through tap r when o + pad - r*dilation = i*stride: a guarded,
// strided index (divisible by the stride, inside the input).
import type { OpFamily } from '../compute.ts';
import { ShapeError } from '../errors.ts';
import { add, div, eq, ge, int, load, lt, mod, mul, sub, v, type Expr } from '../ir.ts';
import { DIMS, convParams } from './conv-dims.ts';
import { guarded } from './conv.ts';

/** Output size: (X - 1) * stride - 2 * pad + dilation * (R - 1) + 1. */
export function convTransposeOutSize(x: number, r: number, stride: number, pad: number, dilation: number): number {
  return (x - 1) * stride - 2 * pad + dilation * (r - 1) + 1;
}

/** Number of (output position, kernel tap) pairs along one dimension that read a real input:
 *  per tap r, the outputs o whose q = o + pad - r*dilation is a multiple of the stride inside
 *  [0, (inSize - 1) * stride]. Counted per tap, not per output (an extent of 10^9 took minutes). */
export function validTaps(outSize: number, taps: number, inSize: number, stride: number, pad: number, dilation: number): number {
  let count = 0;
  for (let r = 0; r < taps; r++) {
    const shift = pad - r * dilation;
    const lo = Math.max(0, shift);
    const hi = Math.min(outSize - 1 + shift, (inSize - 1) * stride);
    if (hi >= lo) count += Math.floor(hi / stride) - Math.ceil(lo / stride) + 1;
  }
  return count;
}

function convTransposeFamily(rank: 1 | 2 | 3): OpFamily {
  const dims = DIMS[rank];
  const name = `conv_transpose${rank}d`;
  return {
    name,
    summary: `O[n,k,o..] = sum_{c,r..} I[n,c,(o+pad-r*dilation)/stride..] * W[c,k,r..] where divisible and in range`,
    params: convParams(dims, []),
    build: (p) => {
      const { N, C, K, stride, pad, dilation } = p;
      const outSizes = dims.input.map((d, i) => convTransposeOutSize(p[d], p[dims.kernel[i]], stride, pad, dilation));
      outSizes.forEach((o, i) => {
        if (o < 1) throw new ShapeError(name, 'pad', `output size ${o} along ${dims.input[i]} is empty: pad ${pad} too large`);
      });
      const guards: Expr[] = [];
      const index = dims.out.map((o, i) => {
        const X = p[dims.input[i]], R = p[dims.kernel[i]];
        const q = sub(add(v(o), int(pad)), mul(v(dims.red[i]), int(dilation)));
        if (pad - (R - 1) * dilation < 0) guards.push(ge(q, int(0)));
        if (stride > 1) guards.push(eq(mod(q, int(stride)), int(0)));
        if (Math.floor((outSizes[i] - 1 + pad) / stride) > X - 1) guards.push(lt(div(q, int(stride)), int(X)));
        return div(q, int(stride));
      });
      // Useful work: only (output, tap) pairs whose source index passes the guards (2 FLOPs each);
      // counted once the shape is known to fit in memory (a loop over every tap).
      const flops = () => 2 * N * K * C * dims.out.map((_, i) => validTaps(outSizes[i], p[dims.kernel[i]], p[dims.input[i]], stride, pad, dilation)).reduce((a, b) => a * b, 1);
      return {
        flops,
        inputs: [
          { name: 'I', shape: [N, C, ...dims.input.map((d) => p[d])] },
          { name: 'W', shape: [C, K, ...dims.kernel.map((d) => p[d])], constant: true },
        ],
        output: { name: 'O', shape: [N, K, ...outSizes] },
        spatial: [{ name: 'n', extent: N }, { name: 'k', extent: K }, ...dims.out.map((o, i) => ({ name: o, extent: outSizes[i] }))],
        reduce: [{ name: 'c', extent: C }, ...dims.red.map((r, i) => ({ name: r, extent: p[dims.kernel[i]] }))],
        body: mul(guarded(guards, load('I', [v('n'), v('c'), ...index])), load('W', [v('c'), v('k'), ...dims.red.map((r) => v(r))])),
      };
    },
  };
}

export const convTranspose1d = convTransposeFamily(1);
export const convTranspose2d = convTransposeFamily(2);
export const convTranspose3d = convTransposeFamily(3);
