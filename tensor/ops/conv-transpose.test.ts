// Found by fuzzing shapes (issue 15): the useful-work count of a transposed convolution looped
// over every output position, so `conv_transpose1d --shape ...,L=805203907,...` froze the process
// (a campaign submit froze the coordinator) before the memory cap could refuse it.
import { expect, test } from 'vitest';
import { defineWorkload } from './registry.ts';
import { validTaps } from './conv-transpose.ts';

function byLoop(outSize: number, taps: number, inSize: number, stride: number, pad: number, dilation: number): number {
  let count = 0;
  for (let o = 0; o < outSize; o++) {
    for (let r = 0; r < taps; r++) {
      const q = o + pad - r * dilation;
      if (q >= 0 && q % stride === 0 && q / stride < inSize) count++;
    }
  }
  return count;
}

test('the per-tap count equals the count over every (output, tap) pair', () => {
  for (let inSize = 1; inSize <= 7; inSize++) for (let taps = 1; taps <= 4; taps++) for (let stride = 1; stride <= 3; stride++)
    for (let pad = 0; pad <= 3; pad++) for (let dilation = 1; dilation <= 3; dilation++) {
      const out = (inSize - 1) * stride - 2 * pad + dilation * (taps - 1) + 1;
      if (out < 1) continue;
      expect(validTaps(out, taps, inSize, stride, pad, dilation), `${[out, taps, inSize, stride, pad, dilation]}`).toBe(byLoop(out, taps, inSize, stride, pad, dilation));
    }
});

test('a huge extent is refused by the memory cap at once', () => {
  const started = performance.now();
  expect(() => defineWorkload('conv_transpose1d', { N: 97, C: 411, L: 805203907, K: 600, R: 4, pad: 5, dilation: 46 })).toThrow(/over the cap/);
  expect(performance.now() - started).toBeLessThan(1_000);
});

test('a huge kernel is refused by the memory cap before its taps are counted', () => {
  const started = performance.now();
  expect(() => defineWorkload('conv_transpose2d', { N: 153, C: 347, H: 148, W: 2147483647, K: 3, R: 1863227997, S: 63, stride: 41, pad: 49, dilation: 33 })).toThrow(/over the cap/);
  expect(performance.now() - started).toBeLessThan(1_000);
});
