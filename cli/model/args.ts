// Flags the model subcommands share: the model file and --input bindings of dynamic dimensions.
import { UsageError } from '../args.ts';

/** `--input x=1,3,640,640` (given once per input) → { x: [1, 3, 640, 640] }. */
export function parseInputBindings(texts: string[] | undefined): Record<string, number[]> {
  const bindings: Record<string, number[]> = {};
  for (const text of texts ?? []) {
    const m = /^([^=]+)=(\d+(?:,\d+)*)$/.exec(text.trim());
    if (!m) throw new UsageError(`--input: cannot read '${text}': expected NAME=D1,D2,... with positive integers, e.g. --input x=1,3,640,640`);
    const dims = m[2].split(',').map(Number);
    if (dims.some((d) => d < 1)) throw new UsageError(`--input ${m[1]}: dimensions must be >= 1, got ${m[2]}`);
    if (m[1] in bindings) throw new UsageError(`--input: ${m[1]} given twice`);
    bindings[m[1]] = dims;
  }
  return bindings;
}

export function modelPath(positionals: string[], usage: string): string {
  if (positionals.length !== 1) throw new UsageError(`expected one model file (.onnx), got ${positionals.length ? positionals.join(' ') : 'none'}\n${usage}`);
  return positionals[0];
}
