// The shape rules by ONNX operator type (default domain).
import type { ShapeRule } from './context.ts';
import { conv, convTranspose, globalPool, pool } from './conv-pool.ts';
import { BROADCAST_OPS, broadcast, FIRST_OUTPUT_OPS, firstOutput, PASS_THROUGH_OPS, passThrough, SAME_SHAPE_OPS, sameShape } from './elementwise.ts';
import { gemm, matmul } from './linear.ts';
import { pad, resize, upsample } from './resize-pad.ts';
import {
  argReduce, concat, constant, constantOfShape, expand, flatten, gather, reduce, reshape, shapeOf,
  size, slice, split, squeeze, tile, transpose, unsqueeze,
} from './shape-ops.ts';

const REDUCTIONS = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSumExp', 'ReduceSumSquare'];

const RULES: Record<string, ShapeRule> = {
  ...Object.fromEntries(SAME_SHAPE_OPS.map((op) => [op, sameShape])),
  ...Object.fromEntries(FIRST_OUTPUT_OPS.map((op) => [op, firstOutput])),
  ...Object.fromEntries(PASS_THROUGH_OPS.map((op) => [op, passThrough])),
  ...Object.fromEntries(BROADCAST_OPS.map((op) => [op, broadcast])),
  ...Object.fromEntries(REDUCTIONS.map((op) => [op, reduce])),
  ArgMax: argReduce, ArgMin: argReduce,
  Conv: conv, ConvTranspose: convTranspose,
  MaxPool: pool, AveragePool: pool, LpPool: pool,
  GlobalAveragePool: globalPool, GlobalMaxPool: globalPool, GlobalLpPool: globalPool,
  Gemm: gemm, MatMul: matmul,
  Constant: constant, Shape: shapeOf, Size: size, Gather: gather, Slice: slice, Concat: concat,
  Reshape: reshape, Flatten: flatten, Transpose: transpose, Squeeze: squeeze, Unsqueeze: unsqueeze,
  Expand: expand, Tile: tile, ConstantOfShape: constantOfShape, Split: split,
  Resize: resize, Upsample: upsample, Pad: pad,
};

export function shapeRule(opType: string): ShapeRule | undefined {
  return Object.hasOwn(RULES, opType) ? RULES[opType] : undefined;
}
