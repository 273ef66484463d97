// The operator registry: validation of shape parameters, workload keys, FLOP counts.
import type { ComputeDef, OpFamily } from '../compute.ts';
import type { Expr } from '../ir.ts';
import { ShapeError, UnknownOpError } from '../errors.ts';
import { OP_FAMILIES } from './all.ts';
import { quote } from '../quote.ts';

/** Refuse workloads whose tensors together exceed this many bytes (a typo like K=10000000). */
export const DEFAULT_MEMORY_CAP_BYTES = 2 * 1024 ** 3;
const BYTES_PER_ELEMENT = 4;

export function opNames(): string[] {
  return OP_FAMILIES.map((f) => f.name);
}

export function opFamily(name: string): OpFamily {
  const family = OP_FAMILIES.find((f) => f.name === name);
  if (!family) throw new UnknownOpError(name, opNames());
  return family;
}

/** Validate `shape` for `op`, fill defaults, build the compute definition. */
export function defineWorkload(
  op: string,
  shape: Record<string, number>,
  options: { memoryCapBytes?: number } = {},
): ComputeDef {
  const family = opFamily(op);
  const params = validateParams(family, shape);
  const built = family.build(params);
  for (const axis of built.spatial) {
    if (axis.extent < 1) throw new ShapeError(op, axis.name, `output extent ${axis.extent} is empty; check sizes, stride, pad and dilation`);
  }
  const cap = options.memoryCapBytes ?? DEFAULT_MEMORY_CAP_BYTES;
  const tensors = [...built.inputs, built.output];
  const bytes = tensors.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1) * BYTES_PER_ELEMENT, 0);
  if (bytes > cap) {
    const biggest = tensors.map((t) => `${t.name}[${t.shape.join('x')}]`).join(', ');
    throw new ShapeError(op, 'shape', `tensors need ${formatBytes(bytes)}, over the cap of ${formatBytes(cap)} (${biggest})`);
  }
  const points = built.spatial.concat(built.reduce).reduce((n, a) => n * a.extent, 1);
  const { flops: usefulFlops, ...rest } = built;
  const flops = typeof usefulFlops === 'function' ? usefulFlops() : usefulFlops ?? points * (floatOps(built.body) + (built.reduce.length ? 1 : 0));
  return { op, params, key: workloadKey(op, params), dtype: 'float32', flops, ...rest };
}

function validateParams(family: OpFamily, shape: Record<string, number>): Record<string, number> {
  const known = family.params.map((p) => p.name);
  for (const name of Object.keys(shape)) {
    if (!known.includes(name)) throw new ShapeError(family.name, name, `unknown parameter (expected: ${known.join(', ')})`);
  }
  const params: Record<string, number> = {};
  for (const spec of family.params) {
    const value = shape[spec.name] ?? (spec.inherit !== undefined ? params[spec.inherit] : spec.default);
    if (value === undefined) throw new ShapeError(family.name, spec.name, 'missing (required)');
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      throw new ShapeError(family.name, spec.name, `must be an integer, got ${typeof value === 'string' ? quote(value) : quote(String(JSON.stringify(value)))}`);
    }
    if (value < spec.min) throw new ShapeError(family.name, spec.name, `must be >= ${spec.min}, got ${value}`);
    if (value > 2 ** 31 - 1) throw new ShapeError(family.name, spec.name, `too large: ${value}`);
    params[spec.name] = value;
  }
  return params;
}

/** Canonical key: op name, every parameter in the family's order, dtype. */
export function workloadKey(op: string, params: Record<string, number>, dtype = 'float32'): string {
  const family = opFamily(op);
  const parts = family.params
    .filter((p) => p.inherit === undefined || params[p.name] !== params[p.inherit])
    .map((p) => `${p.name}=${params[p.name]}`);
  return `${op}(${parts.join(',')},dtype=${dtype})`;
}

/** Inverse of workloadKey: `gemm(M=1,N=2,K=3,dtype=float32)` → definition. */
export function defineFromKey(key: string): ComputeDef {
  const m = /^([a-z0-9_]+)\(([^)]*)\)$/.exec(key.trim());
  if (!m) throw new ShapeError('workload', 'key', `cannot parse workload key ${quote(key)}`);
  // No prototype: a parameter named `constructor` or `__proto__` is an unknown parameter, not a field.
  const shape: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const part of m[2].split(',').filter(Boolean)) {
    const [name, value, ...more] = part.split('=');
    if (name === 'dtype') {
      if (value !== 'float32') throw new ShapeError(m[1], 'dtype', `only float32 is supported, got ${quote(String(value))}`);
      continue;
    }
    if (more.length || value === undefined || !/^-?\d+$/.test(value)) throw new ShapeError(m[1], name, `must be an integer, got ${quote(part.slice(name.length + 1))}`);
    if (Object.hasOwn(shape, name)) throw new ShapeError(m[1], name, 'given twice in the workload key');
    shape[name] = Number(value);
  }
  return defineWorkload(m[1], shape);
}

/** Float operations per body evaluation; index arithmetic inside loads does not count. */
function floatOps(e: Expr): number {
  switch (e.k) {
    case 'bin': return 1 + floatOps(e.a) + floatOps(e.b);
    case 'select': return Math.max(floatOps(e.a), floatOps(e.b));
    default: return 0;
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}
