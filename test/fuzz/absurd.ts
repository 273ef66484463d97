// Generators of hostile values: strings, numbers and JSON that a client or a peer may send, and
// mutations of a well-formed object (one to three fields replaced by absurd values or removed).
import fc from 'fast-check';

const LONG = 'x'.repeat(100_000);

export const absurdString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 2_000 }) },
  { weight: 3, arbitrary: fc.constantFrom('', ' ', '..', 'a b', 'a.b', '*', '>', '_', '__proto__', 'constructor', 'toString', 'hasOwnProperty',
    '\u0000', '\n', '%s%n', '${x}', '../../etc/passwd', '\uD800', 'null', 'NaN', '-1', '1e309', '0x10', LONG, `${LONG}.${LONG}`) },
);

export const absurdNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1, 0.5, NaN, Infinity, -Infinity, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 53, 2 ** 64, 1e300, -1e300, 5e-324, 5e-16),
);

export const absurdValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: absurdString },
  { weight: 3, arbitrary: absurdNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, undefined, [], {}, [[]], { __proto__: { x: 1 } }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.array(absurdNumber, { maxLength: 8 }) },
);

/** Every path to a field of `value` (objects and arrays), up to `depth` levels down. */
function paths(value: unknown, depth = 3, prefix: (string | number)[] = []): (string | number)[][] {
  if (depth === 0 || typeof value !== 'object' || value === null) return [];
  const keys: (string | number)[] = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...prefix, k], ...paths((value as Record<string | number, unknown>)[k], depth - 1, [...prefix, k])]);
}

function setPath(root: unknown, path: (string | number)[], value: unknown): void {
  let at = root as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    if (typeof at[k] !== 'object' || at[k] === null) return;
    at = at[k] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete at[last];
  else at[last] = value;
}

/** `base` with one to three fields (at any depth, or new ones) replaced by absurd values, or removed. */
export function mutated<T extends object>(base: T, value: fc.Arbitrary<unknown> = absurdValue): fc.Arbitrary<Record<string, unknown>> {
  const all = paths(base);
  const extra = fc.tuple(absurdString.filter((s) => s.length < 64), value).map(([k, v]) => ({ path: [k], value: v }));
  const replace = fc.tuple(fc.constantFrom(...all), value).map(([path, v]) => ({ path, value: v }));
  return fc.array(fc.oneof({ weight: 5, arbitrary: replace }, { weight: 1, arbitrary: extra }), { minLength: 1, maxLength: 3 }).map((changes) => {
    const copy = structuredClone(base) as Record<string, unknown>;
    for (const c of changes) setPath(copy, c.path, c.value);
    return copy;
  });
}

/** Arbitrary JSON text: well-formed values, the text of a mutated object, or raw bytes as text. */
export function jsonText(base: object): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 6, arbitrary: mutated(base).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(base)) },
    { weight: 1, arbitrary: fc.nat({ max: 200 }).map((n) => JSON.stringify(base).slice(0, n)) },
  );
}

/** Whether an error is a clear refusal: one of ours (named class with a message) and bounded in length. */
export function isClearError(err: unknown, maxChars = 2_000): boolean {
  if (!(err instanceof Error)) return false;
  if (['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError', 'Error'].includes(err.name)) return false;
  return err.message.length > 0 && err.message.length <= maxChars;
}
