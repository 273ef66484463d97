// Config JSON: what `codegen --config`, a Measure request's config_json and a result's config
// carry. Each text is refused by the contract layer's reader or a template's check with a clear
// error naming the knob, or it renders a program on every target; never a crash or a hang.
import fc from 'fast-check';
import { createBackend } from '../../../agent/backends/index.ts';
import type { Backend } from '../../../contracts/backend.ts';
import { readConfig } from '../../../contracts/messages/device.ts';
import { TARGET_KINDS } from '../../../contracts/targets.ts';
import { randomValidConfigs } from '../../../coordinator/random-configs.ts';
import type { ComputeDef } from '../../../tensor/compute.ts';
import { defineWorkload } from '../../../tensor/ops/registry.ts';
import type { Config } from '../../../tensor/templates/template.ts';
import { absurdNumber, isClearError, jsonText, mutated } from '../absurd.ts';
import { checkProperty, type FuzzSurface } from '../fuzz-run.ts';

const DEFS: ComputeDef[] = [
  defineWorkload('gemm', { M: 24, N: 20, K: 12 }),
  defineWorkload('conv2d', { N: 1, C: 6, H: 9, W: 7, K: 8, R: 3, S: 3, stride: 2, pad: 1 }),
  defineWorkload('conv_transpose2d', { N: 1, C: 4, H: 5, W: 5, K: 6, R: 3, S: 3, stride: 2, pad: 1 }),
  defineWorkload('depthwise_conv2d', { N: 1, C: 8, H: 10, W: 10, R: 3, S: 3, pad: 1 }),
  defineWorkload('conv1d', { N: 1, C: 5, L: 31, K: 7, R: 5 }),
];

interface Case { def: ComputeDef; backend: Backend; base: Config }

let cases: Case[] | undefined;
function allCases(): Case[] {
  cases ??= TARGET_KINDS.flatMap((kind) => {
    const backend = createBackend(kind, { cacheDir: '/nonexistent', renderOnly: true });
    return DEFS.flatMap((def) => randomValidConfigs(backend.template, def, backend.limits, 3, 7).map((base) => ({ def, backend, base })));
  });
  return cases;
}

/** A valid config's factors and choices bent: off by one, zero, negative, huge, fractional. */
const nearNumber = fc.oneof(absurdNumber, fc.integer({ min: -2, max: 70 }));
const input = fc.nat().chain((i) => {
  const c = allCases()[i % allCases().length];
  return fc.tuple(fc.constant(c), fc.oneof(
    { weight: 4, arbitrary: mutated(c.base, fc.oneof(nearNumber, fc.array(nearNumber, { maxLength: 6 }))).map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: jsonText(c.base) },
  ));
});

export function checkConfig(c: Case, text: string): void {
  let config: Config;
  try {
    config = JSON.parse(text) as Config;
  } catch {
    return; // not JSON: refused before any reader (codegen: a usage error; the wire: WireError)
  }
  let readable = true;
  try {
    readConfig(config, 'config');
  } catch (err) {
    if (!isClearError(err)) throw new Error(`readConfig: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
    readable = false;
  }
  try {
    c.backend.template.check(c.def, config, c.backend.limits);
  } catch (err) {
    if (!isClearError(err)) throw new Error(`${c.backend.kind} check of ${text.slice(0, 200)} for ${c.def.key}: ${(err as Error).name}: ${(err as Error).message.slice(0, 300)}`, { cause: err });
    return;
  }
  if (!readable) throw new Error(`${c.backend.kind} accepted a config the contract layer refuses: ${text.slice(0, 300)}`);
  let source: string;
  try {
    source = c.backend.source(c.def, config);
  } catch (err) {
    throw new Error(`${c.backend.kind}: a config its check accepted failed to render (${text.slice(0, 300)}, ${c.def.key}): ${(err as Error).name}: ${(err as Error).message.slice(0, 300)}`, { cause: err });
  }
  if (!source.length) throw new Error(`${c.backend.kind}: empty source`);
}

export const configsSurface: FuzzSurface = {
  name: 'config JSON',
  run: (runs, options) => checkProperty('config JSON', input, ([c, text]) => checkConfig(c, text), runs, options),
};
