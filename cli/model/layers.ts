// `flexfarm model layers FILE.onnx [--input NAME=dims] [--json]`: the model's distinct tunable
// workloads, how often each occurs and its share of the FLOPs; unmapped nodes with their reasons.
import { importModelLayers, type ModelLayers } from '../../coordinator/model-import/model-layers.ts';
import { parseFlags } from '../args.ts';
import { modelPath, parseInputBindings } from './args.ts';

export const LAYERS_USAGE = `usage: flexfarm model layers FILE.onnx [--input NAME=D1,D2,...] [--json]
  --input NAME=DIMS  the shape of graph input NAME (binds its dynamic dimensions); once per input
  --json             print {"layers": [{"op", "workload", "count", "flops", "share"}],
                     "unmapped": [{"node", "opType", "reason"}], ...} on stdout`;

export async function runLayers(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags(argv, {
    input: { type: 'string', multiple: true }, json: { type: 'boolean' }, help: { type: 'boolean' },
  });
  if (values.help) { process.stdout.write(`${LAYERS_USAGE}\n`); return 0; }
  const path = modelPath(positionals, LAYERS_USAGE);
  const result = importModelLayers(path, parseInputBindings(values.input));
  process.stdout.write(values.json ? `${JSON.stringify(layersJson(result), null, 2)}\n` : formatLayers(result));
  return 0;
}

export function layersJson(r: ModelLayers) {
  return {
    model: r.path, opset: r.opset, nodes: r.nodeCount, inputs: r.inputs,
    layers: r.layers.map(({ op, workload, count, flops, share }) => ({ op, workload, count, flops, share })),
    unmapped: r.unmapped, untuned: r.untuned, totalFlops: r.totalFlops,
  };
}

export function formatLayers(r: ModelLayers): string {
  const mapped = r.layers.reduce((s, l) => s + l.count, 0);
  const lines = [
    `${r.path}: ${r.nodeCount} nodes, opset ${r.opset}, input ${r.inputs.map((i) => `${i.name}=${i.shape.join(',')}`).join(' ')}`,
    `${r.layers.length} distinct workloads from ${mapped} nodes, ${(r.totalFlops / 1e9).toFixed(3)} GFLOP a run`,
    '',
    `${'count'.padStart(5)}  ${'share'.padStart(6)}  ${'MFLOP'.padStart(9)}  workload`,
    ...r.layers.map((l) => `${String(l.count).padStart(5)}  ${(100 * l.share).toFixed(1).padStart(5)}%  ${(l.flops / 1e6).toFixed(1).padStart(9)}  ${l.workload}`),
  ];
  if (r.unmapped.length) {
    lines.push('', `not mapped (${r.unmapped.length}):`, ...r.unmapped.map((u) => `  ${u.node} (${u.opType}): ${u.reason}`));
  }
  const untuned = Object.entries(r.untuned).sort((a, b) => b[1] - a[1]);
  if (untuned.length) lines.push('', `not tuned (element-wise, pooling, data movement): ${untuned.map(([op, n]) => `${op} ${n}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}
