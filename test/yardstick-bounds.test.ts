// The agent's yardstick stays within what the coordinator accepts on the wire, whatever a backend's
// library reports (a long name, an absurd time, a long reason): a refused yardstick would cost
// every result it rides on (agent/yardstick-timer.ts, contracts/messages/result.ts).
import { describe, expect, it } from 'vitest';
import { YardstickTimer } from '../agent/yardstick-timer.ts';
import type { Backend, LibraryTiming } from '../contracts/backend.ts';
import { LIMITS } from '../contracts/messages/limits.ts';
import { readResult } from '../contracts/messages/result.ts';
import { DEFAULT_PROTOCOL, type MeasureResult } from '../contracts/result.ts';
import { defineWorkload } from '../tensor/ops/registry.ts';

const def = defineWorkload('gemm', { M: 8, N: 8, K: 8 });

/** Only what the timer asks of a backend: the reference and a library answering `timing`. */
function backendWith(timing: LibraryTiming): Backend {
  return {
    kind: 'gpu', reference: async () => ({ seconds: 1e-3, gflops: 1 }), library: async () => timing,
  } as unknown as Backend;
}

const device = { kind: 'gpu', name: 'test', model: 'test', cores: 1, memoryBytes: 1, toolchain: 't', limits: {} };
const resultWith = (yardstick: unknown): MeasureResult => ({
  candidateId: 'c1', workload: def.key, target: 'gpu', config: {}, seconds: [1e-3], median: 1e-3, error: null,
  device, toolchain: 't', at: new Date().toISOString(), yardstick,
} as unknown as MeasureResult);

describe('the yardstick an agent sends', () => {
  it('a library name longer than the wire allows is cut, and the result is accepted', async () => {
    const y = await new YardstickTimer(backendWith({ library: 'x'.repeat(200), seconds: 2e-3 })).of(def.key, DEFAULT_PROTOCOL);
    expect(y.library?.name.length).toBeLessThanOrEqual(LIMITS.libraryNameChars);
    expect(y.library?.seconds).toBe(2e-3);
    expect(readResult(JSON.parse(JSON.stringify(resultWith(y)))).yardstick?.library?.seconds).toBe(2e-3);
  });

  it('a time outside (0, maxSeconds] becomes a missing library saying so; a long reason is cut', async () => {
    for (const seconds of [0, -1, Infinity, NaN, 2 * LIMITS.maxSeconds]) {
      const y = await new YardstickTimer(backendWith({ library: 'lib', seconds })).of(def.key, DEFAULT_PROTOCOL);
      expect(y.library, String(seconds)).toBeUndefined();
      expect(y.libraryMissing).toMatch(/^lib gave no usable time/);
    }
    const long = await new YardstickTimer(backendWith({ missing: 'why '.repeat(5_000) })).of(def.key, DEFAULT_PROTOCOL);
    expect(long.libraryMissing!.length).toBeLessThanOrEqual(LIMITS.errorMessageChars);
    expect(() => readResult(JSON.parse(JSON.stringify(resultWith(long))))).not.toThrow();
  });
});
