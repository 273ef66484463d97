// Identity keys of what the tuning log holds: which device measured a record, and which config it
// is (knob order does not matter). Grouping by them is how best, transfer, re-measuring and the
// dispatcher's device pinning agree on "the same".
import type { DeviceInfo } from '../contracts/result.ts';
import type { Config } from '../tensor/templates/template.ts';

/** Identity of a device within its target: target, host name and model. */
export function deviceKey(r: { target: string; device: DeviceInfo }): string {
  return `${r.target}|${r.device.name}|${r.device.model}`;
}

/** Stable text of a config (knob order does not matter). */
export function configKey(config: Config): string {
  return Object.keys(config).sort().map((k) => `${k}=${JSON.stringify(config[k])}`).join(';');
}
