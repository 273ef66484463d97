// Reading an .onnx file with the ONNX protobuf definitions (onnx-buf, on @bufbuild/protobuf), and
// refusing what is not an ONNX model we can read, with the reason.
import { readFileSync } from 'node:fs';
import { fromBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema, type GraphProto, type ModelProto } from 'onnx-buf';
import { ModelImportError } from './errors.ts';

/** Default-domain opsets whose operator versions the shape rules are written for. */
export const MIN_OPSET = 7;
export const MAX_OPSET = 25;
/** Field 1 (ir_version) as a varint: the first byte of every ONNX file that protobuf writers
 *  produce (fields in number order), so a failed decode of a file that starts so is a truncation. */
const IR_VERSION_TAG = 0x08;

export interface LoadedModel {
  path: string;
  model: ModelProto;
  graph: GraphProto;
  /** The default domain's opset (ai.onnx). */
  opset: number;
}

export function loadModel(path: string): LoadedModel {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new ModelImportError('NOT_FOUND', `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return decodeModel(bytes, path);
}

export function decodeModel(bytes: Uint8Array, path = '<bytes>'): LoadedModel {
  let model: ModelProto;
  try {
    model = fromBinary(ModelProtoSchema, bytes);
  } catch (err) {
    const reason = (err as Error).message;
    if (bytes[0] === IR_VERSION_TAG && /premature EOF|out of range|invalid/i.test(reason)) {
      throw new ModelImportError('TRUNCATED', `${path} is truncated or corrupt: it starts like an ONNX model but cannot be decoded (${reason}, ${bytes.length} bytes)`, { cause: err });
    }
    throw new ModelImportError('NOT_ONNX', `${path} is not an ONNX model: protobuf decoding failed (${reason})`, { cause: err });
  }
  if (model.irVersion <= 0n || !model.graph) {
    const missing = [model.irVersion <= 0n ? 'ir_version' : '', model.graph ? '' : 'graph'].filter(Boolean).join(' and ');
    throw new ModelImportError('NOT_ONNX', `${path} is not an ONNX model: it has no ${missing}`);
  }
  const graph = model.graph;
  if (!graph.node.length) throw new ModelImportError('NOT_ONNX', `${path}: the ONNX graph has no nodes`);
  const entry = model.opsetImport.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  // IR version 3 and later must name their opsets; older files meant opset 1.
  const opset = entry ? Number(entry.version) : 1;
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new ModelImportError('UNSUPPORTED_OPSET', `${path}: opset ${opset} of the default ONNX domain is not supported (flexfarm reads opsets ${MIN_OPSET} to ${MAX_OPSET}; convert the model with onnx.version_converter)`);
  }
  return { path, model, graph, opset };
}
