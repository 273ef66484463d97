// Distinct random configs of a template's space that pass its check against device limits:
// what `flexfarm codegen` shows when no config is given, and what correctness tests sweep.
import type { ComputeDef } from '../tensor/compute.ts';
import { InstantiationError } from '../tensor/errors.ts';
import type { Config, DeviceLimits, Template } from '../tensor/templates/template.ts';
import { Rng } from './explore/rng.ts';
import { Space } from './space.ts';

/** Random draws per wanted config before giving up (most spaces are mostly valid). */
const DRAWS_PER_CONFIG = 1000;

export function randomValidConfigs(template: Template, def: ComputeDef, limits: DeviceLimits, count: number, seed: number): Config[] {
  const space = new Space(template.knobs(def));
  const rng = new Rng(seed);
  const seen = new Set<string>();
  const configs: Config[] = [];
  for (let draw = 0; configs.length < count && draw < DRAWS_PER_CONFIG * count; draw++) {
    const point = space.randomPoint(rng);
    const key = space.pointKey(point);
    if (seen.has(key)) continue;
    seen.add(key);
    const config = space.toConfig(point);
    try {
      template.check(def, config, limits);
    } catch (err) {
      if (err instanceof InstantiationError) continue;
      throw err;
    }
    configs.push(config);
  }
  return configs;
}
