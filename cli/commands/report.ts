// `flexfarm report --records FILE [--records FILE…] --out FILE.html`: one self-contained HTML
// report (convergence curves, best kernels, cross-device comparison) viewable offline.
import { writeReport } from '../../coordinator/report/write-report.ts';
import { parseFlags, UsageError } from '../args.ts';

const USAGE = `usage: flexfarm report --records FILE [--records FILE...] --out FILE.html
  --records FILE  tuning log (JSONL); give it several times to compare logs in one report
  --out FILE      the HTML file to write (inline SVG and CSS: no network needed to view it)`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    records: { type: 'string', multiple: true }, out: { type: 'string' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${USAGE}\n`); return 0; }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'\n${USAGE}`);
  if (!values.records?.length) throw new UsageError(`--records is required\n${USAGE}`);
  if (!values.out) throw new UsageError(`--out is required\n${USAGE}`);
  const data = writeReport({ recordsPaths: values.records, outFile: values.out, warn: (m) => process.stderr.write(`warning: ${m}\n`) });
  process.stdout.write(`wrote ${values.out}: ${data.workloads.length} workloads, ${data.devices.length} devices, ${data.measurements} measurements\n`);
  return 0;
}
