// What a shape rule sees of a node: its attributes, its inputs' facts (undefined where an
// optional input is left out) and the model's opset, with the helpers rules share.
import type { NodeProto } from 'onnx-buf';
import { Attributes } from '../attributes.ts';
import { InferError } from '../errors.ts';
import { formatShape, type Known } from '../facts.ts';

export interface InferContext {
  node: NodeProto;
  attrs: Attributes;
  inputs: (Known | undefined)[];
  opset: number;
}

/** A shape rule: the facts of the node's outputs, in order (missing ones stay unknown). */
export type ShapeRule = (ctx: InferContext) => Known[];

export function input(ctx: InferContext, index: number, what = `input ${index}`): Known {
  const fact = ctx.inputs[index];
  if (!fact) throw new InferError(`${ctx.node.opType} needs its ${what}, which is missing`);
  return fact;
}

/** An input's contents, which the output shape depends on (a Reshape's target, a Pad's pads). */
export function constantValues(ctx: InferContext, index: number, what: string): number[] {
  const fact = input(ctx, index, what);
  if (!fact.values) throw new InferError(`${ctx.node.opType}'s ${what} is computed at run time (not a constant): a dynamic shape`);
  return fact.values;
}

/** An optional input's contents, or undefined when it is left out or empty. */
export function optionalValues(ctx: InferContext, index: number, what: string): number[] | undefined {
  const fact = ctx.inputs[index];
  if (!fact || fact.shape.includes(0)) return undefined;
  return constantValues(ctx, index, what);
}

/** A possibly negative axis, checked against the rank. */
export function axis(ctx: InferContext, value: number, rank: number): number {
  const a = value < 0 ? value + rank : value;
  if (a < 0 || a >= rank) throw new InferError(`${ctx.node.opType}: axis ${value} is out of range for rank ${rank}`);
  return a;
}

export function rankError(ctx: InferContext, shape: number[], expected: string): InferError {
  return new InferError(`${ctx.node.opType}: input of shape ${formatShape(shape)} has the wrong rank (expected ${expected})`);
}
