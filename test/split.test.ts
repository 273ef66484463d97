// Split sub-spaces: exact mode is FlexTensor's ordered factorisations; imperfect mode covers the
// extent with guarded tails and gives prime and odd extents real choices; checkFactors agrees.
import { describe, expect, it } from 'vitest';
import { checkFactors, divisors, isPerfect, remainderLevel, splitEntities } from '../tensor/templates/split.ts';

const product = (xs: number[]) => xs.reduce((a, b) => a * b, 1);
const keys = (entities: number[][]) => entities.map((e) => e.join('x'));

/** Every ordered tuple of `parts` positive integers with product exactly n, by brute force. */
function bruteFactorisations(n: number, parts: number): number[][] {
  if (parts === 1) return [[n]];
  const out: number[][] = [];
  for (let f = 1; f <= n; f++) if (n % f === 0) for (const rest of bruteFactorisations(n / f, parts - 1)) out.push([f, ...rest]);
  return out;
}

describe('exact splits (FlexTensor)', () => {
  it('count the ordered factorisations: 1024 = 2^10 in 4 parts is C(13,3) = 286, in 3 parts C(12,2) = 66', () => {
    expect(splitEntities(1024, 4, true)).toHaveLength(286);
    expect(splitEntities(1024, 3, true)).toHaveLength(66);
  });

  it('12 = 2^2 * 3 in 3 parts: C(4,2) * C(3,2) = 18, the same set as a brute-force enumeration', () => {
    const entities = splitEntities(12, 3, true);
    expect(entities).toHaveLength(18);
    expect(new Set(keys(entities))).toEqual(new Set(keys(bruteFactorisations(12, 3))));
    // a few written out by hand
    for (const e of ['12x1x1', '1x1x12', '2x3x2', '3x2x2', '1x4x3', '6x1x2']) expect(keys(entities)).toContain(e);
  });

  it.each([[1, 4], [7, 4], [13, 3], [36, 4], [100, 3]])('extent %i in %i parts: every entity has product = extent, no duplicates', (extent, parts) => {
    const entities = splitEntities(extent, parts, true);
    expect(entities.length).toBe(bruteFactorisations(extent, parts).length);
    expect(new Set(keys(entities)).size).toBe(entities.length);
    for (const e of entities) {
      expect(e).toHaveLength(parts);
      expect(product(e)).toBe(extent);
      expect(isPerfect(e, extent)).toBe(true);
    }
  });

  it('divisors are sorted and complete', () => {
    expect(divisors(1)).toEqual([1]);
    expect(divisors(36)).toEqual([1, 2, 3, 4, 6, 9, 12, 18, 36]);
    expect(divisors(13)).toEqual([1, 13]);
  });
});

