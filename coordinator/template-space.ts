// The space a campaign explores for one workload on one device class: the template's knobs,
// filtered to the configs the template accepts under the device's limits and deems worth
// measuring there (so the explorer never proposes what would only fail to instantiate).
import type { ComputeDef } from '../tensor/compute.ts';
import type { Config, DeviceLimits, Template } from '../tensor/templates/template.ts';
import { Space } from './space.ts';

export function templateSpace(template: Template, def: ComputeDef, limits: DeviceLimits = {}): Space {
  return new Space(template.knobs(def), { accepts: acceptedBy(template, def, limits) });
}

function acceptedBy(template: Template, def: ComputeDef, limits: DeviceLimits): (config: Config) => boolean {
  return (config) => {
    try { template.check(def, config, limits); } catch { return false; }
    return !template.unpromising?.(def, config, limits);
  };
}
