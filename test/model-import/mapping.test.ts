// Each mapping rule on a graph built here: ONNX node → flexfarm operator and shape, or the reason
// it is left unmapped; and the shape rules that feed the layers (broadcasting, Reshape computed
// from Shape, Resize, Pad, Flatten, value_info, bound inputs).
import { describe, expect, it } from 'vitest';
import { modelLayers } from '../../coordinator/model-import/model-layers.ts';
import { decodeModel } from '../../coordinator/model-import/load-model.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { floats, floatValues, int64s, modelBytes, node, singleOp, value } from './onnx-builder.ts';

const layersOf = (bytes: Uint8Array, bindings: Record<string, number[]> = {}) => modelLayers(decodeModel(bytes), bindings);
const key = (op: string, shape: Record<string, number>) => defineWorkload(op, shape).key;

describe('Conv mapping', () => {
  it('a plain strided, padded Conv is conv2d, with FLOPs 2·N·K·OH·OW·C·R·S', () => {
    const r = layersOf(singleOp('Conv', [1, 16, 32, 32], [24, 16, 3, 3], { strides: [2, 2], pads: [1, 1, 1, 1] }));
    expect(r.layers).toHaveLength(1);
    expect(r.layers[0].workload).toBe(key('conv2d', { N: 1, C: 16, H: 32, W: 32, K: 24, R: 3, S: 3, stride: 2, pad: 1 }));
    const out = Math.floor((32 + 2 - 3) / 2) + 1;
    expect(r.layers[0].flops).toBe(2 * 24 * out * out * 16 * 9);
    expect(r.layers[0]).toMatchObject({ op: 'conv2d', count: 1, share: 1 });
  });

  it('groups between 1 and C make grouped_conv2d', () => {
    const r = layersOf(singleOp('Conv', [2, 32, 14, 14], [64, 8, 3, 3], { group: 4, pads: [1, 1, 1, 1] }));
    expect(r.layers[0].workload).toBe(key('grouped_conv2d', { N: 2, C: 32, H: 14, W: 14, K: 64, R: 3, S: 3, pad: 1, groups: 4 }));
  });

  it('groups equal to the channels make depthwise_conv2d, with the channel multiplier', () => {
    const one = layersOf(singleOp('Conv', [1, 48, 20, 20], [48, 1, 5, 5], { group: 48, pads: [2, 2, 2, 2] }));
    expect(one.layers[0].workload).toBe(key('depthwise_conv2d', { N: 1, C: 48, H: 20, W: 20, R: 5, S: 5, pad: 2, multiplier: 1 }));
    const two = layersOf(singleOp('Conv', [1, 8, 20, 20], [16, 1, 3, 3], { group: 8 }));
    expect(two.layers[0].workload).toBe(key('depthwise_conv2d', { N: 1, C: 8, H: 20, W: 20, R: 3, S: 3, multiplier: 2 }));
  });

  it('a dilated Conv is dilated_conv2d', () => {
    const r = layersOf(singleOp('Conv', [1, 8, 33, 33], [8, 8, 3, 3], { dilations: [2, 2], pads: [2, 2, 2, 2] }));
    expect(r.layers[0].workload).toBe(key('dilated_conv2d', { N: 1, C: 8, H: 33, W: 33, K: 8, R: 3, S: 3, pad: 2, dilation: 2 }));
  });

  it('1-D and 3-D Convs map by rank; auto_pad SAME_UPPER with an even total pads alike', () => {
    const c1 = layersOf(singleOp('Conv', [1, 4, 50], [6, 2, 5], { group: 2, auto_pad: 'SAME_UPPER' }));
    expect(c1.layers[0].workload).toBe(key('conv1d', { N: 1, C: 4, L: 50, K: 6, R: 5, pad: 2, groups: 2 }));
    const c3 = layersOf(singleOp('Conv', [1, 2, 6, 8, 8], [4, 2, 3, 3, 3], {}));
    expect(c3.layers[0].workload).toBe(key('conv3d', { N: 1, C: 2, D: 6, H: 8, W: 8, K: 4, T: 3, R: 3, S: 3 }));
  });

  it('per-axis strides and pads of a 2-D Conv become stride_w and pad_w', () => {
    const r = layersOf(singleOp('Conv', [1, 8, 24, 96], [8, 1, 3, 3], { group: 8, strides: [2, 1], pads: [1, 0, 1, 0] }));
    expect(r.layers[0].workload).toBe(key('depthwise_conv2d', { N: 1, C: 8, H: 24, W: 96, R: 3, S: 3, stride: 2, stride_w: 1, pad: 1, pad_w: 0 }));
    expect(defineWorkload('depthwise_conv2d', { N: 1, C: 8, H: 24, W: 96, R: 3, S: 3, stride: 2, stride_w: 1, pad: 1, pad_w: 0 }).output.shape).toEqual([1, 8, 12, 94]);
  });

  it('unmappable Convs are listed with the reason: asymmetric pads, per-axis dilations, 1-D/3-D per-axis strides, odd SAME padding', () => {
    const model = modelBytes({
      nodes: [
        node('Conv', ['x', 'w'], ['a'], { pads: [0, 0, 1, 1] }, 'asym'),
        node('Conv', ['x', 'w'], ['b'], { dilations: [2, 1] }, 'dilated'),
        node('Conv', ['x', 'w'], ['c'], { auto_pad: 'SAME_UPPER' }, 'same'), // 2x2 at stride 1: one pad in all, at the end
        node('Conv', ['x', 'w'], ['d'], { pads: [1, 1, 1, 1] }, 'fine'),
      ],
      inputs: [value('x', [1, 4, 16, 16])], initializers: [floats('w', [4, 4, 2, 2])],
      outputs: [value('a'), value('b'), value('c'), value('d')],
    });
    const r = layersOf(model);
    expect(r.layers.map((l) => l.nodes)).toEqual([['fine']]);
    const reasons = Object.fromEntries(r.unmapped.map((u) => [u.node, u.reason]));
    expect(reasons.asym).toMatch(/asymmetric pads \[0,0,1,1\]/);
    expect(reasons.dilated).toMatch(/dilations differ per axis \[2,1\]/);
    expect(reasons.same).toMatch(/asymmetric pads \[0,0,1,1\]/);
    expect(r.unmapped.every((u) => u.opType === 'Conv')).toBe(true);
    const conv3d = layersOf(modelBytes({
      nodes: [node('Conv', ['x', 'w'], ['a'], { strides: [1, 2, 2] }), node('Conv', ['x', 'w'], ['b'])],
      inputs: [value('x', [1, 2, 6, 8, 8])], initializers: [floats('w', [4, 2, 3, 3, 3])], outputs: [value('a'), value('b')],
    }));
    expect(conv3d.unmapped).toEqual([expect.objectContaining({ reason: expect.stringMatching(/strides differ per axis \[1,2,2\]: conv3d takes one stride/) })]);
  });
});

