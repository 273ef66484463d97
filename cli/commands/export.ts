// `flexfarm export --records FILE --workload KEY --target T --out DIR [--force]`: the best kernel
// as a standalone source tree (kernel, reference, harness, Makefile, README).
import { TARGET_KINDS } from '../../contracts/targets.ts';
import { parseFlags, UsageError } from '../args.ts';
import { exportKernel } from '../export-kernel.ts';
import { formatSeconds } from '../progress.ts';

/** The targets are the registry's, live. */
const usage = () => `usage: flexfarm export --records FILE --workload KEY --target ${TARGET_KINDS.join('|')} --out DIR [--force]
  --workload KEY  a workload key, e.g. 'gemm(M=512,N=512,K=512,dtype=float32)'
  --target T      cpu exports the measured kernel; sim exports the CPU kernel of the best sim
                  config (its recorded figure is a simulated estimate, and the README says so)
  --out DIR       created; must be empty unless --force
Then: cd DIR && make run`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    records: { type: 'string' }, workload: { type: 'string' }, target: { type: 'string' }, out: { type: 'string' },
    force: { type: 'boolean' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${usage()}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${usage()}`);
  for (const flag of ['records', 'workload', 'target', 'out'] as const) {
    if (!values[flag]) throw new UsageError(`--${flag} is required\n${usage()}`);
  }
  const result = exportKernel({
    recordsPath: values.records!, workload: values.workload!, target: values.target!, outDir: values.out!,
    force: values.force, warn: (m) => process.stderr.write(`warning: ${m}\n`),
  });
  const e = result.entry;
  const figure = `${formatSeconds(e.seconds)}${e.gflops === null ? '' : `, ${e.gflops.toFixed(1)} GFLOP/s`}`;
  process.stdout.write([
    `exported ${e.workload} (${e.target}${e.simulated ? ', SIMULATED figure' : ''}: ${figure}${e.remeasured ? `, re-measured: median of ${e.remeasured.runs} fresh runs` : ', not re-measured'}) to ${result.outDir}`,
    `  files: ${result.files.join(', ')}`,
    `  build and check: cd ${result.outDir} && make run`,
  ].join('\n') + '\n');
  return 0;
}
