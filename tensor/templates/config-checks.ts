// Checks every template applies to a config before planning it: an object naming only the
// template's knobs, and split factors inside their sub-space. Errors name the knob.
import type { ComputeDef } from '../compute.ts';
import { InstantiationError } from '../errors.ts';
import { checkFactors } from './split.ts';
import type { Config } from './template.ts';

export function checkKnobNames(def: ComputeDef, config: Config, target: string, knobNames: readonly string[]): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new InstantiationError(`config must be an object, got ${JSON.stringify(config)}`);
  }
  for (const key of Object.keys(config)) {
    if (!knobNames.includes(key)) throw new InstantiationError(`unknown knob '${key}' for ${def.op} on ${target} (expected: ${knobNames.join(', ')})`);
  }
}

/** The factors of knob `split.<axis>`, checked against its sub-space. */
export function splitFactors(config: Config, axis: { name: string; extent: number }, parts: number): number[] {
  const factors = config[`split.${axis.name}`];
  if (factors === undefined) throw new InstantiationError(`missing knob 'split.${axis.name}'`);
  const problem = checkFactors(factors, parts, axis.extent);
  if (problem) throw new InstantiationError(`knob 'split.${axis.name}': ${problem}`);
  return factors as number[];
}
