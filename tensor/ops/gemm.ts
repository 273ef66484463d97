// Matrix products: GEMV, GEMM and batched GEMM.
import type { OpFamily } from '../compute.ts';
import { load, mul, v } from '../ir.ts';

const extent = (name: string, doc: string) => ({ name, min: 1, doc });

export const gemv: OpFamily = {
  name: 'gemv',
  summary: 'y[m] = sum_k A[m,k] * x[k]',
  params: [extent('M', 'rows of A, length of y'), extent('K', 'columns of A, length of x')],
  build: ({ M, K }) => ({
    inputs: [{ name: 'A', shape: [M, K], constant: true }, { name: 'X', shape: [K] }],
    output: { name: 'Y', shape: [M] },
    spatial: [{ name: 'm', extent: M }],
    reduce: [{ name: 'k', extent: K }],
    body: mul(load('A', [v('m'), v('k')]), load('X', [v('k')])),
  }),
};

export const gemm: OpFamily = {
  name: 'gemm',
  summary: 'C[m,n] = sum_k A[m,k] * B[k,n]',
  params: [extent('M', 'rows of A and C'), extent('N', 'columns of B and C'), extent('K', 'reduction length')],
  build: ({ M, N, K }) => ({
    inputs: [{ name: 'A', shape: [M, K] }, { name: 'B', shape: [K, N], constant: true }],
    output: { name: 'C', shape: [M, N] },
    spatial: [{ name: 'm', extent: M }, { name: 'n', extent: N }],
    reduce: [{ name: 'k', extent: K }],
    body: mul(load('A', [v('m'), v('k')]), load('B', [v('k'), v('n')])),
  }),
};

export const batchGemm: OpFamily = {
  name: 'batch_gemm',
  summary: 'C[b,m,n] = sum_k A[b,m,k] * B[b,k,n]',
  params: [extent('B', 'batch size'), extent('M', 'rows'), extent('N', 'columns'), extent('K', 'reduction length')],
  build: ({ B, M, N, K }) => ({
    inputs: [{ name: 'A', shape: [B, M, K] }, { name: 'B', shape: [B, K, N], constant: true }],
    output: { name: 'C', shape: [B, M, N] },
    spatial: [{ name: 'b', extent: B }, { name: 'm', extent: M }, { name: 'n', extent: N }],
    reduce: [{ name: 'k', extent: K }],
    body: mul(load('A', [v('b'), v('m'), v('k')]), load('B', [v('b'), v('k'), v('n')])),
  }),
};
