// Element-wise operators: unary ones keep their input's shape; binary and variadic ones
// broadcast numpy-style. Small integer contents (shape arithmetic) are computed along.
import { InferError } from '../errors.ts';
import { elementCount, formatShape, MAX_VALUES, type Known } from '../facts.ts';
import { input, type InferContext, type ShapeRule } from './context.ts';

/** Operators whose outputs all have the shape of their first input. */
export const SAME_SHAPE_OPS = [
  'Relu', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh',
  'Softplus', 'Softsign', 'Clip', 'Exp', 'Log', 'Sqrt', 'Abs', 'Neg', 'Reciprocal', 'Floor',
  'Ceil', 'Round', 'Sign', 'Erf', 'Sin', 'Cos', 'Not', 'IsNaN', 'IsInf', 'Gelu', 'Mish',
  'Shrink', 'ThresholdedRelu', 'Softmax', 'LogSoftmax', 'Hardmax', 'LRN',
  'InstanceNormalization', 'QuantizeLinear', 'DequantizeLinear', 'CastLike',
];

/** Keeps the first input's shape for the first output only (the others are statistics or masks). */
export const FIRST_OUTPUT_OPS = ['BatchNormalization', 'LayerNormalization', 'Dropout'];

/** Keeps shape and contents. */
export const PASS_THROUGH_OPS = ['Identity', 'Cast'];

export const BROADCAST_OPS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Where',
  'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual', 'And', 'Or', 'Xor', 'BitShift',
];

export const sameShape: ShapeRule = (ctx) => ctx.node.output.map(() => ({ shape: input(ctx, 0).shape }));
export const firstOutput: ShapeRule = (ctx) => [{ shape: input(ctx, 0).shape }];
export const passThrough: ShapeRule = (ctx) => [input(ctx, 0)];

export function broadcastShapes(ctx: InferContext, shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s[s.length - rank + i] ?? 1);
    const big = Math.max(...dims);
    if (dims.some((d) => d !== 1 && d !== big)) {
      throw new InferError(`${ctx.node.opType}: shapes ${shapes.map(formatShape).join(' and ')} do not broadcast`);
    }
    out.push(dims.includes(0) ? 0 : big);
  }
  return out;
}

const ARITHMETIC: Record<string, (a: number, b: number) => number> = {
  Add: (a, b) => a + b, Sub: (a, b) => a - b, Mul: (a, b) => a * b, Max: Math.max, Min: Math.min,
};

export const broadcast: ShapeRule = (ctx) => {
  const facts = ctx.node.input.map((_, i) => input(ctx, i));
  const shape = broadcastShapes(ctx, facts.map((f) => f.shape));
  const op = ARITHMETIC[ctx.node.opType];
  // Contents only for the shape arithmetic of 0-D and 1-D operands (sizes times a scale).
  if (!op || facts.length !== 2 || shape.length > 1 || elementCount(shape) > MAX_VALUES || !facts.every((f) => f.values)) return [{ shape }];
  const at = (f: Known, i: number) => f.values![f.values!.length === 1 ? 0 : i];
  const values = Array.from({ length: elementCount(shape) }, (_, i) => op(at(facts[0], i), at(facts[1], i)));
  return [{ shape, values }];
};
