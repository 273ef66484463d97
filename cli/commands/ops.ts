// `flexfarm ops [--json]`: the operators and their shape parameters.
import { opFamily, opNames } from '../../tensor/ops/registry.ts';
import { parseFlags } from '../args.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, { json: { type: 'boolean' }, help: { type: 'boolean' } }, false);
  if (values.help) { process.stdout.write('usage: flexfarm ops [--json]\n'); return 0; }
  const families = opNames().map(opFamily);
  if (values.json) {
    const list = families.map((f) => ({
      name: f.name,
      params: f.params.map((p) => p.name),
      defaults: Object.fromEntries(f.params.filter((p) => p.default !== undefined).map((p) => [p.name, p.default])),
      summary: f.summary,
      docs: Object.fromEntries(f.params.map((p) => [p.name, p.doc])),
    }));
    process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
    return 0;
  }
  for (const f of families) {
    const params = f.params.map((p) => (p.default !== undefined ? `${p.name}=${p.default}` : p.inherit ? `${p.name}=${p.inherit}` : p.name)).join(',');
    process.stdout.write(`${f.name.padEnd(18)} ${params}\n${' '.repeat(19)}${f.summary}\n`);
  }
  return 0;
}