describe('imperfect splits (default)', () => {
  const cases: [number, number][] = [[1, 4], [2, 3], [7, 4], [12, 3], [13, 4], [28, 4], [100, 3], [224, 4]];

  it.each(cases)('extent %i in %i parts: every entity covers the extent with f0 = ceil(E / inner), no duplicates', (extent, parts) => {
    const entities = splitEntities(extent, parts, false);
    expect(new Set(keys(entities)).size).toBe(entities.length);
    for (const e of entities) {
      expect(e).toHaveLength(parts);
      expect(e.every((f) => Number.isInteger(f) && f >= 1)).toBe(true);
      const inner = product(e.slice(1));
      expect(inner).toBeLessThanOrEqual(extent);
      expect(e[0]).toBe(Math.ceil(extent / inner));
      expect(product(e)).toBeGreaterThanOrEqual(extent);
      // the tail is less than one outer step: no loop iteration is wholly wasted
      expect(product(e) - extent).toBeLessThan(inner);
      expect(isPerfect(e, extent)).toBe(product(e) === extent);
    }
  });

  it.each(cases)('extent %i in %i parts: contains every exact split', (extent, parts) => {
    const imperfect = new Set(keys(splitEntities(extent, parts, false)));
    for (const k of keys(splitEntities(extent, parts, true))) expect(imperfect.has(k)).toBe(true);
  });

  it('inner factors are exactly the divisors and powers of two whose product fits (13 in 4 parts, brute force)', () => {
    const allowed = [1, 2, 4, 8, 13];
    const expected: string[] = [];
    for (const a of allowed) for (const b of allowed) for (const c of allowed) {
      if (a * b * c <= 13) expected.push([Math.ceil(13 / (a * b * c)), a, b, c].join('x'));
    }
    expect(new Set(keys(splitEntities(13, 4, false)))).toEqual(new Set(expected));
  });

  it('a register tile (a spatial axis) may also have three times a power of two innermost, and nowhere else', () => {
    const tile = splitEntities(257, 4, false, true), plain = new Set(keys(splitEntities(257, 4, false)));
    const added = tile.filter((e) => !plain.has(keys([e])[0]) && remainderLevel(e, 257) === 0);
    expect(added.map((e) => e[3])).toContain(6);
    expect(added.map((e) => e[3])).toContain(96);
    for (const e of added) {
      expect([3, 6, 12, 24, 48, 96, 192]).toContain(e[3]);
      expect(e.slice(1, 3).every((f) => f === 257 || (f & (f - 1)) === 0)).toBe(true);
      expect(checkFactors(e, 4, 257, true)).toBeNull();
      expect(checkFactors(e, 4, 257)).toMatch(/neither a divisor of 257 nor a power of two/);
    }
    expect(checkFactors([15, 3, 1, 6], 4, 257, true)).toMatch(/factor 3 is neither .* the innermost may also be three times a power of two/);
    expect(splitEntities(12, 3, true, true)).toEqual(splitEntities(12, 3, true));   // exact mode stays FlexTensor's
  });

  it('a register tile that does not divide the extent may carry the remainder at an inner level, the levels above it 1', () => {
    const tile = splitEntities(128, 4, false, true);
    const has = (e: number[]) => tile.some((t) => t.join() === e.join());
    // 12 rows of 128: [11, 1, 1, 12] puts the axis outermost; [1, 11, 1, 12] and [1, 1, 11, 12] loop inside.
    for (const e of [[11, 1, 1, 12], [1, 11, 1, 12], [1, 1, 11, 12], [1, 1, 22, 6], [1, 6, 2, 12]]) {
      expect(has(e)).toBe(true);
      expect(checkFactors(e, 4, 128, true)).toBeNull();
    }
    expect(remainderLevel([1, 1, 11, 12], 128)).toBe(2);
    expect(remainderLevel([1, 6, 2, 12], 128)).toBe(1);
    expect(remainderLevel([11, 1, 1, 12], 128)).toBe(0);
    for (const e of tile) if (remainderLevel(e, 128) > 0) {
      expect(product(e)).toBeGreaterThanOrEqual(128);
      expect(128 % product(e.slice(remainderLevel(e, 128) + 1))).not.toBe(0);
    }
    // Only register tiles, only imperfect mode, and the levels above the remainder must be 1.
    expect(splitEntities(128, 4, false).some((e) => remainderLevel(e, 128) > 0)).toBe(false);
    expect(splitEntities(128, 4, true, true)).toEqual(splitEntities(128, 4, true));
    expect(checkFactors([1, 11, 1, 12], 4, 128)).toMatch(/factor 11 is neither a divisor of 128/);
    expect(checkFactors([2, 11, 1, 12], 4, 128, true)).toMatch(/factor 11 is neither a divisor of 128/);
    expect(checkFactors([1, 12, 1, 12], 4, 128, true)).toMatch(/factor 12 is neither a divisor of 128/);
    // A tile that divides the extent keeps the plain rule: 8 rows of 128 leave no remainder.
    expect(checkFactors([1, 16, 1, 8], 4, 128, true)).toBeNull();
    expect(checkFactors([1, 17, 1, 8], 4, 128, true)).toMatch(/factor 17/);
  });

  it.each([[7, 4], [13, 4], [7, 3], [13, 3], [31, 4]])('prime extent %i in %i parts gets more choices than exact mode', (extent, parts) => {
    const exact = splitEntities(extent, parts, true).length;
    const imperfect = splitEntities(extent, parts, false).length;
    expect(exact).toBe(parts); // the prime sits in one of the parts, ones elsewhere
    expect(imperfect).toBeGreaterThan(2 * exact);
  });
});

describe('checkFactors', () => {
  it.each([[7, 4], [12, 3], [13, 4], [100, 3], [1024, 4]])('accepts every entity of both modes for extent %i in %i parts', (extent, parts) => {
    for (const exact of [true, false]) {
      for (const e of splitEntities(extent, parts, exact)) expect(checkFactors(e, parts, extent)).toBeNull();
      for (const e of splitEntities(extent, parts, exact, true)) expect(checkFactors(e, parts, extent, true)).toBeNull();
    }
  });

  it('rejects bad lists with a message saying what is wrong', () => {
    expect(checkFactors([4, 2, 2], 4, 16)).toMatch(/expected 4 factors/);
    expect(checkFactors('4x2x2', 3, 16)).toMatch(/expected 3 factors/);
    expect(checkFactors(undefined, 3, 16)).toMatch(/expected 3 factors/);
    expect(checkFactors([4, 2, 0], 3, 16)).toMatch(/positive integers/);
    expect(checkFactors([4, -2, 2], 3, 16)).toMatch(/positive integers/);
    expect(checkFactors([4, 1.5, 2], 3, 16)).toMatch(/positive integers/);
    expect(checkFactors([1, 8, 4], 3, 16)).toMatch(/inner factors \[8,4\] exceed the extent 16/);
    // covers too little, or wastes a whole outer step
    expect(checkFactors([1, 2, 2], 3, 16)).toMatch(/outer factor must be ceil\(16 \/ 4\) = 4, got 1/);
    expect(checkFactors([5, 2, 2], 3, 16)).toMatch(/= 4, got 5/);
    expect(checkFactors([1, 1, 1, 1], 4, 7)).toMatch(/= 7, got 1/);
  });

  it('rejects factors outside the sub-space (neither a divisor nor a power of two)', () => {
    expect(checkFactors([6, 3, 1, 1], 4, 16)).toMatch(/factor 3 is neither a divisor of 16 nor a power of two/);
    expect(checkFactors([2, 1, 1, 6], 4, 12)).toBeNull();
  });
});
