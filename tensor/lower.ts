// Apply a template config to an operator, and the unscheduled reference nest.
import type { ComputeDef } from './compute.ts';
import { InstantiationError } from './errors.ts';
import { float, load, loop, seq, v, type Stmt } from './ir.ts';
import type { Config, DeviceLimits, Template } from './templates/template.ts';

/** Check the config against the device limits, then lower it. Throws InstantiationError. */
export function lower(def: ComputeDef, template: Template, config: Config, limits: DeviceLimits): Stmt {
  try {
    template.check(def, config, limits);
    return template.lower(def, config);
  } catch (err) {
    if (err instanceof InstantiationError) throw err;
    throw new InstantiationError(`cannot instantiate config for ${def.key} on ${template.target}: ${(err as Error).message}`, { cause: err });
  }
}

/** The operator as written: spatial loops, a scalar accumulator, reduce loops. No schedule. */
export function lowerNaive(def: ComputeDef): Stmt {
  const spatialIndex = def.spatial.map((a) => v(a.name));
  let reduction: Stmt = { k: 'store', tensor: 'acc', index: [], value: def.body, accumulate: true };
  for (const a of [...def.reduce].reverse()) reduction = loop(a.name, a.extent, 'serial', reduction);
  let body: Stmt = seq(
    { k: 'alloc', name: 'acc', shape: [], scope: 'local' },
    { k: 'store', tensor: 'acc', index: [], value: float(0) },
    reduction,
    { k: 'store', tensor: def.output.name, index: spatialIndex, value: load('acc', []) },
  );
  for (const a of [...def.spatial].reverse()) body = loop(a.name, a.extent, 'serial', body);
  return body;
}
