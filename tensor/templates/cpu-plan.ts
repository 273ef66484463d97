// A CPU config parsed and checked against the compute definition: split factors per axis, the
// loop order and unroll knobs, and the layout knobs (vector axis, packed and staged inputs).
// Every problem is an InstantiationError naming the knob.
import { shown } from '../quote.ts';
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { checkKnobNames, choiceKnob, planAxis, splitKnobNames, type AxisPlan } from './config-checks.ts';
import { dimIndexedBy, guardedLoads, packableInputs, packingNeededFor, sliceAxes, stageableInputs, vectorAxes, type StagePlan } from './cpu-layout.ts';
import type { Config } from './template.ts';
import { planUnroll, type UnrollPlan } from './unroll.ts';

export type { AxisPlan } from './config-checks.ts';
export { UNROLL_ENTITIES } from './unroll.ts';

export const CPU_SPATIAL_PARTS = 4;
export const CPU_REDUCE_PARTS = 3;
export const REORDER_ENTITIES = [0, 1, 2];
/** pack.<input> and pad.<input>: 0 keeps the operator's layout (inline guard), 1 packs (stages). */
export const LAYOUT_ENTITIES = [0, 1];
/** pad.<input> = 2: each parallel tile pads the slice it reads, just before (cpu-lower.ts). */
export const PAD_IN_TILE = 2;
/** The values of pad.<input>: 2 only where parallel tiles can read disjoint slices. */
export const padEntities = (def: ComputeDef, tensor: string): number[] => (sliceAxes(def, tensor).length ? [...LAYOUT_ENTITIES, PAD_IN_TILE] : LAYOUT_ENTITIES);

/** The loop variable of one level of an axis's split in the lowered nest. */
export const levelVar = (axis: string, level: number) => `${axis}_${level}`;

export interface CpuPlan extends UnrollPlan {
  spatial: AxisPlan[];
  reduce: AxisPlan[];
  reorder: number;
  /** The spatial axis whose level-3 loop is innermost and vectorised (null: no vector loop). */
  vectorAxis: AxisPlan | null;
  /** Constant inputs laid out in blocks of the vector axis's level-3 factor, in a prepare step. */
  packed: string[];
  /** Guarded inputs copied into zero-padded buffers before the main loops (timed). */
  staged: StagePlan[];
  /** Of those, the ones each parallel tile pads for itself: the axes it is parallel along. */
  inTile: Map<string, string[]>;
  /** Unroll the register tile's spatial loops in full, whatever the unroll knob says. */
  unrollTile: boolean;
}

/** Names of the layout knobs of a definition (absent from a config: the operator's layout). */
export function layoutKnobNames(def: ComputeDef): string[] {
  return [
    ...(vectorAxes(def).length ? ['vector'] : []),
    ...packableInputs(def).map((t) => `pack.${t}`),
    ...stageableInputs(def).map((s) => `pad.${s.tensor}`),
  ];
}

/** Parse and validate a config against the def: every knob present and in its sub-space. */
export function planCpu(def: ComputeDef, config: Config, layoutKnobs = true): CpuPlan {
  checkKnobNames(def, config, 'cpu', [...splitKnobNames(def), 'reorder', 'unroll', ...(layoutKnobs ? layoutKnobNames(def) : [])]);
  const reorder = choiceKnob(config, 'reorder', REORDER_ENTITIES);
  const unroll = planUnroll(config);
  const spatial = def.spatial.map((a) => planAxis(config, a, CPU_SPATIAL_PARTS, true));
  const vectorAxis = chooseVectorAxis(def, config, spatial);
  return {
    spatial,
    reduce: def.reduce.map((a) => planAxis(config, a, CPU_REDUCE_PARTS, false)),
    reorder, ...unroll,
    vectorAxis,
    packed: packedInputs(def, config, vectorAxis, config.vector !== undefined),
    staged: stageableInputs(def).filter((s) => layoutChoice(config, `pad.${s.tensor}`, padEntities(def, s.tensor)) > 0),
    inTile: new Map(stageableInputs(def).filter((s) => config[`pad.${s.tensor}`] === PAD_IN_TILE).map((s) => [s.tensor, sliceAxes(def, s.tensor)])),
    unrollTile: layoutKnobs,
  };
}

/** The spatial axes the parallel loop runs along: all of them, or with inputs padded inside the
 *  tiles, those along which every such input's slices are disjoint. */
export function parallelAxes(plan: CpuPlan): AxisPlan[] {
  const lists = [...plan.inTile.values()];
  return plan.spatial.filter((a) => lists.every((axes) => axes.includes(a.name)));
}

/** A layout knob's value; absent, the operator's layout (0). */
const layoutChoice = (config: Config, knob: string, entities = LAYOUT_ENTITIES): number => (config[knob] === undefined ? 0 : choiceKnob(config, knob, entities));

/** The `vector` knob, or without it FlexTensor's rule: the innermost spatial axis tiled above 1. */
function chooseVectorAxis(def: ComputeDef, config: Config, spatial: AxisPlan[]): AxisPlan | null {
  const value = config.vector;
  if (value === undefined) return [...spatial].reverse().find((a) => a.factors[3] > 1) ?? null;
  const allowed = vectorAxes(def);
  if (typeof value !== 'number' || !allowed.includes(value)) {
    const names = allowed.map((i) => `${i} (${def.spatial[i].name})`).join(', ');
    throw new InstantiationError(`knob 'vector' must be one of ${names} — spatial axes whose loads are contiguous or invariant along them, or strided only in constant inputs — got ${shown(value)}`);
  }
  return spatial[value];
}

/** `chosen`: the vector axis comes from the knob; configs without it (older logs) keep their
 *  strided loads rather than becoming invalid. */
function packedInputs(def: ComputeDef, config: Config, vectorAxis: AxisPlan | null, chosen: boolean): string[] {
  const needed = vectorAxis && chosen ? packingNeededFor(def, vectorAxis.name) ?? [] : [];
  const packed: string[] = [];
  for (const tensor of packableInputs(def)) {
    const knob = `pack.${tensor}`;
    const choice = layoutChoice(config, knob);
    if (choice === 0 && needed.includes(tensor) && vectorAxis && vectorAxis.factors[3] > 1) {
      throw new InstantiationError(`knob '${knob}' must be 1 with vector axis '${vectorAxis.name}': ${tensor} is strided along it unless packed`);
    }
    if (choice === 1) {
      const loads = guardedLoads(def.body).filter((l) => l.load.tensor === tensor);
      if (!vectorAxis || !loads.every((l) => dimIndexedBy(l.load, vectorAxis.name) >= 0)) {
        throw new InstantiationError(`knob '${knob}' = 1 packs ${tensor} along the vector axis, but ${vectorAxis ? `axis '${vectorAxis.name}' does not index one dimension of ${tensor} on its own` : 'the config has no vector axis'}`);
      }
      packed.push(tensor);
    }
  }
  return packed;
}
