// What an operator instance is: tensors, spatial and reduce axes, and one body expression.
// out[spatial...] = sum over reduce axes of body (no reduce axes: out = body).
import type { Expr } from './ir.ts';

export interface Axis { name: string; extent: number }
export interface TensorDecl {
  name: string;
  shape: number[];
  /** An input held fixed across runs (weights, the right-hand matrix): a schedule may lay it out
   *  ahead of time, once and untimed, as TVM, Ansor and oneDNN do with weights. */
  constant?: boolean;
}
export type DType = 'float32';

export interface ComputeDef {
  op: string;
  /** Every shape parameter, defaults filled in. */
  params: Record<string, number>;
  /** Canonical workload key, e.g. `gemm(M=512,N=512,K=512,dtype=float32)`. */
  key: string;
  dtype: DType;
  /** Floating-point operations of one run (multiply-add = 2). */
  flops: number;
  inputs: TensorDecl[];
  /** Output tensor; its shape equals the spatial extents, indexed by the spatial axes in order. */
  output: TensorDecl;
  spatial: Axis[];
  reduce: Axis[];
  body: Expr;
}

/** One shape parameter of an operator family. */
export interface ParamSpec {
  name: string;
  /** Absent: the parameter is required. */
  default?: number;
  /** Smallest allowed value (extents 1, pads 0, strides 1). */
  min: number;
  /** When the shape leaves it out, it takes this earlier parameter's value (a per-axis stride
   *  takes `stride`); the workload key leaves it out while the two are equal, so keys written
   *  before the parameter existed stay the same. */
  inherit?: string;
  doc: string;
}

/** An operator family: its parameters and how to build the compute definition from them. */
export interface OpFamily {
  name: string;
  summary: string;
  params: ParamSpec[];
  /** Build the definition from validated, defaulted params; throws ShapeError on inconsistent shapes. */
  build(p: Record<string, number>): Omit<ComputeDef, 'op' | 'params' | 'key' | 'dtype' | 'flops'> & {
    /** Useful FLOPs when they differ from (spatial x reduce points x body ops), e.g. taps a guard skips;
     *  a function when counting them takes time: called only once the tensors fit the memory cap. */
    flops?: number | (() => number);
  };
}
