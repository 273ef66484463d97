// Shape inference over a whole graph: initializers and bound inputs first, then every node in
// order (ONNX graphs are topologically sorted), from value_info where it is static, else by the
// shape rules. A tensor that cannot be inferred keeps the reason, which reaches every layer fed from it.
import type { NodeProto, ValueInfoProto } from 'onnx-buf';
import { Attributes } from './attributes.ts';
import { InferError, ModelImportError } from './errors.ts';
import { formatShape, isKnown, type Fact, type Known } from './facts.ts';
import type { InferContext } from './infer/context.ts';
import { shapeRule } from './infer/rules.ts';
import type { LoadedModel } from './load-model.ts';
import { tensorFact } from './tensor-proto.ts';

export const isDefaultDomain = (domain: string) => domain === '' || domain === 'ai.onnx';

export interface NodeShapes {
  node: NodeProto;
  /** Index in the graph, for nodes without a name. */
  index: number;
  /** The node's inputs known: what its rule (and the layer mapper) reads. */
  ctx?: InferContext;
  /** Why its inputs are not all known. */
  unknown?: string;
}

export interface GraphShapes {
  /** The graph's real inputs (initializers left out), with the shapes used. */
  inputs: { name: string; shape: number[] }[];
  facts: Map<string, Fact>;
  nodes: NodeShapes[];
}

/** A dimension as written in the model: a number, a symbolic name, or '?' for neither. */
type Dim = number | string;

function declaredDims(info: ValueInfoProto): Dim[] | undefined {
  const type = info.type?.value;
  if (type?.case !== 'tensorType' || !type.value.shape) return undefined;
  return type.value.shape.dim.map((d) => {
    if (d.value.case === 'dimValue' && d.value.value >= 0n) return Number(d.value.value);
    return d.value.case === 'dimParam' && d.value.value ? d.value.value : '?';
  });
}

const staticShape = (dims: Dim[] | undefined) => (dims?.every((d) => typeof d === 'number') ? (dims as number[]) : undefined);

export function nodeLabel(node: NodeProto, index: number): string {
  return node.name || `${node.opType}#${index}`;
}

export function inferGraphShapes(loaded: LoadedModel, bindings: Record<string, number[]>): GraphShapes {
  const { graph, opset } = loaded;
  const facts = new Map<string, Fact>();
  for (const t of graph.initializer) facts.set(t.name, tensorFact(t));
  const inputs = bindInputs(loaded, bindings, facts);
  const declared = new Map<string, number[]>();
  for (const info of [...graph.valueInfo, ...graph.output]) {
    const shape = staticShape(declaredDims(info));
    if (shape) declared.set(info.name, shape);
  }
  const nodes = graph.node.map((node, index) => inferNode(node, index, opset, facts, declared));
  return { inputs, facts, nodes };
}

function bindInputs(loaded: LoadedModel, bindings: Record<string, number[]>, facts: Map<string, Fact>) {
  const real = loaded.graph.input.filter((i) => !facts.has(i.name));
  const names = real.map((i) => i.name);
  for (const name of Object.keys(bindings)) {
    if (!names.includes(name)) throw new ModelImportError('BAD_INPUT_BINDING', `--input ${name}: the model has no input '${name}' (its inputs: ${names.join(', ') || 'none'})`);
  }
  return real.map((info) => {
    const dims = declaredDims(info);
    const bound = bindings[info.name];
    if (bound) {
      if (dims && (dims.length !== bound.length || dims.some((d, i) => typeof d === 'number' && d !== bound[i]))) {
        throw new ModelImportError('BAD_INPUT_BINDING', `--input ${info.name}=${bound.join(',')} does not fit the model's input ${info.name}${formatDims(dims)}`);
      }
      facts.set(info.name, { shape: bound });
      return { name: info.name, shape: bound };
    }
    const shape = staticShape(dims);
    if (!shape) {
      const example = dims ? dims.map((d, i) => (typeof d === 'number' ? d : `D${i}`)).join(',') : 'D0,D1,...';
      const what = dims ? `has dynamic dimensions ${formatDims(dims)}` : 'has no declared shape';
      throw new ModelImportError('UNBOUND_INPUT', `input '${info.name}' ${what}: bind them with --input ${info.name}=${example} (each D a positive integer)`);
    }
    facts.set(info.name, { shape });
    return { name: info.name, shape };
  });
}

const formatDims = (dims: Dim[]) => `[${dims.join(',')}]`;

function inferNode(node: NodeProto, index: number, opset: number, facts: Map<string, Fact>, declared: Map<string, number[]>): NodeShapes {
  const label = nodeLabel(node, index);
  const setOutputs = (computed: (Known | undefined)[], why: string) => node.output.forEach((name, i) => {
    if (!name) return;
    const shape = declared.get(name);
    const c = computed[i];
    // value_info, when static, is the exporter's word; computed contents are kept if they agree.
    if (shape) facts.set(name, c && formatShape(c.shape) === formatShape(shape) ? c : { shape });
    else facts.set(name, c ?? { unknown: why });
  });
  if (!isDefaultDomain(node.domain)) {
    const why = `produced by ${node.opType} of domain '${node.domain}' (node '${label}'), which flexfarm does not read`;
    setOutputs([], why);
    return { node, index, unknown: why };
  }
  const inputs: (Known | undefined)[] = [];
  for (const name of node.input) {
    if (!name) { inputs.push(undefined); continue; }
    const fact = facts.get(name) ?? { unknown: `tensor '${name}' is not produced by any earlier node` };
    if (!isKnown(fact)) {
      setOutputs([], fact.unknown);
      return { node, index, unknown: fact.unknown };
    }
    inputs.push(fact);
  }
  const ctx: InferContext = { node, attrs: new Attributes(node), inputs, opset };
  const rule = shapeRule(node.opType);
  if (!rule) {
    setOutputs([], `produced by ${node.opType} (node '${label}'), an op flexfarm has no shape rule for`);
    return { node, index, ctx };
  }
  try {
    setOutputs(rule(ctx), `output of ${node.opType} node '${label}' not inferred`);
  } catch (err) {
    if (!(err instanceof InferError)) throw err;
    setOutputs([], `${err.message} (node '${label}')`);
  }
  return { node, index, ctx };
}
