import { describe, expect, it } from 'vitest';
import { decodeCandidateId, encodeCandidateId } from './candidate-id.ts';

describe('candidate ids', () => {
  it('encode as campaign/target/seq and decode back', () => {
    const id = encodeCandidateId({ campaign: 'c-1_a', target: 'cpu', seq: 42 });
    expect(id).toBe('c-1_a/cpu/42');
    expect(decodeCandidateId(id)).toEqual({ campaign: 'c-1_a', target: 'cpu', seq: 42 });
  });

  it('decode nothing from a string of another form', () => {
    for (const id of ['', 'c', 'c/cpu', 'c/cpu/', 'c/cpu/x', 'c/cpu/1/2', '/cpu/1', 'c//1', 'c/cpu/-1']) {
      expect(decodeCandidateId(id), id).toBeUndefined();
    }
  });
});
