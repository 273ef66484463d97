// Split sub-spaces shared by every template: the ways to cut an axis of extent E into `parts`
// nested loops. Entities are factor lists [f0, …, f_{parts-1}], outermost first.
//
// Exact mode (FlexTensor's original): every ordered factorisation with product E.
// Imperfect mode (flexfarm's default): inner factors come from the divisors of E and the powers
// of two, their product at most E, and f0 = ceil(E / product(inner)); the loops then cover at
// least E and the generated code guards the tail. Prime and odd extents still get many choices.
// In the CPU template a spatial axis's innermost factor sizes the register tile, and there three
// times a power of two is a choice too: 6 or 12 rows of accumulators leave the operands room in
// a register file of 16 or 32 (BLAS micro-kernels are 6×16 on AVX2), where 4 wastes registers
// and 8 spills. (GPU and FPGA spaces keep divisors and powers of two: not measured there.)
// Such a tile rarely divides the extent, and with f0 = ceil(E / inner) only the outermost,
// parallel level can absorb the rest (a 12-row tile of 128 output channels: [11, 1, 1, 12]),
// which puts that axis outermost and re-reads the other operand once per tile. So a register
// tile axis may also carry its remainder at an inner level, the levels above it 1:
// [1, 11, 1, 12] or [1, 1, 11, 12] loop over the tiles inside each parallel tile instead.

import { shown } from '../quote.ts';
import type { ComputeDef } from '../compute.ts';
import type { Knob } from './template.ts';

/** One split knob per axis: spatial axes in `spatialParts` levels, reduce axes in `reduceParts`;
 *  `registerTiles`: the spatial axes' innermost factors size a register tile (the CPU template). */
export function splitKnobs(def: ComputeDef, spatialParts: number, reduceParts: number, exact: boolean, registerTiles = false): Knob[] {
  const knob = (a: { name: string; extent: number }, parts: number, reduce: boolean): Knob => ({
    name: `split.${a.name}`, kind: 'split', entities: splitEntities(a.extent, parts, exact, registerTiles && !reduce),
    axis: { name: a.name, extent: a.extent, reduce },
  });
  return [...def.spatial.map((a) => knob(a, spatialParts, false)), ...def.reduce.map((a) => knob(a, reduceParts, true))];
}

export function divisors(n: number): number[] {
  const small: number[] = [], large: number[] = [];
  for (let d = 1; d * d <= n; d++) {
    if (n % d === 0) { small.push(d); if (d * d !== n) large.unshift(n / d); }
  }
  return small.concat(large);
}

/** Factors by extent and register-tile flag: a space's validity filter checks every split of
 *  every neighbour and random point against them, so they are worked out once per extent. */
const candidateCache = new Map<string, readonly number[]>();

function candidateFactors(extent: number, registerTile = false): readonly number[] {
  const key = `${extent}/${registerTile}`;
  let factors = candidateCache.get(key);
  if (!factors) {
    const set = new Set(divisors(extent));
    for (let p = 1; p <= extent; p *= 2) set.add(p);
    if (registerTile) for (let p = 3; p <= extent; p *= 2) set.add(p);
    factors = Object.freeze([...set].sort((a, b) => a - b));
    candidateCache.set(key, factors);
  }
  return factors;
}

/** `registerTile`: the axis is spatial, its innermost factor sizes the register tile (imperfect
 *  mode only; exact mode is FlexTensor's divisors). */
export function splitEntities(extent: number, parts: number, exact: boolean, registerTile = false): number[][] {
  const out: number[][] = [];
  const factors = exact ? divisors(extent) : candidateFactors(extent);
  const innermost = exact ? factors : candidateFactors(extent, registerTile);
  // Choose inner factors from the innermost outward; the outermost absorbs the rest.
  const inner = (depth: number, remaining: number, acc: number[]): void => {
    if (depth === 0) {
      out.push([exact ? remaining : Math.ceil(extent / acc.reduce((a, b) => a * b, 1)), ...acc]);
      return;
    }
    for (const f of acc.length === 0 ? innermost : factors) {
      if (exact ? remaining % f !== 0 : f > remaining) continue;
      inner(depth - 1, exact ? remaining / f : Math.floor(remaining / f), [f, ...acc]);
    }
  };
  inner(parts - 1, extent, []);
  if (registerTile && !exact) out.push(...innerRemainderEntities(extent, parts, factors, innermost));
  return out;
}

/** Entities whose remainder sits at level j >= 1 ([1, …, 1, ceil(E / tail), …tail]), for each
 *  tail of inner factors that does not divide the extent. None is an entity of f0 = ceil(E / inner)
 *  (their product exceeds E with f0 = 1), nor of another level (f_j >= 2 where the tail is below E). */
function innerRemainderEntities(extent: number, parts: number, factors: readonly number[], innermost: readonly number[]): number[][] {
  const out: number[][] = [];
  const tails = (length: number, remaining: number, acc: number[], level: number): void => {
    if (length === 0) {
      const inner = product(acc);
      if (extent % inner !== 0) out.push([...Array(level).fill(1), Math.ceil(extent / inner), ...acc]);
      return;
    }
    for (const f of acc.length === 0 ? innermost : factors) if (f <= remaining) tails(length - 1, Math.floor(remaining / f), [f, ...acc], level);
  };
  for (let level = 1; level <= parts - 2; level++) tails(parts - 1 - level, extent, [], level);
  return out;
}

/** The level that absorbs the rest of the extent: 0 (f0 = ceil(E / inner)), or j >= 1 where the
 *  levels above are 1 and f_j = ceil(E / tail) for a tail that does not divide E. */
export function remainderLevel(factors: readonly number[], extent: number): number {
  for (let level = 1; level < factors.length - 1; level++) {
    if (factors[level - 1] !== 1) break;
    const tail = product(factors.slice(level + 1));
    if (tail <= extent && extent % tail !== 0 && factors[level] === Math.ceil(extent / tail)) return level;
  }
  return 0;
}

export const product = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** True when the factors cover the extent exactly (no tail guard needed). */
export const isPerfect = (factors: number[], extent: number) => product(factors) === extent;

/** Validate a factor list from a config; returns an error message or null. */
export function checkFactors(factors: unknown, parts: number, extent: number, registerTile = false): string | null {
  if (!Array.isArray(factors) || factors.length !== parts) return `expected ${parts} factors, got ${shown(factors)}`;
  if (!factors.every((f) => Number.isInteger(f) && f >= 1)) return `factors must be positive integers, got ${shown(factors)}`;
  const allowed = candidateFactors(extent), innermost = candidateFactors(extent, registerTile);
  const level = registerTile ? remainderLevel(factors, extent) : 0;
  const outside = factors.slice(level + 1).find((f: number, i: number) => !(i + level === parts - 2 ? innermost : allowed).includes(f));
  if (outside !== undefined) {
    const also = registerTile ? '; the innermost may also be three times a power of two' : '';
    return `factor ${outside} is neither a divisor of ${extent} nor a power of two (not in the split sub-space${also})`;
  }
  if (level > 0) return null;   // its tail is at most the extent, and the levels above are 1
  const inner = factors.slice(1).reduce((a: number, b: number) => a * b, 1);
  if (inner > extent) return `inner factors ${JSON.stringify(factors.slice(1))} exceed the extent ${extent}`;
  if (factors[0] !== Math.ceil(extent / inner)) {
    return `outer factor must be ceil(${extent} / ${inner}) = ${Math.ceil(extent / inner)}, got ${factors[0]}`;
  }
  return null;
}
