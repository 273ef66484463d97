// The base of flexfarm's errors, as nats.js's NatsError is of its: a `name` per class, a stable
// machine-readable `code` (callers branch on it, never on the message), and the `cause` it wraps.
// tensor/ sits below this layer, so its errors do not extend it.

export interface FlexfarmErrorOptions {
  /** The error this one wraps (Error's own `cause`). */
  cause?: unknown;
}

export abstract class FlexfarmError extends Error {
  override name = 'FlexfarmError';
  /** UPPER_SNAKE_CASE, e.g. 'BUS_CLOSED': one per class, or a closed set where a class stands for
   *  one kind of failure (AgentCallError: 'REFUSED', 'UNAVAILABLE', …). */
  abstract readonly code: string;

  constructor(message: string, options?: FlexfarmErrorOptions) {
    super(message, options);
  }
}
