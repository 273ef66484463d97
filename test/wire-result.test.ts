// A result on the gRPC wire (CampaignEvent.result) keeps what the agent said about its noise:
// the spread of the repeats, the host's load average, and a replaced first timing.
import { describe, expect, it } from 'vitest';
import { MeasureResult as WireResult } from '../proto/flexfarm/v1/common.ts';
import { resultToWire } from '../proto/wire.ts';
import type { MeasureResult } from '../contracts/result.ts';

const timed: MeasureResult = {
  candidateId: 'c1/cpu/7', campaign: 'c1', workload: 'gemm(M=8,N=8,K=8,dtype=float32)', target: 'cpu',
  config: { 'split.m': [1, 1, 1, 8] }, seconds: [1.1e-3, 1.0e-3, 1.3e-3], median: 1.1e-3, number: 40,
  spread: { min: 1.0e-3, median: 1.1e-3, max: 1.3e-3, cv: 0.14 }, loadAverage: 3.5,
  retimed: { seconds: [0.9e-3, 1.6e-3, 1.0e-3], cv: 0.31 },
  error: null, device: { kind: 'cpu', name: 'h', model: 'm', cores: 2, memoryBytes: 1, toolchain: 'gcc', limits: {} },
  toolchain: 'gcc', at: '2026-12-03T09:00:00.000Z',
} as MeasureResult;

describe('results on the gRPC wire', () => {
  it('carry the spread, the load average and the first timing of a re-timed candidate, through an encode and decode', () => {
    const decoded = WireResult.decode(WireResult.encode(resultToWire(timed, 'agent-1')).finish());
    expect(decoded.spread).toEqual(timed.spread);
    expect(decoded.loadAverage).toBe(3.5);
    expect(decoded.retimed).toEqual(timed.retimed);
    expect(decoded.agent).toBe('agent-1');
  });

  it('leave them out where the agent had none (an error, a simulated device)', () => {
    const failed = { ...timed, seconds: [], median: null, spread: undefined, loadAverage: undefined, retimed: undefined, error: { code: 'COMPILE', message: 'x' } } as MeasureResult;
    const decoded = WireResult.decode(WireResult.encode(resultToWire(failed)).finish());
    expect(decoded.spread).toBeUndefined();
    expect(decoded.loadAverage).toBeUndefined();
    expect(decoded.retimed).toBeUndefined();
  });
});
