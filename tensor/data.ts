// Deterministic input data shared by the TypeScript reference and every generated harness.
// Values are multiples of 1/8 in [-1, 1], so small reductions are exact in float32 and a
// wrong index shows up as a wrong value (the hash is not periodic in the element index).

/** Value of element `i` of input tensor number `t` (inputs numbered in declaration order). */
export function inputValue(t: number, i: number): number {
  let h = (Math.imul(i, 2654435761) ^ Math.imul(t + 1, 0x9e3779b9)) >>> 0;
  h = (h ^ (h >>> 15)) >>> 0;
  return ((h % 17) - 8) / 8;
}

/** The same function in C, for harnesses (C99; needs <stdint.h>). */
export const INPUT_VALUE_C = `static float ff_input_value(int t, long i) {
  uint32_t h = ((uint32_t)i * 2654435761u) ^ ((uint32_t)(t + 1) * 0x9E3779B9u);
  h ^= h >> 15;
  return (float)((int)(h % 17u) - 8) * 0.125f;
}`;

/** Tolerance for comparing a scheduled output with the reference: reordered float sums of
 *  `reduceLength` terms of magnitude ≤ 1 differ by a few ulps per term. */
export function tolerance(reduceLength: number): { atol: number; rtol: number } {
  return { atol: 1e-6 * Math.max(1, reduceLength), rtol: 1e-4 };
}
