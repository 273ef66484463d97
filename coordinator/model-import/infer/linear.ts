// Matrix products: Gemm (2-D, optional transposes) and MatMul (numpy semantics: 1-D operands,
// broadcast batch dimensions).
import { InferError } from '../errors.ts';
import { formatShape } from '../facts.ts';
import { broadcastShapes } from './elementwise.ts';
import { input, type InferContext, type ShapeRule } from './context.ts';

export function gemmDims(ctx: InferContext): { M: number; N: number; K: number } {
  const a = input(ctx, 0, 'input A').shape, b = input(ctx, 1, 'input B').shape;
  if (a.length !== 2 || b.length !== 2) throw new InferError(`Gemm: A ${formatShape(a)} and B ${formatShape(b)} must be 2-D`);
  const [M, K] = ctx.attrs.int('transA', 0) ? [a[1], a[0]] : a;
  const [KB, N] = ctx.attrs.int('transB', 0) ? [b[1], b[0]] : b;
  if (K !== KB) throw new InferError(`Gemm: inner dimensions differ: A ${formatShape(a)}, B ${formatShape(b)} (transA ${ctx.attrs.int('transA', 0)}, transB ${ctx.attrs.int('transB', 0)})`);
  return { M, N, K };
}

export interface MatMulDims {
  /** Broadcast batch dimensions of the output, and of each operand before broadcasting. */
  batch: number[]; batchA: number[]; batchB: number[];
  M: number; N: number; K: number;
  /** Which operands were 1-D (a vector: M or N is 1 and the dimension is dropped). */
  vectorA: boolean; vectorB: boolean;
}

export function matmulDims(ctx: InferContext): MatMulDims {
  const a = input(ctx, 0, 'input A').shape, b = input(ctx, 1, 'input B').shape;
  if (!a.length || !b.length) throw new InferError(`MatMul: scalar operand (${formatShape(a)}, ${formatShape(b)})`);
  const vectorA = a.length === 1, vectorB = b.length === 1;
  const a2 = vectorA ? [1, a[0]] : a, b2 = vectorB ? [b[0], 1] : b;
  const [M, K] = a2.slice(-2), [KB, N] = b2.slice(-2);
  if (K !== KB) throw new InferError(`MatMul: inner dimensions differ: A ${formatShape(a)}, B ${formatShape(b)}`);
  const batchA = a2.slice(0, -2), batchB = b2.slice(0, -2);
  return { batch: broadcastShapes(ctx, [batchA, batchB]), batchA, batchB, M, N, K, vectorA, vectorB };
}

export const gemm: ShapeRule = (ctx) => {
  const { M, N } = gemmDims(ctx);
  return [{ shape: [M, N] }];
};

export const matmul: ShapeRule = (ctx) => {
  const d = matmulDims(ctx);
  return [{ shape: [...d.batch, ...(d.vectorA ? [] : [d.M]), ...(d.vectorB ? [] : [d.N])] }];
};
