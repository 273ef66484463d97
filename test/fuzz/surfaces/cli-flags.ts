// CLI flags: generated argv for the commands whose work is bounded (ops, codegen, best, report,
// export, and campaign / agents against an in-process coordinator), run in this process. Each
// ends with a status and, on a refusal, one of flexfarm's errors with a bounded message — never a
// TypeError or a raw Node error, never a hang; the tuning log it reads stays as it was.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { opNames } from '../../../tensor/ops/registry.ts';
import { absurdString, isClearError } from '../absurd.ts';
import { checkProperty, type FuzzSurface } from '../fuzz-run.ts';
import { EARLIER_LINE, startGrpcPeers } from './grpc-peers.ts';

const COMMANDS: Record<string, { flags: string[]; positionals: string[] }> = {
  ops: { flags: ['json', 'help'], positionals: [] },
  codegen: { flags: ['shape', 'target', 'config', 'seed', 'help'], positionals: opNames() },
  best: { flags: ['records', 'workload', 'target', 'json', 'help', 'top'], positionals: [] },
  report: { flags: ['records', 'out', 'help'], positionals: [] },
  export: { flags: ['records', 'workload', 'target', 'out', 'help'], positionals: [] },
  campaign: { flags: ['shape', 'targets', 'trials', 'explorer', 'seed', 'repeat', 'min-repeat-ms', 'remeasure', 'json', 'help'], positionals: ['submit', 'get', 'list', 'cancel', 'nope'] },
  agents: { flags: ['json', 'help'], positionals: [] },
};

function argvFor(records: string, out: string) {
  const value = fc.oneof(
    { weight: 3, arbitrary: absurdString.filter((s) => s.length < 5_000) },
    { weight: 3, arbitrary: fc.constantFrom('1', '0', '-1', '4294967295', '1e3', '2.5', 'M=16,N=16,K=16', 'sim', 'cpu,sim', 'random', '{}', 'null', records, out, '/proc/version', '/', '') },
  );
  return fc.constantFrom(...Object.keys(COMMANDS)).chain((command) => {
    const spec = COMMANDS[command];
    const flag = fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...spec.flags) }, { weight: 1, arbitrary: fc.constantFrom('coordinator', 'bogus', 'shape=M=1', '') });
    const pair = fc.tuple(flag, value).map(([f, v]) => (f === 'json' || f === 'help' ? [`--${f}`] : [`--${f}`, v]));
    return fc.tuple(fc.array(fc.oneof(fc.constantFrom(...(spec.positionals.length ? spec.positionals : ['x'])), absurdString.filter((s) => s.length < 100)), { maxLength: 2 }), fc.array(pair, { maxLength: 6 }))
      .map(([pos, pairs]) => [command, ...pos.slice(0, command === 'campaign' || command === 'codegen' ? 2 : 0), ...pairs.flat()]);
  });
}

async function runCli(runs: number, options?: { seed?: number }) {
  const peers = await startGrpcPeers();
  const dir = mkdtempSync(join(tmpdir(), 'flexfarm-fuzz-cli-'));
  const records = join(dir, 'records.jsonl');
  writeFileSync(records, `${EARLIER_LINE}\n`);
  const out = join(dir, 'out');
  const saved = { out: process.stdout.write, err: process.stderr.write, env: process.env.FLEXFARM_COORDINATOR };
  process.env.FLEXFARM_COORDINATOR = peers.coordinator.address;
  // Relative --out and --records values land in the temporary folder, not the repository.
  const cwd = process.cwd();
  mkdirSync(join(dir, 'work'));
  process.chdir(join(dir, 'work'));
  const modules = new Map<string, { run(argv: string[]): Promise<number> }>();
  try {
    for (const name of Object.keys(COMMANDS)) modules.set(name, await import(`../../../cli/commands/${name}.ts`));
    const outcome = await checkProperty('CLI flags', argvFor(records, out), async ([command, ...argv]) => {
      const silent = (() => true) as typeof process.stdout.write;
      process.stdout.write = silent;
      process.stderr.write = silent;
      try {
        const code = await modules.get(command)!.run(argv);
        if (![0, 1, 2].includes(code)) throw new Error(`exit status ${code}`);
      } catch (err) {
        if (!isClearError(err)) throw new Error(`flexfarm ${[command, ...argv].map((a) => a.slice(0, 60)).join(' ')}: ${(err as Error)?.name}: ${String((err as Error)?.message).slice(0, 300)}`, { cause: err });
      } finally {
        process.stdout.write = saved.out;
        process.stderr.write = saved.err;
      }
    }, runs, options);
    for (const c of peers.farm.list()) if (c.state === 'running') peers.farm.cancel(c.id);
    if (readFileSync(records, 'utf8') !== `${EARLIER_LINE}\n`) throw new Error('the tuning log changed');
    return outcome;
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.chdir(cwd);
    if (saved.env === undefined) delete process.env.FLEXFARM_COORDINATOR; else process.env.FLEXFARM_COORDINATOR = saved.env;
    await peers.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export const cliSurface: FuzzSurface = { name: 'CLI flags', run: runCli };
