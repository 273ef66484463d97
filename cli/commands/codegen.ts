// `flexfarm codegen <op> --shape … [--target cpu|sim] [--config JSON | --seed N]`: print the
// source the agent would compile for a config (a random valid one from the seed if none given).
import { createBackend } from '../../agent/backends/index.ts';
import { TARGET_KINDS } from '../../contracts/targets.ts';
import { randomValidConfigs } from '../../coordinator/random-configs.ts';
import { InstantiationError } from '../../tensor/errors.ts';
import { defineWorkload } from '../../tensor/ops/registry.ts';
import type { Config } from '../../tensor/templates/template.ts';
import { oneOf, parseFlags, parseInteger, parseShape, UsageError } from '../args.ts';
import { cacheDir } from '../cache-dir.ts';

/** The targets are the registry's, live. */
const usage = () => `usage: flexfarm codegen <op> --shape K=V[,K=V...] [--target ${TARGET_KINDS.join('|')}] [--config JSON | --seed N]`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    shape: { type: 'string' }, target: { type: 'string' }, config: { type: 'string' }, seed: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  if (positionals.length !== 1) throw new UsageError(`expected one operator\n${usage()}`);
  if (values.config !== undefined && values.seed !== undefined) throw new UsageError('give --config or --seed, not both');
  const def = defineWorkload(positionals[0], parseShape(values.shape));
  const target = oneOf('--target', values.target, TARGET_KINDS, 'cpu');
  // Rendering needs no device (a gpu backend checks configs against sm_90's limits, unprobed).
  const backend = createBackend(target, { cacheDir: cacheDir(), renderOnly: true });
  let config: Config;
  if (values.config !== undefined) {
    try { config = JSON.parse(values.config) as Config; } catch (err) {
      throw new UsageError(`--config is not valid JSON: ${(err as Error).message}`);
    }
  } else {
    const [drawn] = randomValidConfigs(backend.template, def, backend.limits, 1, parseInteger('--seed', values.seed, 0));
    if (!drawn) throw new InstantiationError(`no valid config for ${def.key} on ${target} found in random draws`);
    config = drawn;
  }
  process.stdout.write(backend.source(def, config));
  return 0;
}
