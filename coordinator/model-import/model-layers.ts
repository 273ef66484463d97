// A model's tunable layers: every Conv, ConvTranspose, Gemm and MatMul mapped onto an operator,
// grouped by workload with its count and share of the FLOPs; every node that cannot be mapped
// with its reason; the other nodes counted by type (element-wise, pooling, data movement: not tuned).
import { ShapeError } from '../../tensor/errors.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import { InferError, ModelImportError } from './errors.ts';
import { inferGraphShapes, isDefaultDomain, nodeLabel, type NodeShapes } from './graph-shapes.ts';
import { loadModel, type LoadedModel } from './load-model.ts';
import { shapeRule } from './infer/rules.ts';
import { mapNode, TUNABLE_OPS } from './map-node.ts';

export interface ModelLayer {
  op: string;
  workload: string;
  /** Nodes with this workload. */
  count: number;
  /** FLOPs of all `count` nodes together (one run of the model). */
  flops: number;
  /** Of the mapped layers' FLOPs. */
  share: number;
  /** The nodes, by name. */
  nodes: string[];
}

export interface UnmappedNode { node: string; opType: string; reason: string }

export interface ModelLayers {
  path: string;
  opset: number;
  nodeCount: number;
  inputs: { name: string; shape: number[] }[];
  /** Largest FLOP total first. */
  layers: ModelLayer[];
  unmapped: UnmappedNode[];
  /** Nodes left to the framework, by op type. */
  untuned: Record<string, number>;
  totalFlops: number;
}

export function importModelLayers(path: string, bindings: Record<string, number[]> = {}): ModelLayers {
  return modelLayers(loadModel(path), bindings);
}

export function modelLayers(loaded: LoadedModel, bindings: Record<string, number[]> = {}): ModelLayers {
  const shapes = inferGraphShapes(loaded, bindings);
  const byKey = new Map<string, ModelLayer>();
  const unmapped: UnmappedNode[] = [];
  const untuned: Record<string, number> = {};
  for (const entry of shapes.nodes) {
    const outcome = classify(entry);
    const label = nodeLabel(entry.node, entry.index);
    if (outcome === 'untuned') untuned[entry.node.opType] = (untuned[entry.node.opType] ?? 0) + 1;
    else if ('reason' in outcome) unmapped.push({ node: label, opType: entry.node.opType, reason: outcome.reason });
    else {
      const layer = byKey.get(outcome.workload) ?? { op: outcome.op, workload: outcome.workload, count: 0, flops: 0, share: 0, nodes: [] };
      layer.count++;
      layer.flops += outcome.flops;
      layer.nodes.push(label);
      byKey.set(outcome.workload, layer);
    }
  }
  const layers = [...byKey.values()].sort((a, b) => b.flops - a.flops || a.workload.localeCompare(b.workload));
  const totalFlops = layers.reduce((s, l) => s + l.flops, 0);
  for (const l of layers) l.share = totalFlops ? l.flops / totalFlops : 0;
  if (!layers.length) {
    const why = unmapped.length
      ? `; not mapped: ${unmapped.slice(0, 5).map((u) => `${u.node} (${u.opType}): ${u.reason}`).join('; ')}${unmapped.length > 5 ? `; and ${unmapped.length - 5} more` : ''}`
      : '';
    throw new ModelImportError('NO_TUNABLE_LAYER', `${loaded.path}: no tunable layer (no ${TUNABLE_OPS.join(', ')} node maps onto a flexfarm operator)${why}`);
  }
  return { path: loaded.path, opset: loaded.opset, nodeCount: loaded.graph.node.length, inputs: shapes.inputs, layers, unmapped, untuned, totalFlops };
}

type Outcome = 'untuned' | { reason: string } | { op: string; workload: string; flops: number };

function classify(entry: NodeShapes): Outcome {
  const { node } = entry;
  if (!isDefaultDomain(node.domain)) return { reason: `op of domain '${node.domain}': flexfarm reads the default ONNX domain only` };
  if (node.attribute.some((a) => a.g || a.graphs.length)) return { reason: `${node.opType} holds a subgraph (control flow): its layers are not read` };
  if (!TUNABLE_OPS.includes(node.opType)) {
    return shapeRule(node.opType) ? 'untuned' : { reason: `unsupported op '${node.opType}' (no kernel and no shape rule; what it feeds has unknown shapes)` };
  }
  if (!entry.ctx) return { reason: `input shape unknown: ${entry.unknown}` };
  try {
    const mapping = mapNode(entry.ctx);
    if ('reason' in mapping) return mapping;
    const def = defineWorkload(mapping.op, mapping.shape);
    return { op: def.op, workload: def.key, flops: def.flops };
  } catch (err) {
    if (err instanceof InferError) return { reason: err.message };
    // defineWorkload's refusal (a shape our operator cannot take) is a reason, not a crash.
    if (err instanceof ShapeError) return { reason: err.message };
    throw err;
  }
}
