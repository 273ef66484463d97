// Small ONNX models built with the ONNX protobuf definitions (onnx-buf), for the mapping rules.
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProto_AttributeType as AT, AttributeProtoSchema, GraphProtoSchema, ModelProtoSchema,
  NodeProtoSchema, OperatorSetIdProtoSchema, TensorProto_DataType, TensorProtoSchema,
  TensorShapeProto_DimensionSchema, TensorShapeProtoSchema, TypeProto_TensorSchema, TypeProtoSchema,
  ValueInfoProtoSchema, type AttributeProto, type NodeProto, type TensorProto, type ValueInfoProto,
} from 'onnx-buf';

type AttrValue = number | number[] | string | TensorProto;

function attribute(name: string, value: AttrValue): AttributeProto {
  if (typeof value === 'string') return create(AttributeProtoSchema, { name, type: AT.STRING, s: new TextEncoder().encode(value) });
  if (Array.isArray(value)) return create(AttributeProtoSchema, { name, type: AT.INTS, ints: value.map(BigInt) });
  if (typeof value === 'number') return create(AttributeProtoSchema, { name, type: AT.INT, i: BigInt(value) });
  return create(AttributeProtoSchema, { name, type: AT.TENSOR, t: value });
}

export function node(opType: string, input: string[], output: string[], attrs: Record<string, AttrValue> = {}, name = ''): NodeProto {
  return create(NodeProtoSchema, { opType, input, output, name: name || `${opType}_${output[0]}`, attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)) });
}

/** A float tensor of zeros (weights), with its data so the file is a complete model. */
export function floats(name: string, dims: number[]): TensorProto {
  const count = dims.reduce((a, b) => a * b, 1);
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.FLOAT, rawData: new Uint8Array(count * 4) });
}

export function int64s(name: string, values: number[], dims = [values.length]): TensorProto {
  return create(TensorProtoSchema, { name, dims: dims.map(BigInt), dataType: TensorProto_DataType.INT64, int64Data: values.map(BigInt) });
}

export function floatValues(name: string, values: number[]): TensorProto {
  return create(TensorProtoSchema, { name, dims: [BigInt(values.length)], dataType: TensorProto_DataType.FLOAT, floatData: values });
}

/** A graph input or output; a string dimension is symbolic (dynamic). */
export function value(name: string, dims?: (number | string)[]): ValueInfoProto {
  const shape = dims && create(TensorShapeProtoSchema, {
    dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, {
      value: typeof d === 'number' ? { case: 'dimValue', value: BigInt(d) } : { case: 'dimParam', value: d },
    })),
  });
  return create(ValueInfoProtoSchema, {
    name, type: create(TypeProtoSchema, { value: { case: 'tensorType', value: create(TypeProto_TensorSchema, { elemType: TensorProto_DataType.FLOAT, shape }) } }),
  });
}

export interface GraphSpec {
  nodes: NodeProto[];
  inputs: ValueInfoProto[];
  outputs?: ValueInfoProto[];
  initializers?: TensorProto[];
  valueInfo?: ValueInfoProto[];
  opset?: number;
}

export function modelBytes(spec: GraphSpec): Uint8Array {
  const graph = create(GraphProtoSchema, {
    name: 'test', node: spec.nodes, input: spec.inputs, initializer: spec.initializers ?? [],
    output: spec.outputs ?? [value(spec.nodes.at(-1)!.output[0])], valueInfo: spec.valueInfo ?? [],
  });
  return toBinary(ModelProtoSchema, create(ModelProtoSchema, {
    irVersion: 8n, producerName: 'flexfarm-test', graph,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(spec.opset ?? 13) })],
  }));
}

/** One Conv (or ConvTranspose) on input x[shape] with weights w[weights]. */
export function singleOp(opType: string, x: number[], weights: number[], attrs: Record<string, AttrValue>, opset = 13): Uint8Array {
  return modelBytes({
    nodes: [node(opType, ['x', 'w'], ['y'], attrs)],
    inputs: [value('x', x)],
    initializers: [floats('w', weights)],
    opset,
  });
}
