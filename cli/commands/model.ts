// `flexfarm model <layers|tune|report> FILE.onnx ...`: a whole model's layers, read from ONNX.
import { UsageError } from '../args.ts';
import { LAYERS_USAGE, runLayers } from '../model/layers.ts';
import { REPORT_USAGE, runReport } from '../model/report.ts';
import { runTune, TUNE_USAGE } from '../model/tune.ts';

const SUBCOMMANDS: Record<string, { usage: string; run: (argv: string[]) => Promise<number> }> = {
  layers: { usage: LAYERS_USAGE, run: runLayers },
  tune: { usage: TUNE_USAGE, run: runTune },
  report: { usage: REPORT_USAGE, run: runReport },
};

const usage = () => ['usage: flexfarm model <subcommand> FILE.onnx [flags]', '', ...Object.values(SUBCOMMANDS).map((s) => s.usage)].join('\n');

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h') { process.stdout.write(`${usage()}\n`); return 0; }
  const sub = name !== undefined && Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (!sub) throw new UsageError(`${name ? `unknown subcommand '${name}'` : 'a subcommand is required'} (one of ${Object.keys(SUBCOMMANDS).join(', ')})\n${usage()}`);
  return sub.run(rest);
}
