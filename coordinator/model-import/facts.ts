// What shape inference knows about one tensor: its static shape and, for small constants and
// shape arithmetic (Shape → Gather → Concat → Reshape), its values; or why it is unknown.
export interface Known {
  shape: number[];
  /** The contents, row-major, when they are known and small (constants, computed shapes). */
  values?: number[];
}
export interface Unknown { unknown: string }
export type Fact = Known | Unknown;

/** Contents are kept only up to this many elements: enough for shapes, scales and pads. */
export const MAX_VALUES = 64;

export const isKnown = (f: Fact | undefined): f is Known => f !== undefined && 'shape' in f;

export const elementCount = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
