// Names shared by the 1-D, 2-D and 3-D convolution families.
import type { ParamSpec } from '../compute.ts';

export interface ConvDims {
  /** Input spatial sizes, outermost first: ['H', 'W'] for 2-D. */
  input: string[];
  /** Kernel sizes, same order: ['R', 'S'] for 2-D. */
  kernel: string[];
  /** Output axis names: ['h', 'w']. */
  out: string[];
  /** Kernel reduce axis names: ['r', 's']. */
  red: string[];
}

export const DIMS: Record<1 | 2 | 3, ConvDims> = {
  1: { input: ['L'], kernel: ['R'], out: ['l'], red: ['r'] },
  2: { input: ['H', 'W'], kernel: ['R', 'S'], out: ['h', 'w'], red: ['r', 's'] },
  3: { input: ['D', 'H', 'W'], kernel: ['T', 'R', 'S'], out: ['d', 'h', 'w'], red: ['t', 'r', 's'] },
};

/** Per-axis strides and pads of 2-D direct convolutions (`stride_w`, `pad_h`, …): exported models
 *  use them (strides [2,1] in OCR networks); each defaults to `stride` or `pad`. */
export function perAxisParams(dims: ConvDims): ParamSpec[] {
  return ['stride', 'pad'].flatMap((base) => dims.input.map((d) => ({
    name: `${base}_${d.toLowerCase()}`, min: base === 'stride' ? 1 : 0, inherit: base, doc: `${base} along ${d} (default: ${base})`,
  })));
}

/** The stride and pad of each spatial axis: the per-axis parameter where the family has it. */
export function axisWindows(dims: ConvDims, p: Record<string, number>): { stride: number; pad: number }[] {
  return dims.input.map((d) => ({
    stride: p[`stride_${d.toLowerCase()}`] ?? p.stride,
    pad: p[`pad_${d.toLowerCase()}`] ?? p.pad,
  }));
}

export function convParams(dims: ConvDims, extra: ParamSpec[], overrides: Partial<Record<string, Partial<ParamSpec>>> = {}): ParamSpec[] {
  const specs: ParamSpec[] = [
    { name: 'N', min: 1, doc: 'batch' },
    { name: 'C', min: 1, doc: 'input channels' },
    ...dims.input.map((d) => ({ name: d, min: 1, doc: `input size ${d}` })),
    { name: 'K', min: 1, doc: 'output channels' },
    ...dims.kernel.map((d) => ({ name: d, min: 1, doc: `kernel size ${d}` })),
    { name: 'stride', min: 1, default: 1, doc: 'stride (all spatial dims)' },
    { name: 'pad', min: 0, default: 0, doc: 'zero padding on each side' },
    { name: 'dilation', min: 1, default: 1, doc: 'kernel dilation' },
    ...extra,
  ];
  return specs.map((s) => ({ ...s, ...overrides[s.name] }) as ParamSpec);
}
