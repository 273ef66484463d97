// Errors of the tensor core. Each names what is wrong so a user can fix their input.
import { quote } from './quote.ts';

/** An operator name flexfarm does not know. */
export class UnknownOpError extends Error {
  override name = 'UnknownOpError';
  constructor(readonly op: string, known: string[]) {
    super(`unknown operator ${quote(op)} (known: ${known.join(', ')})`);
  }
}

/** A shape parameter that is missing, unknown, not an integer, out of range or inconsistent. */
export class ShapeError extends Error {
  override name = 'ShapeError';
  constructor(readonly op: string, readonly param: string, detail: string) {
    super(`${op.length > 64 ? quote(op) : op}: parameter ${param.length > 64 ? quote(param) : param}: ${detail}`);
  }
}

/** A schedule config that cannot be instantiated for this operator on this device. */
export class InstantiationError extends Error {
  override name = 'InstantiationError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