describe('ConvTranspose, Gemm and MatMul', () => {
  it('a strided ConvTranspose is conv_transpose2d with the output channels from the weights', () => {
    const r = layersOf(singleOp('ConvTranspose', [1, 24, 40, 40], [24, 12, 2, 2], { strides: [2, 2] }));
    expect(r.layers[0].workload).toBe(key('conv_transpose2d', { N: 1, C: 24, H: 40, W: 40, K: 12, R: 2, S: 2, stride: 2 }));
    const out = layersOf(modelBytes({
      nodes: [node('ConvTranspose', ['x', 'w'], ['y'], { strides: [2, 2] }), node('Conv', ['y', 'v'], ['z'])],
      inputs: [value('x', [1, 24, 40, 40])], initializers: [floats('w', [24, 12, 2, 2]), floats('v', [4, 12, 1, 1])],
    }));
    // The Conv after it sees the transposed output, (40-1)*2 + 2 = 80 on a side.
    expect(out.layers.map((l) => l.workload)).toContain(key('conv2d', { N: 1, C: 12, H: 80, W: 80, K: 4, R: 1, S: 1 }));
  });

  it('grouped ConvTranspose and output_padding are left unmapped with the reason', () => {
    const grouped = modelBytes({
      nodes: [node('ConvTranspose', ['x', 'w'], ['a'], { group: 2 }, 'g'), node('ConvTranspose', ['x', 'w'], ['b'], { strides: [2, 2], output_padding: [1, 1] }, 'p'), node('Conv', ['x', 'v'], ['c'])],
      inputs: [value('x', [1, 8, 10, 10])], initializers: [floats('w', [8, 3, 3, 3]), floats('v', [8, 8, 1, 1])],
      outputs: [value('a'), value('b'), value('c')],
    });
    const reasons = Object.fromEntries(layersOf(grouped).unmapped.map((u) => [u.node, u.reason]));
    expect(reasons.g).toMatch(/grouped ConvTranspose \(group 2\)/);
    expect(reasons.p).toMatch(/output_padding \[1,1\]/);
  });

  it('Gemm with transB is gemm(M, N, K)', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], { transB: 1 })],
      inputs: [value('x', [8, 512])], initializers: [floats('w', [1000, 512]), floats('b', [1000])],
    }));
    expect(r.layers[0].workload).toBe(key('gemm', { M: 8, N: 1000, K: 512 }));
  });

  it('MatMul with the same batch on both sides is batch_gemm; with 2-D weights the batch rows stack into gemm', () => {
    const batched = layersOf(modelBytes({
      nodes: [node('MatMul', ['q', 'k'], ['y'])],
      inputs: [value('q', [2, 3, 40, 16]), value('k', [2, 3, 16, 40])],
    }));
    expect(batched.layers[0].workload).toBe(key('batch_gemm', { B: 6, M: 40, N: 40, K: 16 }));
    const shared = layersOf(modelBytes({
      nodes: [node('MatMul', ['x', 'w'], ['y'])],
      inputs: [value('x', [4, 25, 64])], initializers: [floats('w', [64, 128])],
    }));
    expect(shared.layers[0].workload).toBe(key('gemm', { M: 100, N: 128, K: 64 }));
  });

  it('MatMul whose batches broadcast is unmapped with the reason', () => {
    const r = modelBytes({
      nodes: [node('MatMul', ['a', 'b'], ['y'], {}, 'mm'), node('Gemm', ['m', 'n'], ['z'])],
      inputs: [value('a', [1, 5, 8]), value('b', [3, 8, 4]), value('m', [2, 3]), value('n', [3, 4])],
      outputs: [value('y'), value('z')],
    });
    expect(layersOf(r).unmapped).toEqual([{ node: 'mm', opType: 'MatMul', reason: expect.stringMatching(/batch dimensions broadcast/) }]);
  });
});

