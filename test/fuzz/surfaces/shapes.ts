// Shape strings: `--shape` text (parseShape), structured shapes (gRPC SubmitCampaign's map) and
// workload keys (results, logs) into defineWorkload, and for what is accepted, each target's
// space. Each input gives a compute definition or a clear error, never a crash or a hang.
import fc from 'fast-check';
import { parseShape } from '../../../cli/args.ts';
import { TARGETS } from '../../../contracts/targets.ts';
import { Space } from '../../../coordinator/space.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { OP_FAMILIES } from '../../../tensor/ops/all.ts';
import { defineFromKey, defineWorkload, opNames } from '../../../tensor/ops/registry.ts';
import { absurdNumber, absurdString, isClearError } from '../absurd.ts';
import { checkProperty, type FuzzSurface } from '../fuzz-run.ts';

const paramNames = [...new Set(OP_FAMILIES.flatMap((f) => f.params.map((p) => p.name)))];
const op = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...opNames()) }, { weight: 1, arbitrary: absurdString });
const extent = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 40 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 600 }) },
  { weight: 2, arbitrary: fc.constantFrom(1, 2, 3, 7, 31, 97, 1024, 4093, 65_521, 1 << 20, 2 ** 31 - 1) },
  { weight: 1, arbitrary: absurdNumber },
);
const name = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...paramNames) }, { weight: 1, arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'dtype', 'x') });
const small = fc.oneof({ weight: 8, arbitrary: fc.integer({ min: 0, max: 70 }) }, { weight: 1, arbitrary: extent });
/** An operator and parameters mostly its own (each present or defaulted), extents mostly plausible. */
const opShape = fc.constantFrom(...OP_FAMILIES).chain((f) => fc.tuple(
  fc.oneof({ weight: 12, arbitrary: fc.constant(f.name) }, { weight: 1, arbitrary: op }),
  fc.tuple(...f.params.map((p) => fc.option(fc.tuple(fc.constant(p.name), /stride|pad|dilation|groups/.test(p.name) ? small : extent), { freq: 25 }))),
  fc.oneof({ weight: 9, arbitrary: fc.constant([] as [string, number][]) }, { weight: 1, arbitrary: fc.array(fc.tuple(name, extent), { maxLength: 2 }) }),
).map(([o, own, extra]) => [o, [...own.filter((x) => x !== null), ...extra]] as const));
const shapeObject = opShape.map(([o, kv]) => ({ op: o, shape: Object.fromEntries(kv) }));
const shapeText = fc.oneof(
  { weight: 4, arbitrary: opShape.map(([o, kv]) => ({ op: o, text: kv.map(([k, v]) => `${k}=${v}`).join(',') })) },
  { weight: 1, arbitrary: fc.tuple(op, absurdString).map(([o, text]) => ({ op: o, text })) },
  { weight: 1, arbitrary: fc.tuple(op, fc.array(fc.oneof(absurdString, fc.constantFrom('=', ',', 'M==1', '=1', 'M=', 'M=1=2', ' M = 1 ')), { maxLength: 6 })).map(([o, a]) => ({ op: o, text: a.join(',') })) },
);

type Input = { kind: 'text'; op: string; text: string } | { kind: 'object'; op: string; shape: Record<string, number> } | { kind: 'key'; key: string };

export const shapeInput: fc.Arbitrary<Input> = fc.oneof(
  shapeText.map((t) => ({ kind: 'text' as const, ...t })),
  shapeObject.map((o) => ({ kind: 'object' as const, ...o })),
  fc.oneof(
    { weight: 5, arbitrary: opShape.map(([o, kv]) => `${o}(${kv.map(([k, v]) => `${k}=${v}`).join(',')},dtype=float32)`) },
    { weight: 1, arbitrary: absurdString },
  ).map((key) => ({ kind: 'key' as const, key })),
);

function define(i: Input): ComputeDef {
  if (i.kind === 'text') return defineWorkload(i.op, parseShape(i.text));
  if (i.kind === 'object') return defineWorkload(i.op, i.shape);
  return defineFromKey(i.key);
}

/** Inputs accepted (a compute definition built) so far: the share the generators reach. */
export const shapeStats = { accepted: 0, refused: 0 };

export function checkShape(i: Input): void {
  let def: ComputeDef;
  try {
    def = define(i);
  } catch (err) {
    if (!isClearError(err)) throw new Error(`unclear refusal of ${JSON.stringify(i).slice(0, 300)}: ${(err as Error)?.name}: ${(err as Error)?.message?.slice(0, 300)}`, { cause: err });
    shapeStats.refused++;
    return;
  }
  shapeStats.accepted++;
  // Zero is possible: a transposed convolution whose every tap falls between the strided inputs.
  if (!(def.flops >= 0) || !Number.isFinite(def.flops)) throw new Error(`accepted ${def.key} with ${def.flops} flops`);
  if (defineFromKey(def.key).key !== def.key) throw new Error(`the key ${def.key} does not read back`);
  for (const t of TARGETS) {
    try {
      const space = new Space(t.template.knobs(def));
      if (space.size < 1n) throw new Error(`an empty ${t.kind} space for ${def.key}`);
    } catch (err) {
      if (!isClearError(err)) throw new Error(`${t.kind} space of ${def.key}: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    }
  }
}

export const shapesSurface: FuzzSurface = {
  name: 'shape strings',
  run: (runs, options) => checkProperty('shape strings', shapeInput, checkShape, runs, options),
};
