// Tunable ONNX nodes onto flexfarm's operators (tensor/ops): Conv by rank, groups (depthwise when
// groups equal the input channels), dilation and per-axis strides and pads (2-D); ConvTranspose; Gemm; MatMul (batched when both
// operands have the same batch). A node that does not fit gets the reason instead.
import { formatShape } from './facts.ts';
import type { InferContext } from './infer/context.ts';
import { convGeometry, convTransposeGeometry } from './infer/conv-pool.ts';
import { gemmDims, matmulDims } from './infer/linear.ts';

export type Mapping = { op: string; shape: Record<string, number> } | { reason: string };

export const TUNABLE_OPS = ['Conv', 'ConvTranspose', 'Gemm', 'MatMul'];

const SPATIAL: Record<number, { input: string[]; kernel: string[] }> = {
  1: { input: ['L'], kernel: ['R'] },
  2: { input: ['H', 'W'], kernel: ['R', 'S'] },
  3: { input: ['D', 'H', 'W'], kernel: ['T', 'R', 'S'] },
};

export function mapNode(ctx: InferContext): Mapping {
  switch (ctx.node.opType) {
    case 'Conv': return mapConv(ctx);
    case 'ConvTranspose': return mapConvTranspose(ctx);
    case 'Gemm': return { op: 'gemm', shape: gemmDims(ctx) };
    case 'MatMul': return mapMatMul(ctx);
    default: return { reason: `${ctx.node.opType} is not a tunable op` };
  }
}

/** Our convolutions pad both sides of an axis alike and take one dilation; 2-D direct
 *  convolutions take a stride and pad per axis (stride_w, pad_w when they differ from H's), the
 *  others one for all axes. */
function windowParams(op: string, g: { strides: number[]; dilations: number[]; padsBegin: number[]; padsEnd: number[] }, perAxis: boolean): { params: Record<string, number>; dilation: number } | { reason: string } {
  if (g.padsBegin.some((p, i) => p !== g.padsEnd[i])) {
    return { reason: `asymmetric pads ${formatShape([...g.padsBegin, ...g.padsEnd])} (begins ${formatShape(g.padsBegin)}, ends ${formatShape(g.padsEnd)}): ${op} pads both sides alike` };
  }
  if (g.dilations.some((d) => d !== g.dilations[0])) return { reason: `dilations differ per axis ${formatShape(g.dilations)}: ${op} takes one dilation for all axes` };
  const window = { stride: g.strides[0], pad: g.padsBegin[0], dilation: g.dilations[0] };
  if (perAxis && g.strides.length === 2) return { params: { ...window, stride_w: g.strides[1], pad_w: g.padsBegin[1] }, dilation: window.dilation };
  if (g.strides.some((s) => s !== g.strides[0])) return { reason: `strides differ per axis ${formatShape(g.strides)}: ${op} takes one stride for all axes` };
  if (g.padsBegin.some((p) => p !== g.padsBegin[0])) return { reason: `pads differ per axis ${formatShape(g.padsBegin)}: ${op} takes one pad for all axes` };
  return { params: window, dilation: window.dilation };
}

function spatialParams(rank: number, input: number[], kernel: number[]): Record<string, number> {
  const names = SPATIAL[rank];
  return Object.fromEntries([...names.input.map((n, i) => [n, input[i]]), ...names.kernel.map((n, i) => [n, kernel[i]])]);
}

function mapConv(ctx: InferContext): Mapping {
  const g = convGeometry(ctx);
  const rank = g.x.length - 2;
  if (!SPATIAL[rank]) return { reason: `Conv with ${rank} spatial axes: flexfarm has 1-D to 3-D convolutions` };
  const op = rank === 1 ? 'conv1d' : rank === 3 ? 'conv3d' : 'conv2d';
  if (formatShape(g.kernel) !== formatShape(g.w.slice(2))) return { reason: `kernel_shape ${formatShape(g.kernel)} differs from the weights ${formatShape(g.w)}` };
  const window = windowParams(op, g, rank === 2);
  if ('reason' in window) return window;
  const [N, C] = g.x, K = g.w[0];
  const shape = { N, C, K, ...spatialParams(rank, g.x.slice(2), g.kernel), ...window.params };
  if (rank !== 2) return { op, shape: { ...shape, groups: g.group } };
  if (g.group === C && C > 1) {
    const { K: _k, ...rest } = shape;
    return { op: 'depthwise_conv2d', shape: { ...rest, multiplier: K / C } };
  }
  if (g.group > 1) return { op: 'grouped_conv2d', shape: { ...shape, groups: g.group } };
  return { op: window.dilation > 1 ? 'dilated_conv2d' : 'conv2d', shape };
}

function mapConvTranspose(ctx: InferContext): Mapping {
  const g = convTransposeGeometry(ctx);
  const rank = g.x.length - 2;
  if (!SPATIAL[rank]) return { reason: `ConvTranspose with ${rank} spatial axes: flexfarm has 1-D to 3-D transposed convolutions` };
  const op = `conv_transpose${rank}d`;
  if (g.group !== 1) return { reason: `grouped ConvTranspose (group ${g.group}): ${op} has no groups` };
  if (g.outputPadding.some((p) => p !== 0)) return { reason: `output_padding ${formatShape(g.outputPadding)}: ${op} has none` };
  const window = windowParams(op, g, false);
  if ('reason' in window) return window;
  return { op, shape: { N: g.x[0], C: g.x[1], K: g.channels, ...spatialParams(rank, g.x.slice(2), g.kernel), ...window.params } };
}

function mapMatMul(ctx: InferContext): Mapping {
  const d = matmulDims(ctx);
  const batch = d.batch.reduce((a, b) => a * b, 1);
  if (d.vectorB && !d.vectorA && batch === 1) return { op: 'gemv', shape: { M: d.M, K: d.K } };
  // B shared by every batch element (2-D weights): the batch rows stack into one GEMM.
  if (d.batchB.every((b) => b === 1)) return { op: 'gemm', shape: { M: d.M * batch, N: d.N, K: d.K } };
  const pad = (s: number[]) => [...Array(d.batch.length - s.length).fill(1), ...s];
  if (formatShape(pad(d.batchA)) === formatShape(pad(d.batchB))) return { op: 'batch_gemm', shape: { B: batch, M: d.M, N: d.N, K: d.K } };
  return { reason: `MatMul batch dimensions broadcast (A ${formatShape(d.batchA)}, B ${formatShape(d.batchB)}): batch_gemm needs one batch for both` };
}
