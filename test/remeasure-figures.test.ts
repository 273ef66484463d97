// Which configs are re-measured and which best they give: the plan (top k distinct configs by
// search median, never failures or estimates; rounds interleaved and rotated) and the choice of
// the best from search and re-measurement lines.
import { describe, expect, it } from 'vitest';
import type { MeasureResult } from '../contracts/result.ts';
import { chooseBest } from '../coordinator/remeasure/figures.ts';
import { planRemeasure } from '../coordinator/remeasure/plan.ts';

const device = { kind: 'cpu' as const, name: 'h', model: 'm', cores: 2, memoryBytes: 1, toolchain: 'gcc', limits: {} };
let n = 0;
function r(tile: number, median: number | null, extra: Partial<MeasureResult> = {}): MeasureResult {
  return {
    candidateId: `c/cpu/${n++}`, workload: 'gemm(M=8,N=8,K=8,dtype=float32)', target: 'cpu', config: { 'split.m': [1, 1, 1, tile] },
    seconds: median === null ? [] : [median], median, error: median === null ? { code: 'RUNTIME', message: 'x' } : null,
    device, toolchain: 'gcc', at: '', ...extra,
  };
}

describe('planRemeasure', () => {
  it('takes the k fastest distinct valid timed configs and interleaves rounds, each rotated by one', () => {
    const pool = [r(1, 5), r(2, 1), r(3, null), r(4, 0.5, { estimated: true }), r(2, 3), r(5, 2), r(6, 4)];
    const plan = planRemeasure(pool, 3, 2);
    expect(plan.configs.map((c) => c.config['split.m'])).toEqual([[1, 1, 1, 2], [1, 1, 1, 5], [1, 1, 1, 6]]);
    expect(plan.configs[0]).toMatchObject({ of: pool[1].candidateId, searchSeconds: 1, device: 'cpu|h|m' });
    expect(plan.slots).toEqual([
      { index: 0, round: 0 }, { index: 1, round: 0 }, { index: 2, round: 0 },
      { index: 1, round: 1 }, { index: 2, round: 1 }, { index: 0, round: 1 },
    ]);
    expect(planRemeasure(pool, 0, 3).slots).toEqual([]);
    expect(planRemeasure([r(1, null)], 5, 3).slots).toEqual([]);
  });
});

describe('chooseBest', () => {
  it('without re-measurements: the fastest search figure', () => {
    const search = [r(1, 2), r(2, 1), r(3, null)];
    expect(chooseBest(search)).toEqual({ record: search[1], seconds: 1, remeasured: null });
    expect(chooseBest([r(1, null)])).toBeNull();
  });

  it('the re-measured config with the lowest re-measured median wins over a lucky search figure', () => {
    const lucky = r(1, 1.0), honest = r(2, 1.1), slow = r(3, 3);
    const again = [r(1, 1.5), r(1, 1.6), r(1, 1.4), r(2, 1.2), r(2, 1.1), r(2, 1.3)];
    expect(chooseBest([lucky, honest, slow], again)).toEqual({
      record: honest, seconds: 1.2, remeasured: { seconds: 1.2, runs: 3, searchSeconds: 1.1 },
    });
  });

  it('a config never re-measured wins only when its search figure beats every re-measured config\'s', () => {
    const a = r(1, 1.0), b = r(2, 1.1), again = [r(1, 1.3), r(2, 1.25)];
    const later = r(5, 0.9);
    expect(chooseBest([a, b, later], again)).toEqual({ record: later, seconds: 0.9, remeasured: null });
    const notBetter = r(6, 1.05); // within the re-measured set's search figures: the re-measured figure decides
    expect(chooseBest([a, b, notBetter], again)?.record).toBe(b);
  });

  it('re-measurements that all failed never crown their config', () => {
    const a = r(1, 1.0), b = r(2, 1.1), again = [r(1, null), r(1, null)];
    expect(chooseBest([a, b], again)).toEqual({ record: b, seconds: 1.1, remeasured: null });
  });
});

describe('campaign spec', () => {
  it('names a bad remeasure count or rounds, and fills the defaults', async () => {
    const { validateSpec } = await import('../coordinator/campaign-spec.ts');
    const base = { op: 'gemm', shape: { M: 8, N: 8, K: 8 }, targets: ['sim'], trials: 4 };
    expect(validateSpec(base).spec).toMatchObject({ remeasure: 5, remeasureRounds: 3 });
    expect(validateSpec({ ...base, remeasure: 0 }).spec.remeasure).toBe(0);
    expect(() => validateSpec({ ...base, remeasure: -1 })).toThrow(/^remeasure: must be an integer from 0 \(off\) to 100, got -1$/);
    expect(() => validateSpec({ ...base, remeasure: 2.5 })).toThrow(/^remeasure: .*got 2.5$/);
    expect(() => validateSpec({ ...base, remeasureRounds: 0 })).toThrow(/^remeasureRounds: must be an integer from 1 to 20, got 0$/);
  });
});
