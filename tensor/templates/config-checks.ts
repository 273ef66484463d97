// Checks every template applies to a config before planning it: an object naming only the
// template's knobs, split factors inside their sub-space, choices among their entities. Errors
// name the knob.
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { checkFactors, isPerfect } from './split.ts';
import type { Config } from './template.ts';
import { quote, shown } from '../quote.ts';

/** A config is an object (knob name → entity); `null`, a number or an array is refused. */
export function checkConfigObject(config: unknown): asserts config is Config {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InstantiationError(`config must be an object, got ${shown(config)}`);
  }
}

export function checkKnobNames(def: ComputeDef, config: Config, target: string, knobNames: readonly string[]): void {
  checkConfigObject(config);
  for (const key of Object.keys(config)) {
    if (!knobNames.includes(key)) throw new InstantiationError(`unknown knob ${quote(key)} for ${def.op} on ${target} (expected: ${knobNames.join(', ')})`);
  }
}

/** Names of the split knobs, one per axis: the spatial axes', then the reduce axes'. */
export const splitKnobNames = (def: ComputeDef): string[] => [...def.spatial, ...def.reduce].map((a) => `split.${a.name}`);

/** The factors of knob `split.<axis>`, checked against its sub-space (`registerTile`: a spatial
 *  axis, whose innermost factor has more choices; see split.ts). */
export function splitFactors(config: Config, axis: { name: string; extent: number }, parts: number, registerTile: boolean): number[] {
  const factors = config[`split.${axis.name}`];
  if (factors === undefined) throw new InstantiationError(`missing knob 'split.${axis.name}'`);
  const problem = checkFactors(factors, parts, axis.extent, registerTile);
  if (problem) throw new InstantiationError(`knob 'split.${axis.name}': ${problem}`);
  return factors as number[];
}

/** An axis as a plan sees it: its split factors, outermost first, and whether they cover the
 *  extent exactly (no tail guard). */
export interface AxisPlan { name: string; extent: number; factors: number[]; perfect: boolean }

export function planAxis(config: Config, axis: { name: string; extent: number }, parts: number, registerTile: boolean): AxisPlan {
  const factors = splitFactors(config, axis, parts, registerTile);
  return { name: axis.name, extent: axis.extent, factors, perfect: isPerfect(factors, axis.extent) };
}

/** The value of a choice knob, checked against its entities. */
export function choiceKnob(config: Config, knob: string, entities: readonly number[]): number {
  const value = config[knob];
  if (typeof value !== 'number' || !entities.includes(value)) {
    throw new InstantiationError(`knob '${knob}' must be one of ${entities.join(', ')}, got ${shown(value)}`);
  }
  return value;
}