describe('shapes through the graph', () => {
  it('a broadcasting Add (bias [1,C,1,1]) keeps the feature map shape for the next Conv', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Add', ['x', 'bias'], ['a']), node('Relu', ['a'], ['r']), node('Conv', ['r', 'w'], ['y'])],
      inputs: [value('x', [1, 8, 12, 12])], initializers: [floats('bias', [1, 8, 1, 1]), floats('w', [16, 8, 3, 3])],
    }));
    expect(r.layers[0].workload).toBe(key('conv2d', { N: 1, C: 8, H: 12, W: 12, K: 16, R: 3, S: 3 }));
    expect(r.untuned).toEqual({ Add: 1, Relu: 1 });
  });

  it('shapes that do not broadcast leave the next layer unmapped, naming the node', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Add', ['x', 'bias'], ['a'], {}, 'badd'), node('Conv', ['a', 'w'], ['y'], {}, 'c'), node('Conv', ['x', 'w'], ['z'])],
      inputs: [value('x', [1, 8, 12, 12])], initializers: [floats('bias', [1, 3, 1, 1]), floats('w', [16, 8, 3, 3])],
      outputs: [value('y'), value('z')],
    }));
    expect(r.unmapped).toEqual([{ node: 'c', opType: 'Conv', reason: expect.stringMatching(/do not broadcast.*badd/) }]);
  });

  it('Reshape to a target computed by Shape → Gather → Concat, then Gemm', () => {
    const r = layersOf(modelBytes({
      nodes: [
        node('GlobalAveragePool', ['x'], ['p']),
        node('Shape', ['p'], ['s']),
        node('Gather', ['s', 'zero'], ['n'], { axis: 0 }),
        node('Unsqueeze', ['n', 'axes0'], ['n1']),
        node('Concat', ['n1', 'minus1'], ['target'], { axis: 0 }),
        node('Reshape', ['p', 'target'], ['flat']),
        node('Gemm', ['flat', 'w'], ['y']),
      ],
      inputs: [value('x', [3, 200, 7, 7])],
      initializers: [int64s('zero', [0], []), int64s('axes0', [0]), int64s('minus1', [-1]), floats('w', [200, 10])],
    }));
    expect(r.layers[0].workload).toBe(key('gemm', { M: 3, N: 10, K: 200 }));
  });

  it('Resize with constant scales, Pad, MaxPool, Concat and Flatten carry shapes to the layers', () => {
    const r = layersOf(modelBytes({
      nodes: [
        node('Resize', ['x', '', 'scales'], ['up'], { mode: 'nearest' }),
        node('Pad', ['up', 'pads'], ['padded']),
        node('MaxPool', ['padded'], ['pooled'], { kernel_shape: [2, 2], strides: [2, 2] }),
        node('Concat', ['pooled', 'pooled'], ['cat'], { axis: 1 }),
        node('Conv', ['cat', 'w'], ['y']),
        node('Flatten', ['y'], ['f']),
        node('MatMul', ['f', 'm'], ['z']),
      ],
      inputs: [value('x', [1, 4, 10, 10])],
      initializers: [floatValues('scales', [1, 1, 2, 2]), int64s('pads', [0, 0, 1, 1, 0, 0, 1, 1]), floats('w', [6, 8, 1, 1]), floats('m', [6 * 11 * 11, 5])],
    }));
    // 10 → 20 (Resize) → 22 (Pad) → 11 (MaxPool); channels 4 + 4 (Concat).
    expect(r.layers.map((l) => l.workload).sort()).toEqual([
      key('conv2d', { N: 1, C: 8, H: 11, W: 11, K: 6, R: 1, S: 1 }),
      key('gemm', { M: 1, N: 5, K: 6 * 11 * 11 }),
    ].sort());
  });

  it('identical layers are counted once with their count, and shares add up to one', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Conv', ['x', 'w'], ['a'], { pads: [1, 1, 1, 1] }), node('Conv', ['a', 'w'], ['b'], { pads: [1, 1, 1, 1] }), node('Conv', ['b', 'v'], ['c'])],
      inputs: [value('x', [1, 8, 16, 16])], initializers: [floats('w', [8, 8, 3, 3]), floats('v', [2, 8, 1, 1])],
    }));
    expect(r.layers.map((l) => l.count)).toEqual([2, 1]);
    expect(r.layers[0].flops).toBe(2 * defineWorkload('conv2d', { N: 1, C: 8, H: 16, W: 16, K: 8, R: 3, S: 3, pad: 1 }).flops);
    expect(r.layers.reduce((s, l) => s + l.share, 0)).toBeCloseTo(1, 12);
  });

  it('an unsupported op is listed with the reason, and the layer it feeds says its input is unknown', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Einsum', ['x'], ['e'], { equation: 'nchw->nchw' }, 'ein'), node('Conv', ['e', 'w'], ['y'], {}, 'after'), node('Conv', ['x', 'w'], ['z'], {}, 'direct')],
      inputs: [value('x', [1, 8, 12, 12])], initializers: [floats('w', [16, 8, 3, 3])],
      outputs: [value('y'), value('z')],
    }));
    expect(r.layers.map((l) => l.nodes)).toEqual([['direct']]);
    expect(r.unmapped).toEqual([
      { node: 'ein', opType: 'Einsum', reason: expect.stringMatching(/unsupported op 'Einsum'/) },
      { node: 'after', opType: 'Conv', reason: expect.stringMatching(/input shape unknown: .*Einsum.*'ein'/) },
    ]);
  });

  it('a Reshape whose target is computed at run time is a dynamic shape, named in the reason', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Reshape', ['x', 't'], ['r'], {}, 'dyn'), node('Conv', ['r', 'w'], ['y'], {}, 'c'), node('Conv', ['x', 'w'], ['z'])],
      inputs: [value('x', [1, 8, 12, 12]), value('t', [4])], initializers: [floats('w', [16, 8, 3, 3])],
      outputs: [value('y'), value('z')],
    }));
    expect(r.unmapped[0]).toEqual({ node: 'c', opType: 'Conv', reason: expect.stringMatching(/dynamic shape.*'dyn'/) });
  });

  it('value_info supplies the shapes of tensors made by ops without a shape rule', () => {
    const r = layersOf(modelBytes({
      nodes: [node('Einsum', ['x'], ['e'], { equation: 'nchw->nchw' }), node('Conv', ['e', 'w'], ['y'])],
      inputs: [value('x', [1, 8, 12, 12])], initializers: [floats('w', [16, 8, 3, 3])],
      valueInfo: [value('e', [1, 8, 12, 12])],
    }));
    expect(r.layers[0].workload).toBe(key('conv2d', { N: 1, C: 8, H: 12, W: 12, K: 16, R: 3, S: 3 }));
  });

  it('--input binds dynamic dimensions; unbound ones and bindings that do not fit are errors naming the input', () => {
    const bytes = singleOp('Conv', [1, 3, 32, 32], [8, 3, 3, 3], {});
    const dynamic = modelBytes({ nodes: [node('Conv', ['img', 'w'], ['y'])], inputs: [value('img', ['batch', 3, 'h', 'w'])], initializers: [floats('w', [8, 3, 3, 3])] });
    expect(layersOf(dynamic, { img: [2, 3, 64, 48] }).layers[0].workload).toBe(key('conv2d', { N: 2, C: 3, H: 64, W: 48, K: 8, R: 3, S: 3 }));
    expect(() => layersOf(dynamic)).toThrow(/input 'img' has dynamic dimensions \[batch,3,h,w\]: bind them with --input img=/);
    expect(() => layersOf(dynamic, { img: [1, 4, 8, 8] })).toThrow(/does not fit the model's input img\[batch,3,h,w\]/);
    expect(() => layersOf(bytes, { image: [1, 3, 8, 8] })).toThrow(/no input 'image' \(its inputs: x\)/);
  });
});
