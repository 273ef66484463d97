// Why a model cannot be imported at all (as opposed to one node that cannot be mapped, which is
// listed with its reason and does not stop the import).
import { FlexfarmError } from '../../contracts/errors.ts';

export type ModelImportErrorCode =
  | 'NOT_FOUND' | 'NOT_ONNX' | 'TRUNCATED' | 'UNSUPPORTED_OPSET'
  | 'BAD_INPUT_BINDING' | 'UNBOUND_INPUT' | 'NO_TUNABLE_LAYER';

export class ModelImportError extends FlexfarmError {
  override name = 'ModelImportError';
  constructor(readonly code: ModelImportErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** A shape rule cannot infer a node's outputs; the reason is kept on every tensor it leaves unknown. */
export class InferError extends Error {
  override name = 'InferError';
}
