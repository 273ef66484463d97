import { describe, expect, it } from 'vitest';
import { cpuClassicTemplate } from '../tensor/templates/cpu.ts';
import { isTargetKind, registerTarget, TARGET_KINDS, TargetRegistrationError, TARGETS, targetSpec, type TargetKind } from './targets.ts';

describe('target registry', () => {
  it('has one spec per kind, in the order the command line lists them', () => {
    expect(TARGET_KINDS).toEqual(['cpu', 'sim', 'gpu', 'fpga']);
    expect(new Set(TARGET_KINDS).size).toBe(TARGETS.length);
    for (const kind of TARGET_KINDS) expect(targetSpec(kind)?.kind).toBe(kind);
    expect(targetSpec('tpu')).toBeUndefined();
    expect([isTargetKind('fpga'), isTargetKind('tpu')]).toEqual([true, false]);
  });

  it('says what shared code used to branch on', () => {
    const sim = targetSpec('sim')!;
    expect([sim.simulated, sim.exportable, sim.template]).toEqual([true, true, cpuClassicTemplate]);
    expect(TARGETS.filter((t) => t.exportable).map((t) => t.kind)).toEqual(['cpu', 'sim']);
    expect(TARGETS.map((t) => t.sourceExtension)).toEqual(['.c', '.c', '.cu', '.cpp']);
    expect(targetSpec('fpga')!.inflightTimeoutMs).toBe(3_600_000);
  });

  it('takes a new kind and gives it back; refuses a taken or odd name', () => {
    const spec = { ...targetSpec('sim')!, kind: 'tpu' as TargetKind, simulated: false };
    const remove = registerTarget(spec);
    expect([isTargetKind('tpu'), TARGET_KINDS.at(-1), targetSpec('tpu')]).toEqual([true, 'tpu', spec]);
    expect(() => registerTarget(spec)).toThrow(TargetRegistrationError);
    expect(() => registerTarget({ ...spec, kind: 'Bad Name' as TargetKind })).toThrow(/lower-case/);
    remove();
    expect([isTargetKind('tpu'), TARGET_KINDS]).toEqual([false, ['cpu', 'sim', 'gpu', 'fpga']]);
  });
});
