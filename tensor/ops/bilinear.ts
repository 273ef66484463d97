// Bilinear form (FlexTensor's "bilinear"): out[n,m] = sum_{k1,k2} A[n,k1] * B[n,k2] * W[m,k1,k2].
import type { OpFamily } from '../compute.ts';
import { load, mul, v } from '../ir.ts';

export const bilinear: OpFamily = {
  name: 'bilinear',
  summary: 'out[n,m] = sum_{k1,k2} A[n,k1] * B[n,k2] * W[m,k1,k2]',
  params: [
    { name: 'N', min: 1, doc: 'batch (rows of A and B)' },
    { name: 'K1', min: 1, doc: 'features of A' },
    { name: 'K2', min: 1, doc: 'features of B' },
    { name: 'M', min: 1, doc: 'output features' },
  ],
  build: ({ N, K1, K2, M }) => ({
    inputs: [{ name: 'A', shape: [N, K1] }, { name: 'B', shape: [N, K2] }, { name: 'W', shape: [M, K1, K2], constant: true }],
    output: { name: 'Out', shape: [N, M] },
    spatial: [{ name: 'n', extent: N }, { name: 'm', extent: M }],
    reduce: [{ name: 'k1', extent: K1 }, { name: 'k2', extent: K2 }],
    body: mul(mul(load('A', [v('n'), v('k1')]), load('B', [v('n'), v('k2')])), load('W', [v('m'), v('k1'), v('k2')])),
  }),
};
